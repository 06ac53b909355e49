"""Closed-form bounds of Mohamadi et al. 2024 that are evaluated on networks or used as thresholds.

- Prop E.7 (claim 24): a regression predictor g(a, b, c), trained towards y = p 1(a + b = c mod p),
  classifies the pair (a, b) as argmax_c g(a, b, c). If that is wrong, some c' != c* = a + b has
  g(c') >= g(c*), and the cheapest way is g(c*) = g(c') = p/2, a squared error of p^2/4 on each:
  at least p^2/2 summed over the pair's p triples. Averaged over the triples, L_l2(g) >= err p/2, so
  err <= 2 L_l2(g) / p. The argument is per pair, so it holds on any set of pairs (population,
  training or held-out pairs) with L the mean over that set's triples; a tie counts as an error.
  For a target s 1(a + b = c) of another scale s the same argument gives err <= 2 p L / s^2 (the
  paper's s = p; e.g. s = 4p for the App F construction's outputs).
- Thm 3.1 (claim 20): eNTK kernel regression interpolates any labels once the width
  h > 36 rho_c log(n / delta) (rho_c: multiplicity of the most frequent c among the n training
  triples; with probability >= 1 - delta), and some labels cannot be interpolated when the Gram is
  singular: the paper says h < n / (3p); the [cal2] measurement (rank of the Gram at init exactly
  min(n, (3p - 2) h)) makes it h < n / (3p - 2).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from groklab.errors import GroklabInputError


@dataclass(frozen=True)
class ErrorBound:
    pairs: int  # how many (a, b) pairs were scored
    error: float  # fraction of pairs with argmax_c g(a, b, c) != a + b (ties count as errors)
    l2_loss: float  # mean over the pairs' p triples of (g(a, b, c) - s 1(a + b = c))^2, s = p in the paper
    bound: float  # 2 L / p at s = p (Prop E.7); 2 p L / s^2 in general

    @property
    def holds(self) -> bool:
        return self.error <= self.bound

    @property
    def tightness(self) -> float:
        """error / bound (1: the bound is attained; NaN when both are 0)."""
        return self.error / self.bound if self.bound > 0 else float("nan")


def zero_one_error_bound(scores, labels, target_scale: float | None = None) -> ErrorBound:
    """Prop E.7 on a predictor's outputs: `scores` (pairs, p) holds g(a, b, c) for c = 0..p-1 (the
    regression net's outputs, or any net's p outputs read as g), `labels` (pairs,) the true c =
    (a + b) mod p, `target_scale` the s of the target s 1(a + b = c) (None: the paper's s = p).
    Float64 throughout, so float32 outputs are not rounded further."""
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels)
    if scores.ndim != 2 or scores.shape[0] == 0 or scores.shape[1] < 2:
        raise GroklabInputError(f"scores: expected a (pairs, p) array with p >= 2 (got shape {scores.shape})")
    if labels.shape != (scores.shape[0],) or not np.issubdtype(labels.dtype, np.integer):
        raise GroklabInputError(f"labels: expected {scores.shape[0]} integer classes (got shape {labels.shape})")
    pairs, p = scores.shape
    if labels.min() < 0 or labels.max() >= p:
        raise GroklabInputError(f"labels: classes must lie in [0, {p}) (got {labels.min()}..{labels.max()})")
    scale = float(p if target_scale is None else target_scale)
    if not scale > 0:
        raise GroklabInputError(f"target_scale: must be > 0 (got {target_scale})")
    if not np.all(np.isfinite(scores)):
        raise GroklabInputError("scores: contains NaN or inf (a diverged net has no E.7 bound)")
    rows = np.arange(pairs)
    correct = scores[rows, labels]
    others = scores.copy()
    others[rows, labels] = -np.inf
    error = float(np.mean(others.max(axis=1) >= correct))
    target = np.zeros_like(scores)
    target[rows, labels] = scale
    loss = float(np.mean((scores - target) ** 2))
    return ErrorBound(pairs=pairs, error=error, l2_loss=loss, bound=2 * p * loss / scale**2)


def interpolation_width(rho_c: int, n: int, delta: float) -> float:
    """Thm 3.1: widths h > 36 rho_c log(n / delta) interpolate any labels w.p. >= 1 - delta."""
    if rho_c < 1:
        raise GroklabInputError(f"rho_c: the largest multiplicity of c must be >= 1 (got {rho_c})")
    if n < rho_c:
        raise GroklabInputError(f"n: must be >= rho_c = {rho_c} (got {n})")
    if not 0 < delta < 1:
        raise GroklabInputError(f"delta: must be in (0, 1) (got {delta})")
    return 36 * rho_c * math.log(n / delta)


def _check_sizes(n: int, p: int) -> None:
    if n < 1:
        raise GroklabInputError(f"n: must be >= 1 (got {n})")
    if p < 2:
        raise GroklabInputError(f"p: must be >= 2 (got {p})")


def singular_width(n: int, p: int) -> float:
    """[cal2]: the eNTK Gram of n distinct triples at init has rank min(n, (3p - 2) h), so it is
    singular (some labels cannot be interpolated) exactly when h < n / (3p - 2)."""
    _check_sizes(n, p)
    return n / (3 * p - 2)


def paper_singular_width(n: int, p: int) -> float:
    """Thm 3.1 as the paper states it: labels that cannot be interpolated exist when h < n / (3p)
    (slightly weaker than `singular_width`, from a rank bound of 3p h)."""
    _check_sizes(n, p)
    return n / (3 * p)


def largest_singular_width(n: int, p: int) -> int:
    """The largest integer width h < n / (3p - 2): every h up to it has a singular Gram ([cal2])."""
    return math.ceil(singular_width(n, p)) - 1
