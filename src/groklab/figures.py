"""Report figures: training curves, t_c-vs-n scaling, and the distribution of t_c.

Each function renders with the non-interactive Agg backend (works headless, in workers and CI),
writes one PNG, closes its figure so long report runs do not accumulate memory, and returns the path.
"""
from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (must follow the backend choice)
import numpy as np  # noqa: E402
from matplotlib.ticker import LogFormatter, MaxNLocator  # noqa: E402

from groklab.analysis import PowerLawFit, censored_steps  # noqa: E402

_DPI = 120


def save_figure(figure: plt.Figure, path: str | Path) -> Path:
    """Write `figure` to `path` (creating parent folders) and release it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        figure.savefig(path, dpi=_DPI, bbox_inches="tight")
    finally:
        plt.close(figure)
    return path


def legend_if_labelled(axis, **kwargs) -> None:
    """A legend, unless nothing on the axis has a label (matplotlib warns; e.g. a run where no trial
    converged has nothing to show)."""
    if axis.get_legend_handles_labels()[1]:
        axis.legend(**kwargs)


def plain_log_ticks(axis) -> None:
    """Log axes labelled 20, 30, 40, 50 rather than 2x10^1: plain numbers on the major ticks and, when
    the axis spans few decades, on the minor ones (matplotlib's own rule for which to label)."""
    for log_axis, scale in ((axis.xaxis, axis.get_xscale()), (axis.yaxis, axis.get_yscale())):
        if scale == "log":
            log_axis.set_major_formatter(LogFormatter(labelOnlyBase=False))
            log_axis.set_minor_formatter(LogFormatter(labelOnlyBase=False, minor_thresholds=(2, 0.5)))


def _marker(values: np.ndarray) -> str | None:
    """A marker when a curve has a single drawable point: a line through one point draws nothing."""
    return "o" if np.sum(np.isfinite(np.asarray(values, dtype=float))) < 2 else None


def _positive_or_nan(values: np.ndarray) -> np.ndarray:
    """Values for a log axis: non-positive ones (e.g. a hinge loss of exactly 0) become gaps."""
    values = np.asarray(values, dtype=float)
    return np.where(values > 0, values, np.nan)


def plot_training_curves(curves: Mapping[str, np.ndarray], path: str | Path, max_trials: int = 8,
                         title: str | None = None) -> Path:
    """Validation accuracy (and train loss, log scale, if a `train_loss` column exists) against step.

    `curves` is long format: one row per (trial, evaluation) with columns `trial_index`, `step`,
    `val_accuracy` and optionally `train_loss`. One line per trial for the `max_trials` smallest
    trial indices, so the same trials are shown every time. The dashed line at 0.5 is chance level.
    """
    trial_column = np.asarray(curves["trial_index"])
    step_column = np.asarray(curves["step"])
    has_loss = "train_loss" in curves and np.any(np.asarray(curves["train_loss"], dtype=float) > 0)
    figure, axes = plt.subplots(1, 2 if has_loss else 1, figsize=(11 if has_loss else 6, 4),
                                squeeze=False, layout="constrained")
    accuracy_axis = axes[0, 0]

    for trial in np.unique(trial_column)[:max_trials]:
        rows = np.flatnonzero(trial_column == trial)
        rows = rows[np.argsort(step_column[rows], kind="stable")]
        accuracy = np.asarray(curves["val_accuracy"])[rows]
        accuracy_axis.plot(step_column[rows], accuracy, lw=1.2, marker=_marker(accuracy), label=f"trial {trial}")
        if has_loss:
            loss = _positive_or_nan(np.asarray(curves["train_loss"])[rows])
            axes[0, 1].plot(step_column[rows], loss, lw=1.2, marker=_marker(loss))

    accuracy_axis.axhline(0.5, color="grey", ls="--", lw=1, label="chance")
    accuracy_axis.set(xlabel="step", ylabel="validation accuracy", ylim=(-0.02, 1.02))
    accuracy_axis.legend(fontsize="small", loc="lower right")
    if has_loss:
        axes[0, 1].set(xlabel="step", ylabel="train loss", yscale="log")
        plain_log_ticks(axes[0, 1])
    if title:
        figure.suptitle(title)
    return save_figure(figure, path)


def _fit_label(fit: PowerLawFit) -> str:
    interval = f" [{fit.ci_low:.2f}, {fit.ci_high:.2f}]" if fit.ci_low is not None and fit.ci_high is not None else ""
    return f"t_c ∝ n^{fit.exponent:.2f}{interval}"


def plot_scaling(fit: PowerLawFit, steps_by_n: Mapping[int, Sequence[int | None] | np.ndarray], path: str | Path,
                 title: str | None = None) -> Path:
    """Log-log plot of t_c against n: each converged trial, the medians, and the fitted power law.

    Trial points are jittered multiplicatively in n (seeded, so the figure is reproducible) and drawn
    faintly; the large markers are the medians the line was fitted to. Sizes the fit excluded
    (median infinite) are named in the legend.
    """
    rng = np.random.default_rng(0)
    figure, axis = plt.subplots(figsize=(6, 4.5), layout="constrained")
    trials_labelled = False
    for n in sorted(steps_by_n):
        solved = censored_steps(steps_by_n[n], fit.budget)
        solved = solved[np.isfinite(solved) & (solved > 0)]
        jittered_n = n * np.exp(rng.uniform(-0.04, 0.04, size=solved.size))
        axis.scatter(jittered_n, solved, s=8, alpha=0.25, color="tab:blue", linewidths=0,
                     label=None if trials_labelled or not solved.size else "converged trials")
        trials_labelled = trials_labelled or bool(solved.size)

    axis.scatter(fit.ns, fit.medians, s=70, color="tab:red", zorder=3, label="median t_c")
    line_ns = np.geomspace(min(fit.ns), max(fit.ns), 50)
    axis.plot(line_ns, fit.predict(line_ns), color="black", lw=1.5, label=_fit_label(fit))
    if fit.excluded_ns:
        axis.plot([], [], ls="none", label=f"excluded (median unsolved): n = {list(fit.excluded_ns)}")
    axis.set(xscale="log", yscale="log", xlabel="n (input bits)", ylabel="convergence step t_c")
    plain_log_ticks(axis)
    axis.legend(fontsize="small")
    if title:
        axis.set_title(title)
    return save_figure(figure, path)


def plot_convergence_histogram(steps: Sequence[int | None] | np.ndarray, path: str | Path,
                               budget: int | None = None, title: str | None = None) -> Path:
    """Histogram of the convergence steps of solved trials; the unsolved count is in the legend.

    With `budget`, steps beyond it count as unsolved and the budget is drawn as a vertical line.
    """
    values = censored_steps(steps, budget)
    solved = values[np.isfinite(values)]
    unsolved = values.size - solved.size
    figure, axis = plt.subplots(figsize=(6, 4), layout="constrained")
    label = f"solved: {solved.size} of {values.size} (unsolved: {unsolved})"
    if solved.size:
        axis.hist(solved, bins="auto", color="tab:blue", alpha=0.8, label=label)
    else:  # nothing to bin: keep sensible axes rather than matplotlib's default -0.05..0.05
        axis.plot([], [], ls="none", label=label)
        axis.set(xlim=(0, budget or 1), ylim=(0, 1))
    if budget is not None:
        axis.axvline(budget, color="grey", ls="--", lw=1, label=f"budget {budget}")
    axis.set(xlabel="convergence step t_c", ylabel="trials")
    axis.yaxis.set_major_locator(MaxNLocator(integer=True))
    axis.legend(fontsize="small")
    if title:
        axis.set_title(title)
    return save_figure(figure, path)
