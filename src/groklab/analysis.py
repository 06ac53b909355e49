"""Statistics over many trials: convergence-time summaries, power-law scaling fits, plateau accuracy.

Pure numpy; no JAX, so reports can be built on any machine from stored results.

Conventions used throughout:

* A convergence step `t_c` is an int; `None`, `-1` or NaN mean "did not converge within budget".
  Steps larger than `budget` are also counted as unsolved (censored at the budget), so a result set
  can be re-read as if it had been given a smaller budget.
* Unsolved trials enter medians as +inf rather than being dropped. Dropping them would report the
  median of the lucky trials only and bias t_c downwards exactly where learning is hardest. With
  +inf, the median is finite only while the middle order statistic(s) are solved: for 5 trials at
  most 2 may be unsolved; for 4 trials at most 1 (the median of 4 averages the 2nd and 3rd values).
* Confidence intervals are percentile bootstraps that resample trials with replacement.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

import numpy as np

Statistic = Callable[..., Any]  # numpy-style reduction accepting `axis=`, e.g. np.median

_MAX_RESAMPLE_ELEMENTS = 4_000_000  # bounds the memory of one block of bootstrap resamples


# --------------------------------------------------------------------------------------------
# Convergence steps and bootstrap helpers
# --------------------------------------------------------------------------------------------

def censored_steps(steps: Sequence[int | float | None] | np.ndarray, budget: int | None = None) -> np.ndarray:
    """Convergence steps as a float array with +inf for every unsolved trial.

    Unsolved means None, -1, NaN, or (when `budget` is given) a step beyond the budget.
    Raises ValueError on any other negative step, since that is a bookkeeping error upstream.
    """
    if budget is not None and budget <= 0:
        raise ValueError(f"budget must be a positive number of steps, got {budget}")
    values = np.array([np.nan if step is None else step for step in steps], dtype=float).reshape(-1)
    unsolved = np.isnan(values) | (values == -1)
    invalid = ~unsolved & (values < 0)
    if invalid.any():
        raise ValueError(f"convergence steps must be >= 0, or None/-1 for unsolved; got {values[invalid][0]:g}")
    if budget is not None:
        unsolved |= values > budget
    values[unsolved] = np.inf
    return values


def _quantile_allowing_inf(values: np.ndarray, q: float) -> float:
    """Linear-interpolation quantile (numpy's default) that returns +inf instead of NaN near infs.

    np.quantile interpolates inf - inf into NaN and warns; here any interpolation that touches an
    infinite value is itself infinite, which is the right answer for a censored statistic.
    """
    ordered = np.sort(values)
    position = (len(ordered) - 1) * q
    below, above = math.floor(position), math.ceil(position)
    low, high = ordered[below], ordered[above]
    if below == above or low == high:
        return float(low)
    if np.isinf(high):
        return math.inf
    return float(low + (high - low) * (position - below))


def _bootstrap_statistics(values: np.ndarray, statistic: Statistic, n_boot: int,
                          rng: np.random.Generator) -> np.ndarray:
    """`statistic` of `n_boot` resamples (with replacement) of `values`, one float per resample."""
    if n_boot < 1:
        raise ValueError(f"n_boot must be >= 1, got {n_boot}")
    rows_per_block = max(1, _MAX_RESAMPLE_ELEMENTS // len(values))
    results = []
    for start in range(0, n_boot, rows_per_block):
        rows = min(rows_per_block, n_boot - start)
        indices = rng.integers(0, len(values), size=(rows, len(values)))
        results.append(np.asarray(statistic(values[indices], axis=1), dtype=float))
    return np.concatenate(results)


def _interval_quantiles(level: float) -> tuple[float, float]:
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    tail = (1 - level) / 2
    return tail, 1 - tail


def bootstrap_ci(values: Sequence[float] | np.ndarray, statistic: Statistic = np.median, n_boot: int = 2000,
                 seed: int = 0, level: float = 0.95) -> tuple[float, float]:
    """Percentile-bootstrap confidence interval `(low, high)` of `statistic(values)`.

    `statistic` must be a numpy-style reduction that accepts `axis=` (np.median, np.mean, ...), so
    all resamples are scored in one vectorised call. Values may include +inf (unsolved trials);
    a bound is +inf when the bootstrap distribution is infinite at that quantile.
    """
    array = np.asarray(values, dtype=float).reshape(-1)
    if array.size == 0:
        raise ValueError("bootstrap_ci needs at least one value")
    lower_q, upper_q = _interval_quantiles(level)
    resampled = _bootstrap_statistics(array, statistic, n_boot, np.random.default_rng(seed))
    return _quantile_allowing_inf(resampled, lower_q), _quantile_allowing_inf(resampled, upper_q)


def _finite_or_none(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


# --------------------------------------------------------------------------------------------
# Summary of one configuration
# --------------------------------------------------------------------------------------------

def convergence_summary(steps: Sequence[int | None] | np.ndarray, budget: int, n_boot: int = 2000,
                        seed: int = 0) -> dict[str, Any]:
    """Success rate and median convergence step (with bootstrap 95% CI) of one configuration.

    The median is over ALL trials with unsolved ones counted as +inf (see module docstring), so it
    is None once too many trials are unsolved for it to be finite. CI bounds are None where the
    bootstrap quantile is infinite. `mean_log_steps` is the mean natural log of the solved steps
    (log of their geometric mean); None if nothing was solved or a trial converged at step 0.
    Every value is a plain int/float/None so the dict is JSON-serialisable.
    """
    values = censored_steps(steps, budget)
    if values.size == 0:
        raise ValueError("convergence_summary needs at least one trial")
    solved_steps = values[np.isfinite(values)]
    ci_low, ci_high = bootstrap_ci(values, np.median, n_boot=n_boot, seed=seed)
    mean_log = float(np.mean(np.log(solved_steps))) if solved_steps.size and solved_steps.min() > 0 else None
    return {
        "trials": int(values.size),
        "solved": int(solved_steps.size),
        "unsolved": int(values.size - solved_steps.size),
        "budget": int(budget),
        "success_rate": float(solved_steps.size / values.size),
        "median_convergence_step": _finite_or_none(float(np.median(values))),
        "median_ci_low": _finite_or_none(ci_low),
        "median_ci_high": _finite_or_none(ci_high),
        "mean_log_steps": mean_log,
    }


# --------------------------------------------------------------------------------------------
# Power-law scaling of t_c with n
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PowerLawFit:
    """Least-squares fit of log(median t_c) = log(prefactor) + exponent * log(n).

    `ns`/`medians` are the points actually fitted (ascending n); `excluded_ns` had an infinite
    (too many unsolved) or zero median and were left out. `local_slopes[i]` is the log-log slope
    between `ns[i]` and `ns[i+1]`, to see whether the exponent drifts with n. `ci_low`/`ci_high`
    bound the exponent (None if no bootstrap resample was usable); `n_boot_used` counts the
    resamples that were (see `fit_power_law`).
    """

    exponent: float
    prefactor: float
    ci_low: float | None
    ci_high: float | None
    ns: tuple[int, ...]
    medians: tuple[float, ...]
    local_slopes: tuple[float, ...]
    excluded_ns: tuple[int, ...]
    budget: int
    n_boot: int
    n_boot_used: int

    def predict(self, n: float | np.ndarray) -> float | np.ndarray:
        """Fitted t_c at `n`."""
        return self.prefactor * np.asarray(n, dtype=float) ** self.exponent

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-serialisable dict (lists, not tuples)."""
        return {
            "exponent": self.exponent, "prefactor": self.prefactor,
            "ci_low": self.ci_low, "ci_high": self.ci_high,
            "ns": list(self.ns), "medians": list(self.medians), "local_slopes": list(self.local_slopes),
            "excluded_ns": list(self.excluded_ns), "budget": self.budget,
            "n_boot": self.n_boot, "n_boot_used": self.n_boot_used,
        }


def _log_log_slopes(log_ns: np.ndarray, log_medians: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares (slope, intercept) of each row of `log_medians` (shape (..., k)) on `log_ns`."""
    centred_x = log_ns - log_ns.mean()
    mean_y = log_medians.mean(axis=-1)
    slope = (log_medians - mean_y[..., None]) @ centred_x / (centred_x @ centred_x)
    return slope, mean_y - slope * log_ns.mean()


def _usable_median(median: float) -> bool:
    """A median can enter a log-log fit only if it is finite and positive."""
    return math.isfinite(median) and median > 0


def fit_power_law(ns: Sequence[int], steps_by_n: Mapping[int, Sequence[int | None] | np.ndarray], budget: int,
                  n_boot: int = 2000, seed: int = 0) -> PowerLawFit:
    """Fit median t_c ~ prefactor * n^exponent over the sizes `ns`, with a bootstrap CI of the exponent.

    Medians count unsolved trials as +inf; an n whose median is infinite (or zero) is excluded and
    listed in `excluded_ns`. At least two usable n are required (ValueError otherwise).

    The CI resamples trials within each fitted n, recomputes the medians and refits. A resample in
    which some n's median becomes infinite cannot be fitted and is dropped; `n_boot_used` says how
    many remained. Dropping conditions the CI on "the median stayed finite", which makes it somewhat
    optimistic (too low) when an n sits near half unsolved; a small `n_boot_used` flags that case.
    """
    ordered_ns = sorted(int(n) for n in ns)
    if len(set(ordered_ns)) != len(ordered_ns):
        raise ValueError(f"ns contains duplicates: {list(ns)}")
    missing = [n for n in ordered_ns if n not in steps_by_n]
    if missing:
        raise ValueError(f"steps_by_n has no trials for n = {missing}")
    steps_per_n = {n: censored_steps(steps_by_n[n], budget) for n in ordered_ns}
    empty = [n for n, values in steps_per_n.items() if values.size == 0]
    if empty:
        raise ValueError(f"no trials for n = {empty}")

    medians = {n: float(np.median(values)) for n, values in steps_per_n.items()}
    fitted_ns = [n for n in ordered_ns if _usable_median(medians[n])]
    excluded_ns = [n for n in ordered_ns if n not in fitted_ns]
    if len(fitted_ns) < 2:
        raise ValueError(
            f"a power-law fit needs at least 2 sizes with a finite median t_c; usable: {fitted_ns}, "
            f"excluded (median infinite, i.e. too many trials unsolved within budget {budget}, or zero): "
            f"{excluded_ns}")

    log_ns = np.log(np.array(fitted_ns, dtype=float))
    log_medians = np.log(np.array([medians[n] for n in fitted_ns]))
    exponent, intercept = _log_log_slopes(log_ns, log_medians)
    ci_low, ci_high, n_boot_used = _bootstrap_exponent_ci(
        log_ns, [steps_per_n[n] for n in fitted_ns], n_boot, np.random.default_rng(seed))

    return PowerLawFit(
        exponent=float(exponent), prefactor=float(np.exp(intercept)), ci_low=ci_low, ci_high=ci_high,
        ns=tuple(fitted_ns), medians=tuple(medians[n] for n in fitted_ns),
        local_slopes=tuple(float(s) for s in np.diff(log_medians) / np.diff(log_ns)),
        excluded_ns=tuple(excluded_ns), budget=int(budget), n_boot=int(n_boot), n_boot_used=n_boot_used)


def _bootstrap_exponent_ci(log_ns: np.ndarray, steps_per_n: list[np.ndarray], n_boot: int,
                           rng: np.random.Generator, level: float = 0.95) -> tuple[float | None, float | None, int]:
    """Percentile CI of the fitted exponent over resamples where every median is usable."""
    lower_q, upper_q = _interval_quantiles(level)
    resampled_medians = np.column_stack([_bootstrap_statistics(values, np.median, n_boot, rng)
                                         for values in steps_per_n])  # shape (n_boot, number of ns)
    usable = np.all(np.isfinite(resampled_medians) & (resampled_medians > 0), axis=1)
    if not usable.any():
        return None, None, 0
    slopes, _ = _log_log_slopes(log_ns, np.log(resampled_medians[usable]))
    return float(np.quantile(slopes, lower_q)), float(np.quantile(slopes, upper_q)), int(usable.sum())


# --------------------------------------------------------------------------------------------
# Learning curves
# --------------------------------------------------------------------------------------------

def accuracy_at(curve_steps: Sequence[int] | np.ndarray, curve_acc: Sequence[float] | np.ndarray,
                step: float) -> float:
    """Value of a step-indexed curve at its last evaluation at or before `step`.

    This is what a run "knew" at `step`: evaluations happen every `eval_every` steps, so no
    interpolation. Steps need not be sorted; for repeated steps the later entry wins.
    Raises ValueError if the curve has no evaluation at or before `step`.
    """
    steps_array = np.asarray(curve_steps)
    values = np.asarray(curve_acc, dtype=float)
    if steps_array.shape != values.shape or steps_array.ndim != 1:
        raise ValueError("curve_steps and curve_acc must be 1-D and of equal length")
    order = np.argsort(steps_array, kind="stable")
    position = int(np.searchsorted(steps_array[order], step, side="right")) - 1
    if position < 0:
        raise ValueError(f"curve has no evaluation at or before step {step}")
    return float(values[order[position]])


def _is_converged(step: int | float | None) -> bool:
    return step is not None and not (isinstance(step, float) and math.isnan(step)) and step >= 0


def plateau_accuracies(curves: Mapping[str, np.ndarray], convergence_steps: Mapping[int, int | None],
                       fraction: float = 0.5) -> dict[int, float]:
    """Validation accuracy at `fraction * t_c` of every converged trial (trial index -> accuracy).

    `curves` is long format (columns `trial_index`, `step`, `val_accuracy`); trials whose
    convergence step is None/-1 have no t_c and are left out.
    """
    trial_column = np.asarray(curves["trial_index"])
    step_column = np.asarray(curves["step"])
    accuracy_column = np.asarray(curves["val_accuracy"], dtype=float)
    accuracies = {}
    for trial, t_c in convergence_steps.items():
        if not _is_converged(t_c):
            continue
        rows = trial_column == trial
        if not rows.any():
            raise ValueError(f"trial {trial} has a convergence step but no rows in curves")
        accuracies[int(trial)] = accuracy_at(step_column[rows], accuracy_column[rows], fraction * t_c)
    return accuracies


def plateau_accuracy(curves: Mapping[str, np.ndarray], convergence_steps: Mapping[int, int | None],
                     fraction: float = 0.5) -> float | None:
    """Mean validation accuracy at `fraction * t_c`, over the converged trials.

    With fraction=0.5 this tests for a plateau: if accuracy is still near chance halfway to t_c,
    learning looked like nothing was happening before the jump (`plateau_accuracies` gives each
    trial's value). Returns None if no trial converged.
    """
    accuracies = plateau_accuracies(curves, convergence_steps, fraction)
    return float(np.mean(list(accuracies.values()))) if accuracies else None
