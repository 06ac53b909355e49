"""The distribution of t_c over many trials against the geometric law of random search
(Barak et al. Fig 2 left; claim 6: "no lucky early successes").

If SGD found the support S by trying subsets at random, one guess per step, t_c would be
geometric: P(t_c = t) = p (1 - p)^(t-1), whose mode is the first step. With p matched to the
observed mean (the most favourable geometric for the data) a geometric law still puts
1 - (1 - p)^(0.2 * median) of its mass below a fifth of the median, about 13% at (20,3). SGD
instead shows a unimodal distribution with its mode far from 0 and essentially no early successes.
"""
from __future__ import annotations

import math

import numpy as np
from pydantic import Field

from groklab import analysis
from groklab.config import make_config
from groklab.experiments.base import BaselineOptions, experiment, figure_dir
from groklab.figures import plt, save_figure
from groklab.plan import Plan
from groklab.runner import execute_plan
from groklab.store import Store

EARLY_FRACTION = 0.2  # claim 6: the minimum t_c is at least this fraction of the median


class DistributionOptions(BaselineOptions):
    n: int = Field(20, gt=0, description="input dimension n (Fig 2 left: (20,3))")
    eval_every: int = Field(50, gt=0, description="steps between evaluations: half the baseline's, a finer t_c "
                            "resolution for the histogram")
    trials: int = Field(10_000, gt=0, description="independent trials (10^6 as an option for a GPU)")


def geometric_reference(steps: np.ndarray, n: int, k: int, eval_every: int) -> dict:
    """Geometric laws to compare with: one guess of a k-subset per step (p = 1/C(n,k)), and the
    geometric with the observed mean (the best case for a random-search explanation)."""
    median = float(np.median(steps))
    p_matched = 1.0 / float(np.mean(steps))
    early = EARLY_FRACTION * median
    return {
        "p_random_search": 1.0 / math.comb(n, k),
        "random_search_mean": float(math.comb(n, k)),
        "p_matched_mean": p_matched,
        "matched_fraction_below_early": 1.0 - (1.0 - p_matched) ** early,
        "matched_expected_below_min": 1.0 - (1.0 - p_matched) ** float(steps.min()),
        "observed_fraction_below_early": float(np.mean(steps < early)),
    }


def histogram_mode(steps: np.ndarray, eval_every: int) -> float:
    """The most frequent t_c (t_c is a multiple of eval_every, so counting values is exact)."""
    values, counts = np.unique(steps, return_counts=True)
    return float(values[np.argmax(counts)])


def plot_distribution(steps: np.ndarray, reference: dict, options: DistributionOptions, path) -> str:
    figure, ax = plt.subplots(figsize=(7, 4.2))
    width = options.eval_every
    edges = np.arange(0, steps.max() + 2 * width, width) + width / 2
    ax.hist(steps, bins=edges, density=True, color="tab:blue", alpha=0.75,
            label=f"SGD t_c, {len(steps):,} trials")
    t = np.arange(width, edges[-1], width)
    for p, style, label in [(reference["p_matched_mean"], "-", "geometric, same mean"),
                            (reference["p_random_search"], "--", f"random search, p = 1/C({options.n},{options.k})")]:
        # probability mass per evaluation interval, as a density per step
        mass = (1 - p) ** (t - width) - (1 - p) ** t
        ax.plot(t, mass / width, style, color="tab:red" if style == "-" else "tab:gray", label=label)
    ax.axvline(EARLY_FRACTION * np.median(steps), color="k", lw=0.8, ls=":", label="0.2 x median")
    ax.set_xlabel("t_c (steps)")
    ax.set_ylabel("density")
    ax.set_title(f"({options.n},{options.k})-parity, ReLU r={options.width}, B={options.batch}, lr={options.lr}")
    ax.legend(fontsize=8)
    return str(save_figure(figure, path))


@experiment("tc-distribution", DistributionOptions,
            "t_c over 10^4 trials of (20,3) vs the geometric law of random search (claim 6)")
def run_tc_distribution(options: DistributionOptions, store: Store, workers, quiet) -> dict:
    config = make_config({"name": "parity", "n": options.n, "k": options.k},
                         {"name": "mlp", "width": options.width}, loss={"name": "hinge"},
                         optimizer={"name": "sgd", "lr": options.lr},
                         train={"batch_size": options.batch, "max_steps": options.max_steps,
                                "eval_every": options.eval_every})
    stats = execute_plan(Plan("tc-distribution", (config,), options.seed, options.trials), store, workers,
                         quiet=quiet)
    rows = store.trials_for(config.config_hash(), options.seed, range(options.trials))
    solved = rows["converged"].astype(bool)
    steps = rows["convergence_step"][solved].astype(float)
    # Unsolved trials count as +inf (groklab.analysis): the median is over every trial, so it is
    # finite only while at most half are unsolved, and the check sees how many were solved.
    summary = analysis.convergence_summary(np.where(solved, rows["convergence_step"], -1),
                                           budget=options.max_steps)
    median = summary["median_convergence_step"]
    result = {
        "claim": "6: min t_c >= 0.2 x median and a unimodal histogram with its mode far from 0 (unlike a geometric "
                 "law); unsolved trials count as t_c = +inf",
        "trials": options.trials, "solved": int(solved.sum()), "median": median,
        "median_ci": [summary["median_ci_low"], summary["median_ci_high"]],
        "min": None, "max": None, "mode": None, "quantiles": None, "geometric": None, "figures": [],
        "wall_seconds": round(stats["wall_seconds"], 2), "trials_run_now": stats["trials_run"],
        "trial_steps_per_second": stats["trial_steps"] / stats["wall_seconds"] if stats["wall_seconds"] else None,
    }
    if len(steps) == 0:
        return {**result, "verdict": "FAIL"}
    mode = histogram_mode(steps, options.eval_every)
    result.update(min=float(steps.min()), max=float(steps.max()), mode=mode,
                  quantiles={q: float(np.quantile(steps, q)) for q in (0.01, 0.1, 0.25, 0.75, 0.9, 0.99)},
                  geometric=geometric_reference(steps, options.n, options.k, options.eval_every))
    passed = bool(median is not None and steps.min() >= EARLY_FRACTION * median and mode >= 0.5 * median)
    result["figures"] = [plot_distribution(
        steps, result["geometric"], options,
        figure_dir(store) / f"tc-distribution-n{options.n}-k{options.k}-{config.config_hash()[:8]}.png")]
    return {**result, "verdict": "PASS" if passed else "FAIL"}
