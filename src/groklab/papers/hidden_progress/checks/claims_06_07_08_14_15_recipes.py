"""Checks of claims 6, 7, 8, 14 and 15 (Barak et al.), each one run of its recipe experiment."""
from __future__ import annotations

from pathlib import Path

from groklab.catalog import run_experiment
from groklab.checks.base import CheckResult, Scale, register

SUITE = "hidden-progress"


@register(SUITE, "6", "Fig 2 left: no lucky early successes (t_c distribution vs the geometric law)")
def claim_6(scale: Scale, root: Path, workers) -> list[CheckResult]:
    trials = 1000 if scale == "quick" else 10_000
    s = run_experiment("tc-distribution", root, workers, trials=trials)
    setting = f"(20,3) ReLU r=100 B=32 lr 0.1, {trials} trials, eval every 50"
    geometric = s["geometric"]
    return [
        CheckResult("6", setting, f"min t_c = {s['min']:.0f}, median = {s['median']:.0f} "
                    f"(a same-mean geometric puts {geometric['matched_fraction_below_early']:.1%} below 0.2 x median; "
                    f"observed {geometric['observed_fraction_below_early']:.1%})",
                    "min >= 0.2 x median", s["min"] >= 0.2 * s["median"]),
        CheckResult("6", setting, f"mode = {s['mode']:.0f} ({s['solved']}/{trials} solved)",
                    "mode >= 0.5 x median (far from 0)", s["mode"] >= 0.5 * s["median"]),
    ]


@register(SUITE, "7", "Fig 2 center: t_c depends on the init, not on the SGD noise")
def claim_7(scale: Scale, root: Path, workers) -> list[CheckResult]:
    inits, streams = (8, 3) if scale == "quick" else (25, 5)
    s = run_experiment("init-sensitivity", root, workers, inits=inits, data_seeds=streams)
    return [CheckResult(
        "7", f"(20,3) ReLU r=100 B=128 lr 0.01, {inits} inits x {streams} data orders",
        f"within-init std of log t_c = {s['within_init_std']:.3f}, between = {s['between_init_std']:.3f} "
        f"(ratio {s['within_to_between_ratio']:.2f})", "ratio < 0.5", s["verdict"] == "PASS")]


@register(SUITE, "8", "Fig 2 right: the exponent elbow (steeper slope at large n)")
def claim_8(scale: Scale, root: Path, workers) -> list[CheckResult]:
    trials = 8 if scale == "quick" else 25
    s = run_experiment("exponent-elbow", root, workers, trials=trials)
    small, large = s["small_n"], s["large_n"]
    return [CheckResult(
        "8", f"k=3 ReLU r=100 B=32 lr 0.1, n in {list(small['ns'])} vs {list(large['ns'])}, {trials} seeds",
        f"alpha small n = {small['exponent']:.2f} [{small['ci_low']:.2f}, {small['ci_high']:.2f}], "
        f"large n = {large['exponent']:.2f} [{large['ci_low']:.2f}, {large['ci_high']:.2f}]",
        "large-n slope > small-n slope", s["verdict"] == "PASS")]


@register(SUITE, "14", "Thm 8 / Fig 6 row 2: SGD on PolyNets over (B, lr)")
def claim_14(scale: Scale, root: Path, workers) -> list[CheckResult]:
    trials = 4 if scale == "quick" else 25
    s = run_experiment("polynet-grid", root, workers, trials=trials)
    results = []
    for label, run in s["runs"].items():
        results.append(CheckResult("14", f"{label}, {trials} seeds, budget 1e5",
                                   f"{run['solved']}/{run['trials']} solve, median t_c {run['median_convergence_step']}",
                                   ">= 20% of seeds", run["success_rate"] >= 0.2))
    return results


@register(SUITE, "15", "Fig 4 left: width gives no r-fold speed-up and less spread")
def claim_15(scale: Scale, root: Path, workers) -> list[CheckResult]:
    trials = 16 if scale == "quick" else 50
    s = run_experiment("width-sweep", root, workers, trials=trials)
    per = s["per_width"]
    setting = f"(40,3) B=32 lr 0.1, widths {list(per)}, {trials} trials each"
    m100, m1000 = per["100"]["median_convergence_step"], per["1000"]["median_convergence_step"]
    iqrs = [per[r]["iqr"] for r in per]
    return [
        CheckResult("15", setting, f"median t_c r=100: {m100}, r=1000: {m1000}", "r=1000 >= 0.3 x r=100",
                    m100 is not None and m1000 is not None and m1000 >= 0.3 * m100),
        CheckResult("15", setting, f"IQR by width: {iqrs}", "largest width's IQR < smallest's",
                    None not in (iqrs[0], iqrs[-1]) and iqrs[-1] < iqrs[0]),
    ]
