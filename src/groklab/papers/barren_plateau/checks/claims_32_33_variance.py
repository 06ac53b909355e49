"""Checks of claims 32 and 33 (Takhanov et al.): the gradient variance over modular multiplication
and over high-frequency targets decays at least like p^-1/2 and A^-1/2."""
from __future__ import annotations

from pathlib import Path

from groklab.catalog import run_experiment
from groklab.checks.base import CheckResult, Scale, at_scale, plural, register

SUITE = "barren-plateau"
FULL_PRIMES = (47, 97, 199, 397, 797, 1597, 3191, 6379, 9973)
FULL_FREQUENCIES = (4, 8, 16, 32, 64, 128, 256, 512, 1024)  # the spec's A in {4, ..., 1024}

_measured: dict[tuple[str, str], dict] = {}  # claims 32 and 33 share one run of the recipe


def _variance(scale: Scale, root: Path, workers) -> dict:
    size = at_scale(scale, tiny="tiny", quick="quick", full="full")  # starved trains nothing: tiny's run
    key = (str(root), size)
    if key not in _measured:
        options = at_scale(scale, tiny=dict(inits=2, primes=(47, 97), frequencies=(4, 16), hypotheses=16),
                           quick=dict(inits=3), full=dict(inits=5, primes=FULL_PRIMES, frequencies=FULL_FREQUENCIES))
        _measured[key] = run_experiment("gradient-variance", root, workers, **options)
    return _measured[key]


def _network(s: dict) -> str:
    o = s["options"]
    return f"ReLU MLP r={o['width']} at init, {plural(o['inits'], 'init')}"


@register(SUITE, "32", "Thm 15: Var over modular multiplication decays like p^-1/2 or faster", trains=False)
def claim_32(scale: Scale, root: Path, workers) -> list[CheckResult]:
    summary = _variance(scale, root, workers)
    s = summary["modular_multiplication"]
    return [CheckResult(
        "32", f"t(a x mod p), {summary['options']['encoding']} x, {_network(summary)}, p = "
              f"{'/'.join(map(str, s['primes']))}",
        f"slope {s['slope']:.2f} (95% CI over inits [{s['ci_low']:.2f}, {s['ci_high']:.2f}]); "
        f"Var/E||grad f||^2 = {s['normalized_mean'][0]:.2e} at p={s['primes'][0]}, "
        f"{s['normalized_mean'][-1]:.2e} at p={s['primes'][-1]}",
        "slope <= -0.5 (theorem); ~ -1 conjectured", s["slope"] <= -0.5)]


@register(SUITE, "33", "Thm 1: Var over psi(a x) decays like A^-1/2 or faster", trains=False)
def claim_33(scale: Scale, root: Path, workers) -> list[CheckResult]:
    summary = _variance(scale, root, workers)
    s = summary["high_frequency"]
    o = summary["options"]
    return [CheckResult(
        "33", f"{o['psi']}(a x), a ~ U[A, 2A] ({o['hypotheses']} values per A), x on a quadrature grid of [0,1], "
              f"{_network(summary)}, A = {'/'.join(f'{a:g}' for a in s['frequencies'])}",
        f"slope {s['slope']:.2f} (95% CI over inits [{s['ci_low']:.2f}, {s['ci_high']:.2f}])",
        "slope <= -0.5 (theorem)", s["slope"] <= -0.5)]
