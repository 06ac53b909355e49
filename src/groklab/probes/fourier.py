"""Exact Fourier analysis of Boolean-cube functions f: {-1, +1}^n -> R (paper-claims.md section 1.6).

Conventions (shared with ``groklab.tasks.bits.all_sign_vectors``):

- Point ordering: point ``i`` (0 <= i < 2^n) has ``x_j = -1`` iff bit ``j`` of ``i`` is set, i.e.
  ``x_j = 1 - 2 * ((i >> j) & 1)``. A length-2^n value vector ``values[i] = f(x(i))`` uses this order.
- Subset encoding: coefficient index ``m`` stands for ``T = {j : bit j of m is set}``; ``m = 0`` is T = {}.
- Fourier coefficient: ``f_hat(T) = E_x[f(x) chi_T(x)]`` with ``chi_T(x) = prod_{j in T} x_j`` and x uniform,
  so ``f = sum_T f_hat(T) chi_T`` and Parseval reads ``sum_T f_hat(T)^2 = E[f^2]``.

With these conventions ``chi_T(x(i)) = (-1)^{popcount(i & m)}``, so the transform is the Sylvester
Hadamard matrix divided by 2^n, computed by the O(n 2^n) butterfly below. The numpy functions work in
float64 (exact for dyadic-rational tables such as the majority spectrum); the ``*_jax`` twins keep the
input's float dtype and run under ``jax.jit`` / ``jax.vmap``.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from fractions import Fraction

import jax
import jax.numpy as jnp
import numpy as np

MAX_ENUMERATION_BITS = 26  # 2^26 float64 values = 512 MiB; beyond that enumeration is not a probe


# ---------------------------------------------------------------- indexing helpers

def _log2_exact(size: int) -> int:
    """n such that size == 2^n, or ValueError (the transform needs a full cube)."""
    if size < 1 or size & (size - 1):
        raise ValueError(f"length must be a power of two, got {size}")
    return size.bit_length() - 1


def _check_bits(n: int) -> None:
    if not 0 <= n <= MAX_ENUMERATION_BITS:
        raise ValueError(f"n must lie in [0, {MAX_ENUMERATION_BITS}] for exact enumeration, got {n}")


def subset_to_index(subset: Iterable[int]) -> int:
    """Bitmask m = sum_{j in T} 2^j of a subset T given as indices (duplicates rejected)."""
    items = [int(j) for j in subset]
    if len(set(items)) != len(items) or any(j < 0 for j in items):
        raise ValueError(f"subset must hold distinct non-negative indices, got {tuple(items)}")
    return sum(1 << j for j in items)


def index_to_subset(index: int) -> tuple[int, ...]:
    """Inverse of ``subset_to_index``: the sorted indices j with bit j of ``index`` set."""
    index = int(index)
    return tuple(j for j in range(index.bit_length()) if index >> j & 1)


def subset_levels(n: int) -> np.ndarray:
    """|T| for every coefficient index m in [0, 2^n): the popcount of m (int array of length 2^n)."""
    _check_bits(n)
    return np.bitwise_count(np.arange(2**n, dtype=np.uint32)).astype(np.int64)


def sign_vectors(n: int) -> np.ndarray:
    """All 2^n points as a (2^n, n) float64 array, in the same order as ``all_sign_vectors(n)``."""
    _check_bits(n)
    idx = np.arange(2**n, dtype=np.uint32)[:, None]
    return 1.0 - 2.0 * ((idx >> np.arange(n, dtype=np.uint32)) & 1).astype(np.float64)


def coordinate_signs(n: int, j: int) -> np.ndarray:
    """x_j on every point (length 2^n, float64), without building the (2^n, n) matrix."""
    _check_bits(n)
    idx = np.arange(2**n, dtype=np.uint32)
    return 1.0 - 2.0 * ((idx >> np.uint32(j)) & 1).astype(np.float64)


def character_values(n: int, subset: Iterable[int]) -> np.ndarray:
    """chi_T on every point (length 2^n, float64): (-1)^{popcount(i & m_T)}."""
    _check_bits(n)
    mask = subset_to_index(subset)
    if mask >> n:
        raise ValueError(f"subset {index_to_subset(mask)} is not inside [0, {n})")
    parity = np.bitwise_count(np.arange(2**n, dtype=np.uint32) & np.uint32(mask)) & 1
    return 1.0 - 2.0 * parity.astype(np.float64)


def linear_form_values(n: int, w: np.ndarray | float, b: float = 0.0) -> np.ndarray:
    """z(x) = w.x + b on every point (length 2^n, float64), built one coordinate at a time (O(2^n) memory).

    A scalar ``w`` means the constant vector w * 1 (e.g. the all-ones init of Thm 4 / Prop 5).
    """
    weights = np.broadcast_to(np.asarray(w, dtype=np.float64), (n,))
    z = np.full(2**n, float(b), dtype=np.float64)
    for j in range(n):
        z += weights[j] * coordinate_signs(n, j)
    return z


# ---------------------------------------------------------------- Walsh-Hadamard transform

def walsh_hadamard(values: np.ndarray) -> np.ndarray:
    """All Fourier coefficients f_hat(T) = E_x[f(x) chi_T(x)] from values ordered like ``all_sign_vectors``.

    ``values`` has shape (..., 2^n); the result has the same shape, float64, index m <-> T = bits of m.
    Butterfly for coordinate j (block size h = 2^j): with a = f|_{x_j=+1} (bit j clear) and
    b = f|_{x_j=-1}, the pair (a, b) becomes (a + b, a - b): the sum is the part without x_j (j not in T),
    the difference the part multiplying x_j (j in T). After all n stages divide by 2^n (the expectation).
    Done in place on a float64 copy: O(n 2^n) time, O(2^n) extra memory per function.
    """
    out = np.array(values, dtype=np.float64, copy=True)
    size = out.shape[-1]
    _log2_exact(size)
    flat = out.reshape(-1, size)  # a view: ``out`` is a fresh contiguous array
    h = 1
    while h < size:
        blocks = flat.reshape(flat.shape[0], size // (2 * h), 2, h)
        plus = blocks[:, :, 0, :].copy()
        blocks[:, :, 0, :] += blocks[:, :, 1, :]
        blocks[:, :, 1, :] = plus - blocks[:, :, 1, :]
        h *= 2
    flat /= size
    return out


@jax.jit
def walsh_hadamard_jax(values: jax.Array) -> jax.Array:
    """JAX twin of ``walsh_hadamard`` (same ordering and 1/2^n scaling); works under jit and vmap.

    Each stage is a reshape to (..., 2^n / 2h, 2, h) and a stack of (a + b, a - b), so XLA sees n static
    elementwise stages; it is jit-compiled once per shape and dtype (run eagerly, every reshape and
    stack would dispatch and compile on its own). Integer input is promoted to float; float input keeps
    its dtype (float32 unless ``jax_enable_x64``), which is exact for +-1 or 0/1 data up to n = 24.
    """
    v = jnp.asarray(values)
    v = v.astype(jnp.promote_types(v.dtype, jnp.float32))
    size = v.shape[-1]
    _log2_exact(size)
    batch = v.shape[:-1]
    h = 1
    while h < size:
        blocks = v.reshape(*batch, size // (2 * h), 2, h)
        plus, minus = blocks[..., 0, :], blocks[..., 1, :]
        v = jnp.stack([plus + minus, plus - minus], axis=-2).reshape(*batch, size)
        h *= 2
    return v / size


def fourier_coefficients(f: Callable[[np.ndarray], np.ndarray], n: int) -> np.ndarray:
    """Evaluate f on all 2^n points (one (2^n, n) float64 batch) and return its 2^n coefficients (float64).

    f may be a numpy or JAX callable; its output is cast to float64 (a float32 JAX output stays exact
    only as far as float32 was).
    """
    values = np.asarray(f(sign_vectors(n)), dtype=np.float64).reshape(-1)
    if values.shape != (2**n,):
        raise ValueError(f"f must return one value per point ({2**n}), got shape {values.shape}")
    return walsh_hadamard(values)


def coefficient(coeffs: np.ndarray, subset: Iterable[int]) -> np.ndarray | float:
    """f_hat(T) for T given as indices, read from a coefficient vector (leading batch axes kept)."""
    index = subset_to_index(subset)
    if index >= coeffs.shape[-1]:
        raise ValueError(f"subset {index_to_subset(index)} lies outside the cube of the coefficients")
    return coeffs[..., index]


# ---------------------------------------------------------------- majority

def majority_values(n: int) -> np.ndarray:
    """Maj_n(x) = sign(sum_j x_j) on every point (n odd, so the sum is never 0): sum x = n - 2 popcount(i)."""
    if n % 2 != 1:
        raise ValueError(f"majority needs odd n, got {n}")
    return np.sign(n - 2.0 * subset_levels(n))


def majority_coefficients(n: int) -> np.ndarray:
    """All 2^n Fourier coefficients of Maj_n (n odd), exact in float64 (dyadic rationals)."""
    return walsh_hadamard(majority_values(n))


def majority_level_coefficient(n: int, level: int) -> Fraction:
    """Closed form of Maj_n_hat(T) for any |T| = level (O'Donnell, Analysis of Boolean Functions, Thm 5.19).

    0 for even levels (Maj is odd); for odd j, with m = (n - 1)/2,
        Maj_hat(T) = (-1)^{(j-1)/2} * C(m, (j-1)/2) / C(n-1, j-1) * C(n-1, m) * 2 / 2^n.
    j = 1 gives C(n-1, m) / 2^{n-1}; j = 3 gives -Maj_hat_1 / (n - 2).
    """
    if n % 2 != 1 or not 0 <= level <= n:
        raise ValueError(f"need odd n and 0 <= level <= n, got n={n}, level={level}")
    if level % 2 == 0:
        return Fraction(0)
    m, half = (n - 1) // 2, (level - 1) // 2
    sign = -1 if half % 2 else 1
    return sign * Fraction(math.comb(m, half), math.comb(n - 1, level - 1)) * Fraction(
        2 * math.comb(n - 1, m), 2**n
    )


# ---------------------------------------------------------------- gamma-Fourier gap (Def 1)

@dataclass(frozen=True)
class FourierGap:
    """Def 1 for a target support S of size k, applied to the coefficients of f = sigma'(w.x + b).

    gamma: min over (k-1)-subsets T of S of |f_hat(T)| (attained at ``weakest_inner``).
    max_outer: max over all (k+1)-subsets T of [n] of |f_hat(T)| (attained at ``strongest_outer``).
    holds: gamma > 0 and max_outer <= gamma / 2, i.e. f has a gamma-Fourier gap at S.
    """

    gamma: float
    max_outer: float
    holds: bool
    weakest_inner: tuple[int, ...]
    strongest_outer: tuple[int, ...] | None

    @property
    def ratio(self) -> float:
        """gamma / max_outer (inf when every (k+1)-coefficient vanishes); Def 1 needs >= 2."""
        return math.inf if self.max_outer == 0 else self.gamma / self.max_outer


def fourier_gap(coeffs: np.ndarray, support: Iterable[int], n: int) -> FourierGap:
    """The gamma-Fourier gap of Def 1 from a coefficient vector of length 2^n and a support S (|S| = k >= 1).

    Why these two levels: under correlation loss E[grad_i] = -f_hat(S xor {i}) for f = sigma'(w.x + b),
    which is a (k-1)-level coefficient for i in S and a (k+1)-level one for i not in S, so a gap makes the
    relevant coordinates stand out (Prop 5).
    """
    c = np.asarray(coeffs, dtype=np.float64)
    if c.shape != (2**n,):
        raise ValueError(f"expected {2**n} coefficients, got shape {c.shape}")
    s_mask = subset_to_index(support)
    s = index_to_subset(s_mask)
    if not s or s_mask >> n:
        raise ValueError(f"support must be a non-empty subset of [0, {n}), got {s}")
    inner = [s_mask ^ (1 << i) for i in s]
    inner_abs = np.abs(c[inner])
    weakest = inner[int(np.argmin(inner_abs))]
    gamma = float(inner_abs.min())
    outer = np.flatnonzero(subset_levels(n) == len(s) + 1)
    if outer.size:
        outer_abs = np.abs(c[outer])
        max_outer, strongest = float(outer_abs.max()), index_to_subset(int(outer[np.argmax(outer_abs)]))
    else:
        max_outer, strongest = 0.0, None
    return FourierGap(
        gamma=gamma,
        max_outer=max_outer,
        holds=gamma > 0 and max_outer <= gamma / 2,
        weakest_inner=index_to_subset(weakest),
        strongest_outer=strongest,
    )


# ---------------------------------------------------------------- Def 1 under jit / vmap

def support_neighbour_coefficients_jax(coeffs: jax.Array, support: jax.Array, n: int) -> jax.Array:
    """f_hat(S xor {i}) for every i in [0, n), shape (n,), from a coefficient vector of length 2^n.

    ``support`` is an int array of distinct indices and may be traced (one compiled function serves every
    trial's S). This is the whole correlation gradient: E[chi_S(x) x_i f(x)] = f_hat(S xor {i}), a
    (k-1)-level coefficient for i in S and a (k+1)-level one otherwise. Works under jit and vmap; n <= 30.
    """
    mask = jnp.sum(jnp.left_shift(jnp.int32(1), jnp.asarray(support, dtype=jnp.int32)))
    neighbours = jnp.bitwise_xor(mask, jnp.left_shift(jnp.int32(1), jnp.arange(n, dtype=jnp.int32)))
    return jnp.asarray(coeffs)[..., neighbours]


def fourier_gap_jax(coeffs: jax.Array, support: jax.Array, n: int, k: int) -> tuple[jax.Array, jax.Array]:
    """(gamma, max_outer) of Def 1 for a possibly traced support S of size k: the JAX twin of ``fourier_gap``.

    gamma = min over the (k-1)-subsets T of S of |f_hat(T)| (these are S minus one element), and
    max_outer = max over all (k+1)-subsets T of [n] of |f_hat(T)| (0 when k = n); Def 1 holds iff
    gamma > 0 and max_outer <= gamma / 2. n and k are static (the (k+1)-level index set is a constant).
    """
    c = jnp.abs(jnp.asarray(coeffs))
    support = jnp.asarray(support, dtype=jnp.int32)
    in_support = jnp.zeros(n, dtype=bool).at[support].set(True)
    neighbours = support_neighbour_coefficients_jax(c, support, n)
    gamma = jnp.min(jnp.where(in_support, neighbours, jnp.inf))
    outer = np.flatnonzero(subset_levels(n) == k + 1)
    max_outer = jnp.max(c[outer]) if outer.size else jnp.zeros((), c.dtype)
    return gamma, max_outer
