"""Grokking with finite samples (Barak et al. 2022, HPv3 C.5, Fig 4 right / Fig 15; claim 16).

A ReLU MLP trained by multi-pass minibatch SGD on a fixed sample of m points of an (n,k)-parity,
over a grid of m and weight decay lambda. Per grid point and seed:

* t_train: the first evaluation with 100% accuracy on the m training points;
* t_test:  the first evaluation with held-out (noiseless, fresh) accuracy >= `test_target`
  (0.99 by the spec's convention, section 1.6). The engine stops a trial there, so `test_target`
  is the config's `train.target_accuracy`.

Each seed is classified: no gap (t_test <= no_gap_ratio * t_train, or the test target was reached
before the training set was fit), grokking (t_test >= grokking_ratio * t_train), small gap
(in between), fails to generalize (fits the training set, never the test target), fails to train
(never fits the training set within budget).

Claim 16: large m shows no gap; too small m fails; in between, grokking; larger lambda widens the
range of m that generalizes, but too large lambda fails to train. The verdict checks the spec's
three points (calibrated on (30,3)): grokking at (m=400, lambda=.01), no generalization at
(m=400, lambda=0), no gap at (m=1000, lambda=.01); the m values are options so that smaller tasks
can be checked at their own scale.
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import Field, model_validator

from groklab.config import make_config
from groklab.experiments.base import (
    BudgetOptions,
    ParityOptions,
    SGDOptions,
    WidthOption,
    experiment,
    figure_dir,
)
from groklab.plan import Plan
from groklab.runner import execute_plan
from groklab.specs import TrialConfig
from groklab.store import Store

NAME = "finite-sample-grokking"

NO_GAP, SMALL_GAP, GROKKING = "no gap", "small gap", "grokking"
FAILS_TO_GENERALIZE, FAILS_TO_TRAIN = "fails to generalize", "fails to train"
OUTCOMES = (NO_GAP, SMALL_GAP, GROKKING, FAILS_TO_GENERALIZE, FAILS_TO_TRAIN)


class FiniteSampleOptions(ParityOptions, WidthOption, SGDOptions, BudgetOptions):
    n: int = Field(30, gt=0, description="input bits n ((50,3) in the paper; (30,3) is the spec's calibration)")
    max_steps: int = Field(60_000, gt=0, description="step budget per trial (the spec's calibration: 60k)")
    eval_every: int = Field(500, gt=0, description="steps between evaluations (resolution of t_train and t_test)")
    samples: tuple[int, ...] = Field((200, 400, 1000), description="training set sizes m (grid axis)")
    weight_decays: tuple[float, ...] = Field((0.0, 0.01, 0.03), description="weight decay lambda (grid axis)")
    weight_decay_mode: Literal["l2", "decoupled"] = Field(
        "l2", description="'l2': lambda*theta added to the gradient (the spec's calibration); "
                          "'decoupled': theta <- (1-lambda) theta - eta grad (Barak et al. eq. 1; not "
                          "scaled by eta, so decoupled 0.001 ~ l2 0.01 at eta 0.1)")
    trials: int = Field(1, gt=0, description="trials (seeds) per (m, lambda); each draws its own S and sample")
    test_target: float = Field(0.99, gt=0, le=1, description="t_test = first eval with test accuracy >= this")
    grokking_ratio: float = Field(5.0, gt=1, description="t_test/t_train at or above this is grokking (claim 16)")
    no_gap_ratio: float = Field(2.0, ge=1, description="t_test/t_train at or below this is 'no gap' "
                                                       "(groklab's threshold; the paper gives none)")
    check_small_m: int = Field(400, gt=0, description="verdict: m where lambda > 0 should grok and "
                                                      "lambda = 0 should not generalize")
    check_large_m: int = Field(1000, gt=0, description="verdict: m where lambda > 0 should show no gap")
    check_weight_decay: float = Field(0.01, gt=0, description="verdict: the lambda > 0 of the check points")

    @model_validator(mode="after")
    def _check(self) -> "FiniteSampleOptions":
        if self.k > self.n:
            raise ValueError(f"k ({self.k}) must be at most n ({self.n})")
        if not self.samples or min(self.samples) <= 0:
            raise ValueError(f"samples must be positive training set sizes (got {self.samples})")
        if not self.weight_decays or min(self.weight_decays) < 0:
            raise ValueError(f"weight_decays must be non-negative (got {self.weight_decays})")
        if self.max_steps % self.eval_every:
            raise ValueError(f"max_steps ({self.max_steps}) must be a multiple of eval_every ({self.eval_every})")
        if self.no_gap_ratio >= self.grokking_ratio:
            raise ValueError(f"no_gap_ratio ({self.no_gap_ratio}) must be below grokking_ratio "
                             f"({self.grokking_ratio})")
        return self


def finite_sample_config(options: FiniteSampleOptions, samples: int, weight_decay: float) -> TrialConfig:
    return make_config({"name": "parity", "n": options.n, "k": options.k, "samples": samples},
                       {"name": "mlp", "width": options.width, "activation": "relu"},
                       loss={"name": "hinge"},
                       optimizer={"name": "sgd", "lr": options.lr, "weight_decay": weight_decay,
                                  "weight_decay_mode": options.weight_decay_mode},
                       train={"batch_size": options.batch, "max_steps": options.max_steps,
                              "eval_every": options.eval_every, "target_accuracy": options.test_target})


def classify(t_train: int | None, t_test: int | None, grokking_ratio: float, no_gap_ratio: float) -> str:
    """One seed's outcome from its t_train and t_test (None = not reached within budget)."""
    if t_test is None:
        return FAILS_TO_TRAIN if t_train is None else FAILS_TO_GENERALIZE
    # The engine stops at t_test, so a trial that generalized before fitting every training point
    # never records t_train: test accuracy came first, the opposite of a gap.
    if t_train is None or t_test <= no_gap_ratio * max(t_train, 1):
        return NO_GAP
    return GROKKING if t_test >= grokking_ratio * max(t_train, 1) else SMALL_GAP


def first_step_reaching(steps: np.ndarray, values: np.ndarray, threshold: float) -> int | None:
    reached = np.flatnonzero(np.asarray(values, dtype=float) >= threshold)
    return int(np.asarray(steps)[reached[0]]) if reached.size else None


def _median_or_none(values: list[float | None]) -> float | None:
    """Median with unreached (None) counted as +inf, as in groklab.analysis; None if infinite."""
    array = np.array([np.inf if v is None else v for v in values], dtype=float)
    median = float(np.median(array))
    return median if np.isfinite(median) else None


def summarize_point(store: Store, config: TrialConfig, seed: int, trials: int, options: FiniteSampleOptions) -> dict:
    rows = store.trials_for(config.config_hash(), seed, range(trials))
    curves = store.curves_for(config.config_hash(), seed, range(trials))
    t_train, t_test, ratios, outcomes = [], [], [], []
    fit_threshold = 1.0 - 0.5 / config.task.samples  # every training point correct (float32-safe)
    for trial, converged, step in zip(rows["trial_index"], rows["converged"], rows["convergence_step"]):
        mine = curves["trial_index"] == trial
        fit_step = first_step_reaching(curves["step"][mine], curves["train_accuracy"][mine], fit_threshold)
        test_step = int(step) if converged else None
        t_train.append(fit_step)
        t_test.append(test_step)
        ratios.append(test_step / max(fit_step, 1) if fit_step is not None and test_step is not None else None)
        outcomes.append(classify(fit_step, test_step, options.grokking_ratio, options.no_gap_ratio))
    counts = Counter(outcomes)
    return {
        "samples": config.task.samples, "weight_decay": config.optimizer.weight_decay,
        "config_hash": config.config_hash(),
        "t_train": t_train, "t_test": t_test, "ratio": ratios, "outcomes": outcomes,
        # The most common outcome; ties go to the earlier entry of OUTCOMES (the more successful one).
        "outcome": max(OUTCOMES, key=lambda o: (counts[o], -OUTCOMES.index(o))),
        "median_t_train": _median_or_none(t_train), "median_t_test": _median_or_none(t_test),
        # Over the seeds that both fit and generalized; the ratio is undefined for the others.
        "median_ratio": float(np.median([r for r in ratios if r is not None])) if any(ratios) else None,
        "final_train_accuracy": [float(a) for a in rows["final_train_accuracy"]],
        "final_test_accuracy": [float(a) for a in rows["final_val_accuracy"]],
    }


def _find(points: list[dict], samples: int, weight_decay: float) -> dict | None:
    return next((p for p in points if p["samples"] == samples and np.isclose(p["weight_decay"], weight_decay)), None)


def _majority(point: dict, wanted: tuple[str, ...]) -> bool:
    return sum(o in wanted for o in point["outcomes"]) * 2 > len(point["outcomes"])


def claim_verdict(points: list[dict], options: FiniteSampleOptions) -> tuple[str, list[dict]]:
    """PASS when, in a majority of seeds each: (small m, lambda) groks, (small m, 0) does not
    generalize and (large m, lambda) shows no gap; n/a if a check point is not in the grid."""
    lam = options.check_weight_decay
    checks = [("grokking", options.check_small_m, lam, (GROKKING,)),
              ("does not generalize", options.check_small_m, 0.0, (FAILS_TO_GENERALIZE, FAILS_TO_TRAIN)),
              ("no gap", options.check_large_m, lam, (NO_GAP,))]
    results = []
    for expected, m, weight_decay, wanted in checks:
        point = _find(points, m, weight_decay)
        results.append({"samples": m, "weight_decay": weight_decay, "expected": expected,
                        "outcomes": None if point is None else point["outcomes"],
                        "ratio": None if point is None else point["ratio"],
                        "passed": None if point is None else _majority(point, wanted)})
    if any(r["passed"] is None for r in results):
        return "INFO", results
    return ("PASS" if all(r["passed"] for r in results) else "FAIL"), results


# Phase-diagram colours, one per outcome (colour-blind-safe Okabe-Ito palette).
OUTCOME_COLOURS = {NO_GAP: "#009E73", SMALL_GAP: "#56B4E9", GROKKING: "#E69F00",
                   FAILS_TO_GENERALIZE: "#D55E00", FAILS_TO_TRAIN: "#7F7F7F"}


def _format_steps(step: float | None) -> str:
    if step is None:
        return "never"
    return f"{step / 1000:.1f}k" if step >= 1000 else f"{step:.0f}"


def plot_phase_diagram(points: list[dict], path: Path, options: FiniteSampleOptions) -> Path:
    """Cells over (m, lambda) coloured by the majority outcome, annotated with median t_train / t_test."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    from groklab.figures import save_figure  # first: selects the headless Agg backend

    ms = sorted({p["samples"] for p in points})
    lams = sorted({p["weight_decay"] for p in points})
    figure, axis = plt.subplots(figsize=(1.3 * len(ms) + 2.5, 0.9 * len(lams) + 1.8), layout="constrained")
    for p in points:
        x, y = ms.index(p["samples"]), lams.index(p["weight_decay"])
        axis.add_patch(plt.Rectangle((x - 0.5, y - 0.5), 1, 1, color=OUTCOME_COLOURS[p["outcome"]]))
        seeds = len(p["outcomes"])
        label = (f"{_format_steps(p['median_t_train'])} / {_format_steps(p['median_t_test'])}"
                 + (f"\n{sum(o == p['outcome'] for o in p['outcomes'])}/{seeds}" if seeds > 1 else ""))
        axis.text(x, y, label, ha="center", va="center", fontsize="small")
    axis.set(xlim=(-0.5, len(ms) - 0.5), ylim=(-0.5, len(lams) - 0.5), xticks=range(len(ms)), xticklabels=ms,
             yticks=range(len(lams)), yticklabels=[f"{lam:g}" for lam in lams],
             xlabel="training set size m", ylabel=f"weight decay lambda ({options.weight_decay_mode})")
    present = [o for o in OUTCOMES if any(p["outcome"] == o for p in points)]
    axis.legend(handles=[Patch(color=OUTCOME_COLOURS[o], label=o) for o in present], fontsize="small",
                loc="upper left", bbox_to_anchor=(1.01, 1.0))
    seeds_note = "; n/N: seeds with the cell's outcome" if options.trials > 1 else ""
    axis.set_title(f"({options.n},{options.k}) finite-sample parity: median t_train / t_test "
                   f"(test >= {options.test_target:g}){seeds_note}", fontsize="medium")
    return save_figure(figure, path)


def plot_key_curves(curves: dict[tuple[int, float], dict], path: Path, options: FiniteSampleOptions) -> Path:
    """Train and test accuracy against step (log axis) for trial 0 of each check point."""
    import matplotlib.pyplot as plt

    from groklab.figures import save_figure  # first: selects the headless Agg backend

    figure, axes = plt.subplots(1, len(curves), figsize=(4.2 * len(curves), 3.6), squeeze=False,
                                sharey=True, layout="constrained")
    for axis, ((m, lam), curve) in zip(axes[0], sorted(curves.items())):
        later = curve["step"] > 0  # log axis
        axis.plot(curve["step"][later], curve["train_accuracy"][later], label="train (m points)")
        axis.plot(curve["step"][later], curve["val_accuracy"][later], label="test (held-out, noiseless)")
        axis.axhline(options.test_target, color="grey", ls=":", lw=1)
        axis.axhline(0.5, color="grey", ls="--", lw=1)
        axis.set(xscale="log", xlabel="step", title=f"m={m}, lambda={lam:g}", ylim=(0.4, 1.02),
                 xlim=(options.eval_every, max(options.max_steps, 2 * options.eval_every)))  # shared across panels
    axes[0, 0].set_ylabel("accuracy")
    axes[0, 0].legend(fontsize="small", loc="lower right")
    return save_figure(figure, path)


@experiment(NAME, FiniteSampleOptions,
            "grid over training-set size m x weight decay: t_train, t_test, grokking phase diagram (claim 16)")
def run_finite_sample(options: FiniteSampleOptions, store: Store, workers: int | None = None,
                      quiet: bool = True) -> dict:
    grid = [(m, lam) for lam in sorted(set(options.weight_decays)) for m in sorted(set(options.samples))]
    configs = [finite_sample_config(options, m, lam) for m, lam in grid]
    trials = options.trials
    stats = execute_plan(Plan(experiment=NAME, configs=tuple(configs), seed=options.seed, trials=trials),
                         store, workers, quiet=quiet)
    points = [summarize_point(store, config, options.seed, trials, options) for config in configs]
    verdict, checked = claim_verdict(points, options)
    # "Larger lambda widens the range of m that generalizes": the smallest m whose majority
    # outcome reaches the test target, per lambda (None: no m in the grid does).
    generalizing = (NO_GAP, SMALL_GAP, GROKKING)
    smallest_m = {f"{lam:g}": min((p["samples"] for p in points if p["weight_decay"] == lam
                                   and p["outcome"] in generalizing), default=None)
                  for lam in sorted(set(options.weight_decays))}

    out = figure_dir(store)
    tag = f"finite-sample-n{options.n}-k{options.k}-{options.weight_decay_mode}"
    figures = [str(plot_phase_diagram(points, out / f"{tag}-phase.png", options))]
    key_points = {(c["samples"], c["weight_decay"]) for c in checked}
    curves = {(m, lam): store.curves_for(config.config_hash(), options.seed, [0])
              for (m, lam), config in zip(grid, configs) if (m, lam) in key_points}
    if curves:
        figures.append(str(plot_key_curves(curves, out / f"{tag}-curves.png", options)))
    return {
        "claim": "Barak et al. claim 16 (Fig 4 right / Fig 15): grokking with finite samples; large m no gap, "
                 "small m fails, in between t_test >> t_train; larger lambda widens the generalizing range",
        "verdict": verdict,
        "checked_points": checked,
        "smallest_generalizing_m": smallest_m,
        "points": points,
        "setting": f"({options.n},{options.k}) parity, ReLU r={options.width}, B={options.batch}, "
                   f"SGD lr={options.lr}, hinge, weight decay {options.weight_decay_mode}, budget "
                   f"{options.max_steps}, eval every {options.eval_every}, {trials} seed(s) per point",
        "figures": figures,
        "trials_run_now": stats["trials_run"],
        "wall_seconds": round(stats["wall_seconds"], 3),
    }
