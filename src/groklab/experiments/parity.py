"""Single-config sparse-parity runs: t_c statistics, plateau check and figures (Barak et al. Fig 1)."""
from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field

from groklab import analysis, defaults, figures
from groklab.config import make_config
from groklab.experiments.base import BaselineOptions, experiment
from groklab.models.init import Scheme
from groklab.plan import Plan
from groklab.runner import execute_plan
from groklab.specs import TrialConfig
from groklab.store import Store

CLAIM_1_SOLVED = 0.8  # claim 1: >= 4/5 seeds reach 100% validation accuracy within the budget
CLAIM_1_PLATEAU = 0.55  # claim 1: validation accuracy <= 0.55 at t = t_c / 2


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
    per_trial = analysis.plateau_accuracies(curves, converged, 0.5)
    summary["plateau_accuracy_per_trial"] = [per_trial.get(int(i)) for i in rows["trial_index"]]
    summary["plateau_accuracy_at_half_tc"] = float(np.mean(list(per_trial.values()))) if per_trial else None
    summary["config_hash"] = config.config_hash()
    # Claim 1's reading of Fig 1 (a plateau, then an abrupt drop): >= 4/5 of the trials converge,
    # and every converged trial's validation accuracy halfway to its t_c is still near chance.
    summary["claim"] = f"1: >= {CLAIM_1_SOLVED:.0%} of trials converge and each one's validation accuracy at " \
                       f"t_c/2 is <= {CLAIM_1_PLATEAU}"
    summary["verdict"] = ("PASS" if summary["success_rate"] >= CLAIM_1_SOLVED and per_trial
                          and max(per_trial.values()) <= CLAIM_1_PLATEAU else "FAIL")
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
    tag = f"{config.task.name}-n{config.task.n}-k{config.task.k}-{config.config_hash()[:8]}"
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


class ParityRunOptions(BaselineOptions):
    trials: int = Field(32, gt=0, description="number of trials E (trial indices 0..E-1)")
    loss: Literal["hinge", "square", "logistic", "correlation"] = Field(defaults.LOSS, description="training loss")
    optimizer: Literal["sgd", "adam", "adamw"] = Field(defaults.OPTIMIZER, description="optimizer (lr: --lr)")
    weight_decay: float = Field(0.0, ge=0, description="weight decay lambda (decoupled, Barak et al. eq. 1)")
    activation: Literal["relu", "power"] = Field(defaults.ACTIVATION, description="relu | power (z^degree)")
    degree: int = Field(2, ge=1, description="k of the z^k activation")
    init: Scheme = Field(defaults.INIT, description="uniform (Xavier) | gaussian (Kaiming) | bernoulli | sign")
    init_scale: float = Field(1.0, gt=0, description="multiplies every initial weight")
    samples: int | None = Field(None, gt=0, description="finite training set size m (default: online)")
    label_noise: float = Field(0.0, ge=0, lt=0.5, description="probability q a training label is flipped")
    disjoint: bool = Field(False, description="one support coordinate per block of n/k")
    probes: tuple[str, ...] = Field((), description="registered probes recorded at every evaluation, "
                                    "e.g. hidden-progress")
    chunk_size: int | None = Field(None, gt=0, description="trials per chunk (default: sized to the workers; "
                                   "results do not depend on it)")

    def config(self) -> TrialConfig:
        return make_config(
            {"name": "parity", "n": self.n, "k": self.k, "samples": self.samples, "label_noise": self.label_noise,
             "disjoint": self.disjoint},
            {"name": "mlp", "width": self.width, "activation": self.activation, "degree": self.degree,
             "init": self.init, "init_scale": self.init_scale},
            loss={"name": self.loss},
            optimizer={"name": self.optimizer, "lr": self.lr, "weight_decay": self.weight_decay},
            train={"batch_size": self.batch, "max_steps": self.max_steps, "eval_every": self.eval_every},
            probes=self.probes)


@experiment("parity", ParityRunOptions, "E trials of one (n,k)-parity config: t_c statistics, curves, histogram "
            "and claim 1's verdict")
def run_parity_recipe(options: ParityRunOptions, store: Store, workers, quiet) -> dict:
    return run_parity(options.config(), options.seed, options.trials, store, workers, options.chunk_size, quiet)
