"""The eNTK of the quadratic network f = V (W [e_a; e_b])^2 in closed form (Mohamadi et al. App B).

For g = u . f with hidden units h_k = W[a, k] + W[p + b, k] and coefficients c_k = V[k, :] . u,
dg/dV[k, :] = u h_k^2 and dg/dW[a, k] = dg/dW[p + b, k] = 2 c_k h_k, so

    K(x, x') = (u . u') sum_k h_k^2 h'_k^2 + 4 sum_k c_k h_k c'_k h'_k (1(a = a') + 1(b = b')).

O(n^2 h) work instead of the Jacobian's O(n^2 h p): rows a and p + b of W and one readout are all
an example's gradient touches. u is one vector for every example (the first logit: e_1; the pNTK:
1 / sqrt(C)), or e_c per example for the regression predictor e_c^T f on triples [e_a; e_b; e_c].
tests/test_why_grok_kernel.py checks it against both generic implementations.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp


def quadratic_ntk(hidden: jax.Array, a: jax.Array, b: jax.Array, v: jax.Array,
                  readout: jax.Array | None, c: jax.Array | None = None) -> jax.Array:
    """hidden (n, h); symbols a, b (n,); v (h,) for a scalar network or (h, C); readout (C,) or None
    with the per-example output index c (the regression predictor) or a scalar network."""
    same_symbols = (a[:, None] == a[None, :]).astype(hidden.dtype) + (b[:, None] == b[None, :])
    if v.ndim == 1:  # scalar output g = sum_k v_k h_k^2
        coefficients, readout_overlap = v[None, :], 1.0
    elif readout is None:  # g = e_c^T f: the readout is e_c, example by example
        coefficients = v[:, c].T
        readout_overlap = (c[:, None] == c[None, :]).astype(hidden.dtype)
    else:
        coefficients, readout_overlap = (v @ readout)[None, :], readout @ readout
    squares = hidden**2
    weighted = hidden * coefficients
    return readout_overlap * (squares @ squares.T) + 4 * (weighted @ weighted.T) * same_symbols


def symbols(x: jax.Array, vocabulary: int, slots: int) -> tuple[jax.Array, ...]:
    """The symbol index of each one-hot slot of x (pairs: a, b; triples: a, b, c)."""
    return tuple(jnp.argmax(x[..., i * vocabulary:(i + 1) * vocabulary], axis=-1) for i in range(slots))


