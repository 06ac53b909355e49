"""t_c versus n at fixed k with a power-law fit (Barak et al. Fig 1 right; claim 2)."""
from __future__ import annotations

from groklab import analysis, figures, registry
from groklab.plan import Plan
from groklab.runner import execute_plan
from groklab.specs import TrialConfig, make_config
from groklab.store import Store

# The paper-calibrated baseline: ReLU MLP r=100, B=32, SGD lr 0.1, hinge, eval every 100 steps.
DEFAULT_NS = (20, 30, 40, 50)
EXPONENT_RANGE = (1.5, 3.5)  # claim 2's acceptance interval for k = 3 ([cal] 2.1)


def scaling_configs(ns, k: int, width: int, batch: int, lr: float, max_steps: int) -> list[TrialConfig]:
    return [make_config({"name": "parity", "n": n, "k": k}, {"name": "mlp", "width": width},
                        loss={"name": "hinge"}, optimizer={"name": "sgd", "lr": lr},
                        train={"batch_size": batch, "max_steps": max_steps}) for n in ns]


def run_parity_scaling(configs: list[TrialConfig], seed: int, trials: int, store: Store, workers=None,
                       chunk_size=None, quiet=False) -> dict:
    plan = Plan(experiment="parity-scaling", configs=tuple(configs), seed=seed, trials=trials)
    stats = execute_plan(plan, store, workers, chunk_size, quiet)
    budget = configs[0].train.max_steps
    steps_by_n, per_n = {}, {}
    for config in configs:
        rows = store.trials_for(config.config_hash(), seed, range(trials))
        steps = [int(s) if ok else None for s, ok in zip(rows["convergence_step"], rows["converged"])]
        steps_by_n[config.task.n] = steps
        per_n[config.task.n] = analysis.convergence_summary(steps, budget=budget)
    fit = analysis.fit_power_law(sorted(steps_by_n), steps_by_n, budget=budget)
    fig_dir = store.root / "figures"
    fig_dir.mkdir(parents=True, exist_ok=True)
    k = configs[0].task.k
    figure = figures.plot_scaling(fit, steps_by_n, fig_dir / f"parity-scaling-k{k}.png",
                                  title=f"t_c vs n, k={k}: ReLU MLP r={configs[0].model.width}, "
                                        f"B={configs[0].train.batch_size}, SGD lr={configs[0].optimizer.lr}")
    low, high = EXPONENT_RANGE
    return {
        "k": k, "trials_per_n": trials, "per_n": per_n, "fit": fit.as_dict(),
        "verdict": "PASS" if k == 3 and low <= fit.exponent <= high else ("FAIL" if k == 3 else "n/a"),
        "claim": f"k=3 exponent in [{low}, {high}] (Barak et al. claim 2)",
        "figure": str(figure), "store": str(store.root),
        "trial_steps_per_second": stats["trial_steps"] / stats["wall_seconds"] if stats["wall_seconds"] else None,
        "wall_seconds": round(stats["wall_seconds"], 3),
    }


registry.experiments.register("parity-scaling", version="1", spec_class=TrialConfig,
                              description="t_c vs n at fixed k with a power-law fit and bootstrap CI")(run_parity_scaling)
