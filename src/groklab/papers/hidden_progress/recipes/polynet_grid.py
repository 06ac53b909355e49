"""SGD on PolyNets over a batch-size / learning-rate grid (Barak et al. Thm 8 / Fig 6 row 2; claim 14).

Theorem 8 proves that online SGD on a PolyNet f(x) = prod_i w_i . x learns (n,k)-parity in
n^O(k) steps from a Unif{+-1} init. The paper's Fig 6 row 2 runs PolyNet (xv) on (50,3) at six
(B, eta) pairs; the check asks that every pair succeeds, and that the disjoint-PolyNet of the
theory (one factor per block of n/k coordinates) learns (30,3) with online SGD. "Success" is the
spec's (1.6): t_c <= budget, a statement about each seed; the verdict asks it of every seed of
every pair (Thm 8 itself promises success only with probability 1/2 over the init).
"""
from __future__ import annotations

import numpy as np
from pydantic import Field, model_validator

from groklab import analysis
from groklab.config import make_config
from groklab.experiments.base import ExperimentOptions, experiment, figure_dir
from groklab.figures import plt, save_figure
from groklab.models.init import Scheme
from groklab.plan import Plan
from groklab.runner import execute_plan
from groklab.store import Store


class PolyNetGridOptions(ExperimentOptions):
    n: int = Field(50, gt=0, description="input dimension of the PolyNet runs")
    k: int = Field(3, gt=0, description="parity degree (= number of factors)")
    batches: tuple[int, ...] = Field((1, 4, 16, 64, 256, 1024), description="batch sizes, paired with lrs")
    lrs: tuple[float, ...] = Field((0.005, 0.01, 0.1, 0.1, 0.1, 0.1), description="learning rates, one per batch")
    init: Scheme = Field("bernoulli", description="init scheme of the factors (Thm 8: Unif{+-1}, i.e. 'sign'; "
                      "'bernoulli' is Unif{+-c} with Xavier's c)")
    trials: int = Field(4, gt=0, description="seeds per (B, lr) pair (25 in the paper)")
    max_steps: int = Field(100_000, gt=0, description="step budget per trial (10^5 in the paper)")
    eval_every: int = Field(100, gt=0, description="steps between evaluations")
    disjoint_n: int = Field(30, gt=0, description="input dimension of the disjoint-PolyNet run")
    disjoint_batch: int = Field(16, gt=0, description="batch size of the disjoint-PolyNet run")
    disjoint_lr: float = Field(0.03, gt=0, description="learning rate of the disjoint-PolyNet run")

    @model_validator(mode="after")
    def _pairs(self) -> "PolyNetGridOptions":
        if len(self.batches) != len(self.lrs):
            raise ValueError(f"lrs must have one learning rate per batch size ({len(self.batches)} batches, "
                             f"{len(self.lrs)} lrs)")
        return self


def polynet_config(n, k, model: str, init: str, batch: int, lr: float, max_steps: int, eval_every: int):
    return make_config({"name": "parity", "n": n, "k": k, "disjoint": model == "disjoint-polynet"},
                       {"name": model, "degree": k, "init": init}, loss={"name": "hinge"},
                       optimizer={"name": "sgd", "lr": lr},
                       train={"batch_size": batch, "max_steps": max_steps, "eval_every": eval_every})


def plot_grid(labels: list[str], steps: list[np.ndarray], path, title: str) -> str:
    figure, ax = plt.subplots(figsize=(7, 4))
    for i, values in enumerate(steps):
        finite = values[np.isfinite(values)]
        ax.scatter(np.full(len(finite), i), finite, color="tab:blue", s=14)
        if len(finite) < len(values):
            ax.scatter([i], [ax.get_ylim()[1] if len(finite) else 1], marker="x", color="tab:red",
                       label="unsolved" if i == 0 else None)
    ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right")
    ax.set_yscale("log")
    ax.set_ylabel("t_c (steps)")
    ax.set_title(title)
    return str(save_figure(figure, path))


@experiment("polynet-grid", PolyNetGridOptions,
            "PolyNet over (B, lr) pairs on (50,3) and disjoint-PolyNet on (30,3) with online SGD (claim 14)")
def run_polynet_grid(options: PolyNetGridOptions, store: Store, workers, quiet) -> dict:
    runs = {f"polynet B={b} lr={lr}": polynet_config(options.n, options.k, "polynet", options.init, b, lr,
                                                       options.max_steps, options.eval_every)
            for b, lr in zip(options.batches, options.lrs)}
    runs[f"disjoint-polynet ({options.disjoint_n},{options.k}) B={options.disjoint_batch} lr={options.disjoint_lr}"] = \
        polynet_config(options.disjoint_n, options.k, "disjoint-polynet", options.init, options.disjoint_batch,
                       options.disjoint_lr, options.max_steps, options.eval_every)
    stats = execute_plan(Plan("polynet-grid", tuple(runs.values()), options.seed, options.trials), store, workers,
                         quiet=quiet)
    results, all_steps = {}, []
    for label, config in runs.items():
        steps = store.convergence_steps(config.config_hash(), options.seed, range(options.trials))
        summary = analysis.convergence_summary(steps, budget=options.max_steps)
        kept = ("solved", "trials", "success_rate", "median_convergence_step")
        results[label] = {**{key: summary[key] for key in kept},
                          "convergence_steps": [int(s) if s >= 0 else None for s in steps],
                          "batch_size": config.train.batch_size, "lr": config.optimizer.lr,
                          "model": config.model.name, "n": config.task.n}
        all_steps.append(analysis.censored_steps(steps))
    figure = plot_grid(list(results), all_steps, figure_dir(store) / f"polynet-grid-n{options.n}-k{options.k}.png",
                       f"PolyNet ({options.n},{options.k}), init {options.init}, {options.trials} seeds each")
    passed = all(r["solved"] == r["trials"] for r in results.values())
    return {
        "claim": f"14: every seed of every (B, lr) pair and of the disjoint-PolyNet succeeds (t_c <= "
                 f"{options.max_steps} steps)",
        "verdict": "PASS" if passed else "FAIL",
        "figures": [figure],
        "runs": results,
        "wall_seconds": round(stats["wall_seconds"], 2),
    }
