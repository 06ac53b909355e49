"""Checks of claims 32 and 33 (Takhanov et al.): the gradient variance over modular multiplication
and over high-frequency targets decays at least like p^-1/2 and A^-1/2."""
from __future__ import annotations

from pathlib import Path

from groklab.catalog import run_experiment
from groklab.checks.base import CheckResult, Scale, register

SUITE = "barren-plateau"


_measured: dict[tuple[str, str], dict] = {}  # claims 32 and 33 share one run of the recipe


def _variance(scale: Scale, root: Path, workers) -> dict:
    key = (str(root), scale)
    if key not in _measured:
        options = dict(inits=3) if scale == "quick" else dict(
            inits=5, primes=(47, 97, 199, 397, 797, 1597, 3191, 6379, 9973),
            frequencies=(4, 8, 16, 32, 64, 128, 256, 512, 1024))
        _measured[key] = run_experiment("gradient-variance", root, workers, **options)
    return _measured[key]


@register(SUITE, "32", "Thm 15: Var over modular multiplication decays like p^-1/2 or faster")
def claim_32(scale: Scale, root: Path, workers) -> list[CheckResult]:
    s = _variance(scale, root, workers)["modular_multiplication"]
    return [CheckResult(
        "32", f"t(a x mod p), binary x, ReLU r=100 at init, p in {s['primes'][0]}..{s['primes'][-1]}",
        f"slope {s['slope']:.2f} (95% CI over inits [{s['ci_low']:.2f}, {s['ci_high']:.2f}]); "
        f"Var/E||grad f||^2 = {s['normalized_mean'][0]:.2e} at p={s['primes'][0]}, "
        f"{s['normalized_mean'][-1]:.2e} at p={s['primes'][-1]}",
        "slope <= -0.5 (theorem); ~ -1 conjectured", s["slope"] <= -0.5)]


@register(SUITE, "33", "Thm 1: Var over psi(a x) decays like A^-1/2 or faster")
def claim_33(scale: Scale, root: Path, workers) -> list[CheckResult]:
    s = _variance(scale, root, workers)["high_frequency"]
    return [CheckResult(
        "33", f"sawtooth(a x), a ~ U[A, 2A], x on a quadrature grid of [0,1], ReLU r=100, A in "
              f"{s['frequencies'][0]:g}..{s['frequencies'][-1]:g}",
        f"slope {s['slope']:.2f} (95% CI over inits [{s['ci_low']:.2f}, {s['ci_high']:.2f}])",
        "slope <= -0.5 (theorem)", s["slope"] <= -0.5)]
