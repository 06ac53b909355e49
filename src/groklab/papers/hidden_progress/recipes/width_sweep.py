"""t_c against the width r of the ReLU MLP (Barak et al. Fig 4 left / Fig 14; claim 15).

More neurons are more parallel "lottery tickets", but the paper finds no r-fold speed-up: the
median t_c plateaus as r grows while its spread across trials shrinks.
"""
from __future__ import annotations

import numpy as np
from pydantic import Field

from groklab import analysis
from groklab.config import make_config
from groklab.experiments.base import (
    BudgetOptions,
    ParityOptions,
    SGDOptions,
    experiment,
    figure_dir,
)
from groklab.figures import plt, save_figure
from groklab.plan import Plan
from groklab.runner import execute_plan
from groklab.store import Store

SPEEDUP_FLOOR = 0.3  # claim 15: median t_c(r=1000) >= 0.3 x median t_c(r=100)


class WidthOptions(ParityOptions, SGDOptions, BudgetOptions):
    n: int = Field(40, gt=0, description="input dimension (Fig 4 left: (40,3))")
    max_steps: int = Field(50_000, gt=0, description="step budget per trial (width 10 is slower than the baseline)")
    widths: tuple[int, ...] = Field((10, 100, 1000), description="hidden widths r (up to 3e6 in the paper)")
    trials: int = Field(16, gt=0, description="trials per width (1000 in the paper)")


def interquartile_range(steps: np.ndarray) -> float:
    """IQR of t_c with unsolved trials at +inf (an IQR touching them is infinite)."""
    q1, q3 = (analysis._quantile_allowing_inf(steps, q) for q in (0.25, 0.75))
    return q3 - q1


def plot_width(widths, steps_by_width: dict, path, title: str) -> str:
    figure, ax = plt.subplots(figsize=(6.5, 4))
    for r in widths:
        finite = steps_by_width[r][np.isfinite(steps_by_width[r])]
        ax.scatter(np.full(len(finite), r) * np.exp(np.random.default_rng(r).uniform(-0.08, 0.08, len(finite))),
                   finite, s=8, alpha=0.4, color="tab:blue")
    medians = [np.median(steps_by_width[r]) for r in widths]
    ax.plot(widths, medians, "o-", color="tab:red", label="median t_c")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("width r")
    ax.set_ylabel("t_c (steps)")
    ax.set_title(title)
    ax.legend()
    return str(save_figure(figure, path))


@experiment("width-sweep", WidthOptions, "median and spread of t_c vs MLP width: no r-fold speed-up (claim 15)")
def run_width_sweep(options: WidthOptions, store: Store, workers, quiet) -> dict:
    widths = sorted(set(options.widths))
    configs = {r: make_config({"name": "parity", "n": options.n, "k": options.k}, {"name": "mlp", "width": r},
                              loss={"name": "hinge"}, optimizer={"name": "sgd", "lr": options.lr},
                              train={"batch_size": options.batch, "max_steps": options.max_steps,
                                     "eval_every": options.eval_every})
               for r in widths}
    stats = execute_plan(Plan("width-sweep", tuple(configs.values()), options.seed, options.trials), store, workers,
                         quiet=quiet)
    per_width, steps_by_width = {}, {}
    for r, config in configs.items():
        steps = store.convergence_steps(config.config_hash(), options.seed, range(options.trials))
        steps_by_width[r] = analysis.censored_steps(steps)
        per_width[r] = {**analysis.convergence_summary(steps, budget=options.max_steps),
                        "iqr": analysis._finite_or_none(interquartile_range(steps_by_width[r]))}
    checks = []
    if 100 in per_width and 1000 in per_width:
        m100, m1000 = (per_width[r]["median_convergence_step"] for r in (100, 1000))
        checks.append(m100 is not None and m1000 is not None and m1000 >= SPEEDUP_FLOOR * m100)
    iqrs = [per_width[r]["iqr"] for r in widths if per_width[r]["iqr"] is not None]
    shrinking = len(iqrs) >= 2 and iqrs[-1] < iqrs[0]
    checks.append(shrinking)
    figure = plot_width(widths, steps_by_width, figure_dir(store) / f"width-sweep-n{options.n}-k{options.k}.png",
                        f"({options.n},{options.k})-parity, B={options.batch}, lr={options.lr}, "
                        f"{options.trials} trials per width")
    return {
        "claim": f"15: median t_c(r=1000) >= {SPEEDUP_FLOOR} x median t_c(r=100) (no r-fold speed-up); "
                 "the IQR shrinks from the smallest to the largest width",
        "verdict": "PASS" if all(checks) else "FAIL",
        "figures": [figure],
        "per_width": {str(r): {key: per_width[r][key] for key in ("solved", "trials", "median_convergence_step",
                                                                  "median_ci_low", "median_ci_high", "iqr")}
                      for r in widths},
        "wall_seconds": round(stats["wall_seconds"], 2),
    }
