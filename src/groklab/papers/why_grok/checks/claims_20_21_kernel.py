"""Checks of claims 20 (Thm 3.1 / Props B.3-B.6: the eNTK at init interpolates once it is full
rank) and 21 (Thm 3.4: an equivariant kernel fails below ~p^3 samples) of Mohamadi et al. 2024,
on the regression network at a uniform (PyTorch-default) init, exactly in float64."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from groklab.checks.base import CheckResult, Scale, at_scale, register
from groklab.papers.why_grok.checks.claims_23_28 import SUITE
from groklab.papers.why_grok.kernel_regime import (
    UNIFORM_KURTOSIS,
    expected_neuron_kernel,
    kernel_fit_at_init,
    neuron_kernel,
    rank_bound,
    regression_size,
    split_triples,
)

INTERPOLATES = 1e-8  # train MSE of ridgeless regression once the Gram is positive definite (the bound)
MONTE_CARLO_TOLERANCE = 0.02  # relative Frobenius error of the averaged kernel; 1e5 neurons give ~0.006


def widths_around_threshold(p: int, n: int) -> list[int]:
    """h just below and at n / (3p - 2), where the Gram turns full rank, and the paper's 4p."""
    edge = int(np.ceil(n / (3 * p - 2)))
    return sorted({max(1, edge - 2), max(1, edge - 1), edge, edge + 1, 4 * p})


def _fits(scale: Scale) -> tuple[tuple[int, ...], dict]:
    primes = at_scale(scale, tiny=(5,), quick=(11, 13), full=(11, 13, 17))
    fits = {}
    for p in primes:
        n = regression_size(p)
        for h in widths_around_threshold(p, n):
            fits[p, h] = kernel_fit_at_init(p, h, n, seed=p * 1000 + h)
    return primes, fits


@register(SUITE, "20", "Thm 3.1 / B.3-B.6: eNTK Gram rank min(n, (3p-2)h); interpolation once positive definite",
          trains=False)
def claim_20(scale: Scale, root: Path, workers) -> list[CheckResult]:
    primes, fits = _fits(scale)
    setting = (f"p = {'/'.join(map(str, primes))}, n = 2p^2.25 random triples, regression net at PyTorch-uniform "
               f"init, widths around n/(3p-2) and 4p, float64")
    rank_ok = all(f.rank == rank_bound(p, h, regression_size(p)) for (p, h), f in fits.items())
    full = {key: f for key, f in fits.items() if f.rank == regression_size(key[0])}
    singular_edge = {p: max((h for (q, h), f in fits.items() if q == p and f.rank < regression_size(p)), default=None)
                     for p in primes}
    worst_fit = max(f.train_mse for f in full.values()) if full else float("inf")
    rows = [
        CheckResult("20", setting, "rank(K) vs min(n, (3p-2)h): " + "; ".join(
            f"p={p} h={h}: {f.rank}/{rank_bound(p, h, regression_size(p))}" for (p, h), f in fits.items()),
            "rank = min(n, (3p-2)h) at every width", rank_ok),
        CheckResult("20", setting, f"positive definite from h = n/(3p-2) up: largest train MSE {worst_fit:.1e} "
                    f"(lambda_min {min(f.lambda_min for f in full.values()):.1e}); singular up to h = "
                    + ", ".join(f"{singular_edge[p]} (p={p})" for p in primes),
                    f"train MSE < {INTERPOLATES:g} whenever lambda_min > 0",
                    bool(full) and worst_fit < INTERPOLATES and all(f.lambda_min > 0 for f in full.values())),
    ]
    # Prop B.3: the V part of the eNTK averages to h (M + 4 sigma^4 I) over uniform W.
    p = primes[0]
    rng = np.random.default_rng(p)
    triples, _ = split_triples(p, min(regression_size(p), 200), rng)
    neurons = at_scale(scale, tiny=20_000, quick=100_000, full=400_000)
    bound = 1 / np.sqrt(2 * p)
    average = neuron_kernel(rng.uniform(-bound, bound, (2 * p, neurons)), triples) / neurons
    expected = expected_neuron_kernel(triples, bound**2 / 3, UNIFORM_KURTOSIS)
    error = float(np.linalg.norm(average - expected) / np.linalg.norm(expected))
    rows.append(CheckResult("20", f"p = {p}, {len(triples)} triples, {neurons:,} uniform neurons",
                            f"Monte-Carlo E[L_k] vs M + 4 sigma^4 I: relative error {error:.4f}",
                            f"< {MONTE_CARLO_TOLERANCE:g}", error < MONTE_CARLO_TOLERANCE))
    rows.append(CheckResult.info("20", setting, "Thm 3.1's sufficient width 36 rho_c log(n/delta), delta 0.1: "
                                 + ", ".join(f"p={q}: {_sufficient_width(q):,.0f}" for q in primes)
                                 + " (very loose: full rank from h = n/(3p-2))"))
    return rows


def _sufficient_width(p: int, delta: float = 0.1) -> float:
    n = regression_size(p)
    triples, _ = split_triples(p, n, np.random.default_rng(p))
    rho_c = int(np.bincount(triples[:, 2]).max())
    return 36 * rho_c * np.log(n / delta)


@register(SUITE, "21", "Thm 3.4: eNTK ridgeless regression at init, n = 2p^2.25: test MSE >= p/2", trains=False)
def claim_21(scale: Scale, root: Path, workers) -> list[CheckResult]:
    primes, fits = _fits(scale)
    setting = (f"p = {'/'.join(map(str, primes))}, n = 2p^2.25 of the p^3 triples, regression net at PyTorch-uniform "
               f"init, widths around n/(3p-2) and 4p, float64; test = the other triples")
    lowest = {p: min(f.test_mse for (q, _), f in fits.items() if q == p) for p in primes}
    return [CheckResult("21", setting, "lowest test MSE over widths: " + ", ".join(
        f"p={p}: {m:.1f} (p/2 = {p / 2:g}, zero predictor {p:g})" for p, m in lowest.items()),
        ">= p/2 at every p and width", all(m >= p / 2 for p, m in lowest.items()))]
