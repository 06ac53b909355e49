"""Exact second-moment spectra of the m-summand modular-addition class (Mohamadi et al. App D.5;
spec claim 22).

The class (eq. D.9; the paper's formulas are stripped from our text, this is our reading): inputs
x in [p]^m, and for permutations s_1..s_m of Z_p the 0/1 function

    f_s(x) = 1( s_1(x_1) + ... + s_{m-1}(x_{m-1}) = s_m(x_m)  mod p ),

m = 3 being the regression target 1(a + b = c) relabelled by the permutation group of Def 3.2
(the paper's p-scaling is dropped: with 0/1 values the top eigenvalue is exactly p^(m-2), as in
Lemma D.7). With s uniform, Sigma = E_s[f_s f_s^T] is a p^m x p^m matrix, and the lemmas say:

- Lemma D.10: Sigma(x, x') = C_d depends only on the number d of coordinates where x and x' differ,
  C_0 = 1/p and C_d = (1/p^2) (1 - (1 - p)^(-(d - 1))) for d >= 1 (so C_1 = 0);
- eq. D.10 / Lemma D.9: with P the projection onto the span of the lines' indicators (fix all
  coordinates but one), Sigma = J / p^2 + (I - P) Sigma (I - P), and every eigenvalue of the second
  part is at most e^((m-1)/(p-1)) / p;
- Lemma D.7: sum_{i <= n} lambda_i(Sigma) <= p^(m-2) + (n / p) e^((m-1)/(p-1));
- Cor D.8 (with trace Sigma = p^(m-1)): sum_{i > n} lambda_i(Sigma), the least mean squared residual
  of any n-dimensional subspace (Lemma D.4), is >= p^(m-1) (1 - 1/p - (n / p^m) e^((m-1)/(p-1))).

Sigma is computed two ways, both exact in float64 and independent of the closed forms: by averaging
f f^T over the class itself (`class_covariance`), and, where the class is too large to list, entry
by entry from the exact law of the values the two evaluations see (`correlation_by_enumeration`).
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from groklab.errors import GroklabInputError

MAX_CLASS_ENTRIES = 5 * 10**7  # listed functions x p^m entries: ~0.4 GB of int64 at the limit
MAX_INPUTS = 2500  # p^m: Sigma and P are dense p^m x p^m float64 matrices (7^4 = 2401: 46 MB each)


def _check(p: int, m: int) -> None:
    if p < 2 or any(p % q == 0 for q in range(2, math.isqrt(p) + 1)):
        raise GroklabInputError(f"p: must be a prime (got {p})")
    if m < 2:
        raise GroklabInputError(f"m: the class needs at least 2 coordinates (got {m})")
    if p**m > MAX_INPUTS:
        raise GroklabInputError(f"m: p^m = {p**m} inputs exceed the dense limit {MAX_INPUTS} (p = {p})")


def _permutations(p: int, fixed: dict[int, int]) -> np.ndarray:
    return np.array([q for q in itertools.permutations(range(p)) if all(q[i] == v for i, v in fixed.items())])


def _transversal(p: int, m: int) -> list[np.ndarray]:
    """One permutation set per coordinate whose product lists every function of the class equally
    often. The maps s_i -> a s_i + t_i (i < m), s_m -> a s_m + sum t_i leave f_s unchanged and act
    freely, so fixing s_i(0) = 0 (i < m) and s_1(1) = 1 picks one s per orbit. For m = 2, f_s only
    depends on s_2^{-1} s_1, so s_2 = identity suffices (p! functions)."""
    if m == 2:
        return [_permutations(p, {}), np.arange(p)[None, :]]
    return [_permutations(p, {0: 0, 1: 1})] + [_permutations(p, {0: 0})] * (m - 2) + [_permutations(p, {})]


def class_size(p: int, m: int) -> int:
    """How many functions `summand_class` lists (with multiplicity: each orbit once)."""
    _check(p, m)
    return math.prod(len(s) for s in _transversal(p, m))


def summand_class(p: int, m: int) -> np.ndarray:
    """The class as a (functions, p^m) 0/1 float64 matrix, inputs in row-major order of [p]^m;
    its uniform average of f f^T is E_s over all permutations (every orbit has the same size)."""
    _check(p, m)
    if class_size(p, m) * p**m > MAX_CLASS_ENTRIES:
        raise GroklabInputError(f"m: listing the class at p = {p}, m = {m} needs {class_size(p, m) * p**m:.2e} "
                                f"entries (> {MAX_CLASS_ENTRIES:.0e}); use covariance_from_correlations")
    coordinates = np.indices((p,) * m).reshape(m, -1)
    total = np.zeros((1, p**m), dtype=np.int64)
    for i, perms in enumerate(_transversal(p, m)):
        values = perms[:, coordinates[i]] * (1 if i < m - 1 else -1)  # s_m moves to the left-hand side
        total = (total[:, None, :] + values[None, :, :]).reshape(-1, p**m)
    return (total % p == 0).astype(np.float64)


def class_covariance(p: int, m: int) -> np.ndarray:
    """Sigma = E_s[f_s f_s^T] by averaging over the listed class."""
    functions = summand_class(p, m)
    return functions.T @ functions / len(functions)


def hamming_distances(p: int, m: int) -> np.ndarray:
    """(p^m, p^m) number of coordinates where two inputs differ."""
    coordinates = np.indices((p,) * m).reshape(m, -1)
    return (coordinates[:, :, None] != coordinates[:, None, :]).sum(axis=0)


def correlation_closed_form(p: int, d: int) -> float:
    """Lemma D.10: C_0 = 1/p, C_d = (1/p^2)(1 - (1-p)^(-(d-1))) for d >= 1."""
    return 1 / p if d == 0 else (1 - float(1 - p) ** (-(d - 1))) / p**2


def correlation_by_enumeration(p: int, m: int, d: int) -> float:
    """E_s[f_s(x) f_s(x')] for inputs differing in the last d coordinates, exactly: the permutations
    are independent, and s_i at two distinct points is a uniformly random ordered pair of distinct
    symbols (at one point, a uniform symbol), so enumerate those values with equal weights."""
    _check(p, m)
    if not 0 <= d <= m:
        raise GroklabInputError(f"d: must be in [0, m = {m}] (got {d})")
    same = np.arange(p)  # a shared coordinate: one value, seen by both inputs
    pairs = np.array([(u, w) for u in range(p) for w in range(p) if u != w])  # a differing coordinate
    first, second = np.zeros(1, dtype=np.int64), np.zeros(1, dtype=np.int64)
    for i in range(m):
        sign = 1 if i < m - 1 else -1
        u, w = (same, same) if i < m - d else (pairs[:, 0], pairs[:, 1])
        first = (first[:, None] + sign * u[None, :]).ravel()
        second = (second[:, None] + sign * w[None, :]).ravel()
    return float(np.mean((first % p == 0) & (second % p == 0)))


def covariance_from_correlations(p: int, m: int, correlations) -> np.ndarray:
    """Sigma(x, x') = correlations[d(x, x')]."""
    return np.asarray(correlations, dtype=np.float64)[hamming_distances(p, m)]


def line_projection(p: int, m: int) -> np.ndarray:
    """P: the orthogonal projection onto the span of the indicators of lines (sets of inputs that
    agree in all coordinates but one), the space S of eq. D.1."""
    coordinates = np.indices((p,) * m).reshape(m, -1)
    columns = []
    for free in range(m):
        rest = np.delete(coordinates, free, axis=0)
        key = np.ravel_multi_index(tuple(rest), (p,) * (m - 1))
        columns.append(np.eye(p ** (m - 1))[key])  # (p^m, p^(m-1)) line membership
    lines = np.concatenate(columns, axis=1)
    basis, singular, _ = np.linalg.svd(lines, full_matrices=False)
    basis = basis[:, singular > 1e-9 * singular[0]]
    return basis @ basis.T


def growth(p: int, m: int) -> float:
    """e^((m-1)/(p-1)), the factor of Lemmas D.7 and D.9."""
    return math.exp((m - 1) / (p - 1))


def top_sum_bound(p: int, m: int, n) -> np.ndarray:
    """Lemma D.7: sum_{i <= n} lambda_i(Sigma) <= p^(m-2) + (n/p) e^((m-1)/(p-1))."""
    return p ** (m - 2) + np.asarray(n) / p * growth(p, m)


def tail_lower_bound(p: int, m: int, n) -> np.ndarray:
    """Cor D.8: sum_{i > n} lambda_i(Sigma) >= p^(m-1) (1 - 1/p - (n/p^m) e^((m-1)/(p-1)))."""
    return p ** (m - 1) * (1 - 1 / p - np.asarray(n) / p**m * growth(p, m))


@dataclass(frozen=True)
class SpectrumComparison:
    p: int
    m: int
    method: str  # "class" (averaged over the listed class) or "entries" (correlation_by_enumeration)
    functions: int  # functions listed (0 for "entries")
    entry_error: float  # max |Sigma - C_d(x, x')| (Lemma D.10)
    top_eigenvalue: float  # = p^(m-2)
    trace: float  # = p^(m-1)
    decomposition_error: float  # max |Sigma - J/p^2 - (I-P) Sigma (I-P)| (eq. D.10)
    complement_max: float  # largest eigenvalue of (I-P) Sigma (I-P) (Lemma D.9: <= e^((m-1)/(p-1))/p)
    top_slack: float  # min over n of bound - sum_{i<=n} lambda_i (Lemma D.7: >= 0)
    top_ratio: float  # max over n of sum_{i<=n} lambda_i / bound
    tail_slack: float  # min over n of sum_{i>n} lambda_i - lower bound (Cor D.8: >= 0)
    vacuous_from: int  # first n where Cor D.8's lower bound is <= 0

    @property
    def complement_bound(self) -> float:
        return growth(self.p, self.m) / self.p


def compare_spectra(p: int, m: int, method: str = "class") -> SpectrumComparison:
    """Sigma exactly by `method`, against Lemma D.10, eq. D.10, Lemma D.9, Lemma D.7 and Cor D.8 at
    every n = 1..p^m."""
    _check(p, m)
    if method == "class":
        sigma, functions = class_covariance(p, m), class_size(p, m)
    elif method == "entries":
        sigma = covariance_from_correlations(p, m, [correlation_by_enumeration(p, m, d) for d in range(m + 1)])
        functions = 0
    else:
        raise GroklabInputError(f"method: 'class' or 'entries' (got {method!r})")
    closed = covariance_from_correlations(p, m, [correlation_closed_form(p, d) for d in range(m + 1)])
    projection = line_projection(p, m)
    rest = np.eye(p**m) - projection
    complement = rest @ sigma @ rest
    eigenvalues = np.linalg.eigvalsh(sigma)[::-1]
    n = np.arange(1, p**m + 1)
    top = np.cumsum(eigenvalues)
    tail = eigenvalues.sum() - top
    return SpectrumComparison(
        p=p, m=m, method=method, functions=functions,
        entry_error=float(np.max(np.abs(sigma - closed))),
        top_eigenvalue=float(eigenvalues[0]), trace=float(np.trace(sigma)),
        decomposition_error=float(np.max(np.abs(sigma - 1 / p**2 - complement))),
        complement_max=float(np.linalg.eigvalsh(complement)[-1]),
        top_slack=float(np.min(top_sum_bound(p, m, n) - top)),
        top_ratio=float(np.max(top / top_sum_bound(p, m, n))),
        tail_slack=float(np.min(tail - tail_lower_bound(p, m, n))),
        vacuous_from=int(n[tail_lower_bound(p, m, n) <= 0][0]) if np.any(tail_lower_bound(p, m, n) <= 0) else -1,
    )
