"""Correlations between the targets of a hypothesis class, and the SQ-dimension bound they give
(Takhanov et al. 2023: "correlation of multiplications", Thm 21; spec section 1.6, claims 34, 36).

    C(h, h') = E_x[h~(x) h~'(x)],   h~ = (h - E_x h) / sd_x(h)   (the Pearson correlation),

with E_x over the family's input weights. For targets that already have mean 0 and variance 1
(Thm 15's standardized t, and the +-1 parity bit of a x mod p: Z_p^* has as many odd as even
residues) this is exactly the raw E_x[h(x) h'(x)] of the spec. `centre=False` gives raw E[h h'].

Reported, never hidden: the pairs at C = -1 exactly (within `tolerance`; in modular multiplication
h_{-a} = -h_a for every a, so the class is orthogonal only on average) and the pairs at +1
(duplicate targets). Summaries use ordered pairs h != h' (every unordered pair twice).

SQ-dimension (Thm 21): SQ-dim(H, D) + 1 >= min(|H|^{2/3} / (3 BB^{1/3}), |H|^{1/2}). The
Boas-Bellman-type statistic BB is UNRECOVERED; the two stand-ins the spec names are offered:
"mean-squared" = mean_{h != h'} C(h, h')^2 (the default: the quantity a Boas-Bellman bound on
sum_h <g, h>^2 controls on average) and "max" = max_{h != h'} |C(h, h')|. Both make the bound grow
with |H| here; it is a sanity check only (claim 36).

Everything is vectorized: a generic family is processed in blocks of rows of the H x H matrix
(never a Python loop over pairs). Modular multiplication h_a(x) = psi(a x mod p) has more structure:
substituting y = a x, C(a, b) = c(b / a) with c(r) = E_y[psi(y) psi(r y)], so the whole matrix is
one vector of p - 1 numbers, computed in O(p^2) (`multiplicative_profile`); at p = 10^4 that takes
a second where the generic path multiplies two 10^4 x 10^4 matrices.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal

import numpy as np

from groklab.tasks.family import TargetFamily

BBStatistic = Literal["mean-squared", "max"]
MAX_DENSE_SIZE = 8192  # correlation_matrix refuses larger classes (use correlation_summary)
BLOCK_ELEMENTS = 4_000_000  # float64 entries per block (32 MB)


@dataclass(frozen=True)
class CorrelationSummary:
    family: str
    size: int  # |H|
    mean_squared: float  # mean over ordered pairs h != h' of C(h, h')^2
    max_abs: float  # max over h != h' of |C(h, h')|
    anti_pairs: int  # unordered pairs with C = -1 (within tolerance)
    duplicate_pairs: int  # unordered pairs with C = +1 (the same target up to scale)
    anti_examples: list = field(default_factory=list)  # up to `max_examples` (h, h') hypothesis values at -1
    centred: bool = True  # Pearson correlation (else raw E[h h'])
    exact: bool = True  # the family's inputs are the input distribution itself
    note: str = ""

    def boas_bellman(self, statistic: BBStatistic = "mean-squared") -> float:
        return boas_bellman_statistic(self, statistic)

    def sq_bound(self, statistic: BBStatistic = "mean-squared") -> float:
        """Thm 21's lower bound on SQ-dim + 1 with this BB stand-in."""
        return sq_dimension_bound(self.size, self.boas_bellman(statistic))

    def as_dict(self) -> dict:
        out = asdict(self)
        out["anti_examples"] = [[_plain(v) for v in pair] for pair in self.anti_examples]
        out["sq_bound"] = {s: self.sq_bound(s) for s in ("mean-squared", "max")}
        return out


def _plain(value):
    """numpy arrays and scalars as plain Python values (JSON-serializable)."""
    return value.tolist() if isinstance(value, (np.ndarray, np.generic)) else value


def boas_bellman_statistic(summary: CorrelationSummary, statistic: BBStatistic = "mean-squared") -> float:
    if statistic == "mean-squared":
        return summary.mean_squared
    if statistic == "max":
        return summary.max_abs
    raise ValueError(f"statistic must be 'mean-squared' or 'max' (got {statistic!r})")


def sq_dimension_bound(size: int, boas_bellman: float) -> float:
    """min(|H|^{2/3} / (3 BB^{1/3}), |H|^{1/2}) (Takhanov et al. Thm 21); BB = 0 leaves |H|^{1/2}."""
    first = np.inf if boas_bellman <= 0 else size ** (2 / 3) / (3 * boas_bellman ** (1 / 3))
    return float(min(first, size**0.5))


def normalized_targets(family: TargetFamily, centre: bool = True) -> np.ndarray:
    """(H, N) float64 rows h~ with E_x h~ = 0 and E_x h~^2 = 1 under the input weights (centre=False:
    rows as given). A constant target has no correlation: it is an error."""
    if family.num_classes != 1:
        raise ValueError(f"{family.name}: correlations need scalar targets (num_classes 1)")
    targets = np.array(family.targets, dtype=np.float64)  # one float64 copy, then in place
    weights = np.asarray(family.input_weights, dtype=np.float64)
    if not centre:
        return targets
    targets -= (targets @ weights)[:, None]
    scale = np.sqrt((targets**2) @ weights)
    if np.any(scale <= 1e-12):
        raise ValueError(f"{family.name}: hypothesis {family.hypotheses[int(np.argmin(scale))]} is constant")
    targets /= scale[:, None]
    return targets


def correlation_matrix(family: TargetFamily, centre: bool = True) -> np.ndarray:
    """The dense H x H matrix C (small classes; correlation_summary handles any size in blocks)."""
    if family.size > MAX_DENSE_SIZE:
        raise ValueError(f"{family.name}: {family.size} hypotheses; use correlation_summary (blocked)")
    z = normalized_targets(family, centre)
    return (z * family.input_weights) @ z.T


def correlation_summary(family: TargetFamily, centre: bool = True, tolerance: float = 1e-9,
                        max_examples: int = 10) -> CorrelationSummary:
    """Statistics of C over ordered pairs h != h', computed in row blocks of C (float64)."""
    z = normalized_targets(family, centre)
    z *= np.sqrt(np.asarray(family.input_weights, dtype=np.float64))  # C = z z^T (weights split in two)
    size = z.shape[0]
    if size < 2:
        raise ValueError(f"{family.name}: correlations need at least two hypotheses")
    rows = max(1, BLOCK_ELEMENTS // max(size, z.shape[1]))
    square_sum, max_abs, anti, duplicates, examples = 0.0, 0.0, 0, 0, []
    for start in range(0, size, rows):
        block = z[start:start + rows] @ z.T  # C for hypotheses start.., all partners
        index = np.arange(block.shape[0])
        block[index, start + index] = np.nan  # leave out the diagonal
        off = np.nan_to_num(block, nan=0.0)
        square_sum += float(np.sum(off**2))
        max_abs = max(max_abs, float(np.max(np.abs(off))))
        upper = np.arange(size)[None, :] > (start + index)[:, None]  # count each unordered pair once
        anti_rows, anti_cols = np.nonzero((block <= -1 + tolerance) & upper)
        anti += len(anti_rows)
        duplicates += int(np.sum((block >= 1 - tolerance) & upper))
        for i, j in zip(anti_rows[: max_examples - len(examples)], anti_cols):
            examples.append((family.hypotheses[start + i], family.hypotheses[j]))
    return CorrelationSummary(family=family.name, size=size, mean_squared=square_sum / (size * (size - 1)),
                              max_abs=max_abs, anti_pairs=anti, duplicate_pairs=duplicates,
                              anti_examples=examples, centred=centre, exact=family.exact, note=family.note)


# ------------------------------------------------------------------------------------------------
# Modular multiplication: C(a, b) depends on b / a only
# ------------------------------------------------------------------------------------------------

def multiplicative_profile(p: int, psi: np.ndarray, centre: bool = True) -> np.ndarray:
    """c(r) = E_{y in Z_p^*}[psi~(y) psi~(r y mod p)] for r = 1..p-1 (index r - 1), where psi[z - 1] is
    psi(z) for z = 1..p-1. For the class h_a(x) = psi(a x mod p), C(a, b) = c(b a^{-1} mod p), since
    y = a x runs over Z_p^* as x does. Exact (float64), O(p^2) work in blocks of r."""
    values = np.asarray(psi, dtype=np.float64)
    if values.shape != (p - 1,):
        raise ValueError(f"psi must hold p - 1 = {p - 1} values (got shape {values.shape})")
    if centre:
        values = values - values.mean()
        values = values / np.sqrt(np.mean(values**2))
    at = np.concatenate([[0.0], values])  # at[z] = psi~(z), z = 0..p-1 (z = 0 never occurs)
    y = np.arange(1, p, dtype=np.int64)
    profile = np.empty(p - 1)
    rows = max(1, BLOCK_ELEMENTS // (p - 1))
    for start in range(1, p, rows):
        r = np.arange(start, min(p, start + rows), dtype=np.int64)
        profile[start - 1:start - 1 + len(r)] = at[(r[:, None] * y[None, :]) % p] @ values / (p - 1)
    return profile


def modular_inverse(a: int, p: int) -> int:
    return pow(int(a), -1, p)


def profile_summary(p: int, profile: np.ndarray, name: str, centre: bool = True, tolerance: float = 1e-9,
                    max_examples: int = 10) -> CorrelationSummary:
    """The CorrelationSummary of the whole class {h_a : a in Z_p^*} from its profile c(r): every
    ratio r != 1 occurs in exactly p - 1 ordered pairs (a, r a)."""
    off = profile[1:]  # r = 2..p-1 (r = 1 is the diagonal)
    ratios = np.arange(2, p)
    anti_ratios = ratios[off <= -1 + tolerance]
    duplicate_ratios = ratios[off >= 1 - tolerance]
    # Each ratio r gives p - 1 ordered pairs; (a, r a) and (r a, a) are one unordered pair, whose
    # reverse has ratio r^{-1} (also counted), so unordered pairs = (p - 1) * #ratios / 2.
    examples = []
    for r in anti_ratios.tolist():
        for a in range(1, p):
            if len(examples) == max_examples:
                break
            if a < a * r % p:
                examples.append((a, a * r % p))
    return CorrelationSummary(family=name, size=p - 1, mean_squared=float(np.mean(off**2)),
                              max_abs=float(np.max(np.abs(off))), anti_pairs=(p - 1) * len(anti_ratios) // 2,
                              duplicate_pairs=(p - 1) * len(duplicate_ratios) // 2, anti_examples=examples,
                              centred=centre, exact=True,
                              note=f"all a in Z_p^*, from c(r) = C(a, r a); ratios at -1: {anti_ratios.tolist()[:5]}")


def modular_multiplication_profile(p: int, target: str = "standardized") -> np.ndarray:
    """c(r) for Thm 15's standardized class or the +-1 parity-bit class (both mean 0, variance 1)."""
    from groklab.tasks.modular_multiplication import parity_label, standardized_residue

    z = np.arange(1, p)  # float64 values (the task's float32 ones would cost 1e-8 of exactness)
    return multiplicative_profile(p, standardized_residue(z, p) if target == "standardized" else parity_label(z))


def ratio_correlation(profile: np.ndarray, p: int, ratio: int) -> float:
    """C(a, ratio * a) for every a: c(ratio mod p)."""
    return float(profile[int(ratio) % p - 1])
