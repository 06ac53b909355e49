"""Single-config sparse-parity runs: t_c statistics, plateau check and figures (Barak et al. Fig 1)."""
from __future__ import annotations

import numpy as np

from groklab import analysis, figures, registry
from groklab.plan import Plan
from groklab.runner import execute_plan
from groklab.specs import TrialConfig
from groklab.store import Store


def summarize(store: Store, config: TrialConfig, seed: int, trials: int) -> tuple[dict, dict]:
    """(summary, curves) of trials 0..trials-1 of (config, seed) as stored; the summary is
    JSON-serializable, the curves are in the store's long format."""
    rows = store.trials_for(config.config_hash(), seed, range(trials))
    steps = [int(s) if ok else None for s, ok in zip(rows["convergence_step"], rows["converged"])]
    summary = analysis.convergence_summary(steps, budget=config.train.max_steps)
    curves = store.curves_for(config.config_hash(), seed, range(trials))
    converged = {int(i): s for i, s in zip(rows["trial_index"], steps) if s is not None}
    summary["convergence_steps"] = steps
    summary["diverged"] = int(np.sum(rows["status"] == "diverged"))
    summary["plateau_accuracy_at_half_tc"] = (analysis.plateau_accuracy(curves, converged, 0.5)
                                             if converged else None)
    summary["config_hash"] = config.config_hash()
    # Claim 1's reading of Fig 1 (a plateau, then an abrupt drop): most trials converge, and the
    # validation accuracy halfway to t_c is still near chance.
    plateau = summary["plateau_accuracy_at_half_tc"]
    summary["claim"] = "1: >= 80% of trials converge and mean validation accuracy at t_c/2 <= 0.55"
    summary["verdict"] = ("PASS" if summary["success_rate"] >= 0.8 and plateau is not None and plateau <= 0.55
                          else "FAIL")
    return summary, curves


def run_parity(config: TrialConfig, seed: int, trials: int, store: Store, workers: int | None = None,
               chunk_size: int | None = None, quiet: bool = False, experiment: str = "parity") -> dict:
    plan = Plan(experiment=experiment, configs=(config,), seed=seed, trials=trials)
    stats = execute_plan(plan, store, workers, chunk_size, quiet)
    summary, curves = summarize(store, config, seed, trials)
    summary["trial_steps_per_second"] = (stats["trial_steps"] / stats["wall_seconds"]
                                         if stats["wall_seconds"] > 0 else None)
    summary["trials_run_now"] = stats["trials_run"]
    summary["wall_seconds"] = round(stats["wall_seconds"], 3)
    fig_dir = store.root / "figures"
    fig_dir.mkdir(parents=True, exist_ok=True)
    tag = f"{config.task.name}-n{getattr(config.task, 'n', '')}-k{getattr(config.task, 'k', '')}-{config.config_hash()[:8]}"
    summary["figures"] = [
        str(figures.plot_training_curves(curves, fig_dir / f"{tag}-curves.png", title=_title(config))),
        str(figures.plot_convergence_histogram(summary["convergence_steps"], fig_dir / f"{tag}-tc-hist.png",
                                               budget=config.train.max_steps, title=_title(config))),
    ]
    summary["store"] = str(store.root)
    return summary


def _title(config: TrialConfig) -> str:
    t, m, o = config.task, config.model, config.optimizer
    return (f"({t.n},{t.k})-parity, {m.activation} MLP r={m.width}, {o.name} lr={o.lr}, "
            f"B={config.train.batch_size}, {config.loss.name}")


registry.experiments.register("parity", version="1", spec_class=TrialConfig,
                              description="E trials of one (n,k)-parity config: t_c stats, curves, histogram")(run_parity)
