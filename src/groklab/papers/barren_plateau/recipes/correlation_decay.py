"""Correlations of multiplications and the SQ-dimension bound vs p (Takhanov et al. 2023; claims 34, 36).

For each prime p and both classes of modular multiplication on Z_p^* (Thm 15's standardized
residue t(a x mod p), and the +-1 parity bit of a x mod p; both have mean 0 and variance 1 exactly):

- mean_{a != b} C(a, b)^2 over all ordered pairs, its log-log slope in p (least squares, with a 95%
  t-interval from the regression's standard error);
- max_{a != b} |C(a, b)| and the pairs at exactly -1 (a and -a: (p-1)/2 unordered pairs),
  reported explicitly because they break "approximately orthogonal" in the worst case;
- C(a, k a) for the ratios k (default 2 and 3): for the standardized class these approach 1/k
  (Dedekind-sum structure);
- Thm 21's lower bound on SQ-dim + 1 with both stand-ins for the unrecovered Boas-Bellman
  statistic (mean squared off-diagonal C, the default, and max |C|). With the mean-squared
  stand-in (~4/p) the bound is |H|^(1/2) = sqrt(p - 1) at every p tried: BB does not bind.

All correlations are exact (float64) through the ratio structure C(a, b) = c(b / a)
(`hardness.correlation.multiplicative_profile`); for p <= `generic_check_max_p` the generic blocked
path over the class's TargetFamily is run too and must agree (to 1e-6: the family's targets are
float32, the profile's float64).

Verdicts (the spec's thresholds, after its 2026-12 correction of the earlier 3/p, which its own
calibration contradicted). Claim 34: p * mean C^2 <= 5 for every p >= 97 and the log-log slope of
mean C^2 in p within [-1.1, -0.85] (standardized class, the one the spec's calibration numbers are
for; the parity class is reported against the same bounds), and every pair (a, -a) at C = -1
exactly with no other pair at -1. Claim 36: the SQ bound (default BB stand-in) strictly increases
with p.
Nothing is trained, so nothing goes into the store; figures go to its figures folder.
"""
from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import Field, model_validator
from scipy import stats

from groklab.experiments.base import ExperimentOptions, experiment, figure_dir
from groklab.hardness.correlation import (
    correlation_summary,
    modular_multiplication_profile,
    profile_summary,
    ratio_correlation,
)
from groklab.store import Store
from groklab.tasks.modular import is_prime
from groklab.tasks.modular_multiplication import (
    MAX_PRIME,
    modular_multiplication_family,
)

NAME = "correlation-decay"
CLASSES = ("standardized", "parity")
VERDICT_CLASS = "standardized"  # claim 34's calibration numbers are for Thm 15's standardized class
VERDICT_CONSTANT = 5.0  # claim 34: p * mean C^2 <= 5 ... (spec correction 2026-12; was 3)
VERDICT_MIN_P = 97  # ... for every p >= 97
VERDICT_SLOPE = (-1.1, -0.85)  # claim 34: log-log slope of mean C^2 in p
ANTI_TOLERANCE = 1e-9
QUICK_PRIMES = (47, 97, 199, 397, 797, 1597, 3191)  # the spec's calibration primes
FULL_PRIMES = QUICK_PRIMES + (6397, 9973)  # up to 10^4


class CorrelationDecayOptions(ExperimentOptions):
    primes: tuple[int, ...] = Field(QUICK_PRIMES, description="odd primes p (the spec's calibration set; "
                                    "add 6397, 9973 for the full range up to 10^4)")
    ratios: tuple[int, ...] = Field((2, 3), description="k: report C(a, k a), which tends to 1/k (standardized)")
    bb_statistic: Literal["mean-squared", "max"] = Field(
        "mean-squared", description="Boas-Bellman stand-in for the SQ bound's verdict (UNRECOVERED; both reported)")
    generic_check_max_p: int = Field(400, ge=0, description="also run the generic blocked TargetFamily path for "
                                     "p up to this and require agreement (0: never)")

    @model_validator(mode="after")
    def _check(self) -> "CorrelationDecayOptions":
        bad = [p for p in self.primes if not is_prime(p) or p < 3 or p > MAX_PRIME]
        if bad:
            raise ValueError(f"primes must be odd primes up to {MAX_PRIME} (got {bad})")
        if len(set(self.primes)) < 2:
            raise ValueError("primes needs at least two distinct values for a slope")
        if any(k < 2 for k in self.ratios):
            raise ValueError(f"ratios must be >= 2 (got {self.ratios})")
        return self


def slope_fit(ps: list[int], values: list[float], level: float = 0.95) -> dict:
    """Least-squares slope of log value against log p with a t-interval from its standard error."""
    fit = stats.linregress(np.log(ps), np.log(values))
    half = stats.t.ppf(0.5 + level / 2, len(ps) - 2) * fit.stderr if len(ps) > 2 else math.nan
    return {"slope": float(fit.slope), "ci": [float(fit.slope - half), float(fit.slope + half)],
            "intercept": float(fit.intercept), "r_squared": float(fit.rvalue**2)}


def measure_prime(p: int, target: str, ratios: tuple[int, ...], generic_check_max_p: int) -> dict:
    started = time.perf_counter()
    profile = modular_multiplication_profile(p, target)
    summary = profile_summary(p, profile, f"modmul-{target}(p={p})", tolerance=ANTI_TOLERANCE)
    seconds = time.perf_counter() - started
    row = {
        "p": p, "target": target, "mean_squared": summary.mean_squared,
        "p_times_mean_squared": p * summary.mean_squared,
        "max_abs": summary.max_abs, "anti_pairs": summary.anti_pairs, "expected_anti_pairs": (p - 1) // 2,
        "minus_one_ratio_correlation": ratio_correlation(profile, p, p - 1),  # C(a, -a)
        "anti_examples": [list(pair) for pair in summary.anti_examples[:3]],
        "ratio_correlations": {str(k): ratio_correlation(profile, p, k) for k in ratios},
        "sq_bound": {s: summary.sq_bound(s) for s in ("mean-squared", "max")},
        # True where the bound is its second term |H|^(1/2): the BB stand-in does not bind there.
        "sq_bound_is_sqrt_size": {s: bool(np.isclose(summary.sq_bound(s), (p - 1) ** 0.5))
                                  for s in ("mean-squared", "max")},
        "seconds": round(seconds, 4),
    }
    # Every (a, -a) pair at -1 and no other pair: C(a, -a) = -1 and the count is exactly (p-1)/2.
    row["anti_pairs_exact"] = bool(abs(row["minus_one_ratio_correlation"] + 1) <= ANTI_TOLERANCE
                                   and summary.anti_pairs == (p - 1) // 2)
    if p <= generic_check_max_p:  # the generic blocked path on the whole class must agree
        generic = correlation_summary(modular_multiplication_family(p, target), tolerance=ANTI_TOLERANCE)
        row["generic_agrees"] = bool(np.isclose(generic.mean_squared, summary.mean_squared, rtol=1e-6, atol=0)
                                     and np.isclose(generic.max_abs, summary.max_abs, rtol=1e-6)
                                     and generic.anti_pairs == summary.anti_pairs)
    return row


def plot_decay(rows: list[dict], fits: dict, path: Path) -> Path:
    from groklab.figures import plt, save_figure

    figure, axis = plt.subplots(figsize=(6.2, 4.4), layout="constrained")
    ps = np.array(sorted({r["p"] for r in rows}), dtype=float)
    for colour, target in zip(("tab:blue", "tab:orange"), CLASSES):
        mine = sorted((r for r in rows if r["target"] == target), key=lambda r: r["p"])
        fit = fits[target]
        axis.plot([r["p"] for r in mine], [r["mean_squared"] for r in mine], "o", color=colour,
                  label=f"{target}: slope {fit['slope']:.2f} [{fit['ci'][0]:.2f}, {fit['ci'][1]:.2f}]")
        axis.plot(ps, np.exp(fit["intercept"]) * ps ** fit["slope"], color=colour, lw=1)
    axis.plot(ps, VERDICT_CONSTANT / ps, "k--", lw=1, label=f"{VERDICT_CONSTANT:g}/p (claim 34 bound)")
    axis.set(xscale="log", yscale="log", xlabel="p", ylabel="mean over a != b of C(a, b)^2")
    axis.set_title("Correlations of multiplications on Z_p^*", fontsize="medium")
    axis.legend(fontsize="small")
    return save_figure(figure, path)


def plot_ratio_profile(p: int, path: Path, max_ratio: int = 12) -> Path:
    """C(a, k a) against k for both classes at one p, with 1/k."""
    from groklab.figures import plt, save_figure

    figure, axis = plt.subplots(figsize=(6.2, 4.2), layout="constrained")
    ks = np.arange(2, max_ratio + 1)
    for colour, target in zip(("tab:blue", "tab:orange"), CLASSES):
        profile = modular_multiplication_profile(p, target)
        axis.plot(ks, [ratio_correlation(profile, p, k) for k in ks], "o-", color=colour, label=target)
        axis.plot([-1], [ratio_correlation(profile, p, p - 1)], "s", color=colour, ms=10 if target == CLASSES[0] else 6)
    axis.plot(ks, 1 / ks, "k--", lw=1, label="1/k")
    axis.axhline(0, color="grey", lw=0.5)
    axis.set(xlabel="k (square at k = -1: the pair a, -a)", ylabel="C(a, k a)")
    axis.set_title(f"Correlation of h_a and h_ka, p = {p}", fontsize="medium")
    axis.legend(fontsize="small")
    return save_figure(figure, path)


def plot_sq_bound(rows: list[dict], path: Path) -> Path:
    from groklab.figures import plt, save_figure

    figure, axis = plt.subplots(figsize=(6.2, 4.2), layout="constrained")
    for colour, target in zip(("tab:blue", "tab:orange"), CLASSES):
        mine = sorted((r for r in rows if r["target"] == target), key=lambda r: r["p"])
        for style, statistic in (("o-", "mean-squared"), ("x:", "max")):
            axis.plot([r["p"] for r in mine], [r["sq_bound"][statistic] for r in mine], style, color=colour,
                      label=f"{target}, BB = {statistic}")
    ps = np.array(sorted({r["p"] for r in rows}), dtype=float)
    axis.plot(ps, np.sqrt(ps - 1), "k--", lw=1, label="|H|^(1/2)")
    axis.set(xscale="log", yscale="log", xlabel="p", ylabel="lower bound on SQ-dim + 1")
    axis.set_title("Thm 21: min(|H|^(2/3) / (3 BB^(1/3)), |H|^(1/2))", fontsize="medium")
    axis.legend(fontsize="small")
    return save_figure(figure, path)


@experiment(NAME, CorrelationDecayOptions,
            "correlations of modular multiplications vs p: mean C^2 slope, -1 pairs, SQ bound (claims 34, 36)")
def run_correlation_decay(options: CorrelationDecayOptions, store: Store, workers: int | None = None,
                          quiet: bool = True) -> dict:
    started = time.perf_counter()
    primes = sorted(set(options.primes))
    rows = [measure_prime(p, target, options.ratios, options.generic_check_max_p)
            for target in CLASSES for p in primes]
    fits = {t: slope_fit([r["p"] for r in rows if r["target"] == t],
                         [r["mean_squared"] for r in rows if r["target"] == t]) for t in CLASSES}
    checked = [r for r in rows if r["p"] >= VERDICT_MIN_P]
    decay_ok = {t: all(r["mean_squared"] <= VERDICT_CONSTANT / r["p"] for r in checked if r["target"] == t)
                for t in CLASSES}
    anti_ok = all(r["anti_pairs_exact"] for r in rows)
    generic_ok = all(r.get("generic_agrees", True) for r in rows)
    bounds = {t: {s: [r["sq_bound"][s] for r in rows if r["target"] == t] for s in ("mean-squared", "max")}
              for t in CLASSES}
    increasing = {t: {s: bool(np.all(np.diff(v) > 0)) for s, v in b.items()} for t, b in bounds.items()}
    low, high = VERDICT_SLOPE
    slope_ok = {t: bool(low <= fits[t]["slope"] <= high) for t in CLASSES}
    verdict_34 = "PASS" if decay_ok[VERDICT_CLASS] and slope_ok[VERDICT_CLASS] and anti_ok and generic_ok else "FAIL"
    verdict_36 = "PASS" if all(increasing[t][options.bb_statistic] for t in CLASSES) else "FAIL"

    out = figure_dir(store)
    tag = f"correlation-decay-p{primes[0]}-{primes[-1]}"
    figures = [str(plot_decay(rows, fits, out / f"{tag}-mean-square.png")),
               str(plot_ratio_profile(primes[-1], out / f"{tag}-ratio-profile-p{primes[-1]}.png")),
               str(plot_sq_bound(rows, out / f"{tag}-sq-bound.png"))]
    return {
        "claim": f"Takhanov et al. claims 34 (p mean C^2 <= {VERDICT_CONSTANT:g} for p >= {VERDICT_MIN_P}; slope in "
                 f"[{low}, {high}]; every (a, -a) pair at C = -1 exactly) and 36 (Thm 21's SQ-dimension bound grows "
                 "with p)",
        "verdict": "PASS" if verdict_34 == verdict_36 == "PASS" else "FAIL",
        "verdicts": {"34": verdict_34, "36": verdict_36},
        "mean_squared_within_bound": decay_ok,
        "slope_within_range": slope_ok,
        "anti_pairs_exact": anti_ok,
        "generic_path_agrees": generic_ok,
        "slopes": fits,
        "sq_bound_increasing": increasing,
        "bb_statistic": options.bb_statistic,
        "rows": rows,
        "setting": f"primes {primes}; classes {CLASSES}; exact float64 over all of Z_p^* x Z_p^*",
        "figures": figures,
        "wall_seconds": round(time.perf_counter() - started, 3),
    }
