"""Uniform +-1 vectors drawn on the device from raw random bits (one uint32 gives 32 coordinates)."""
from __future__ import annotations

import jax
import jax.numpy as jnp


def random_signs(key: jax.Array, shape_prefix: tuple[int, ...], n: int) -> jax.Array:
    """float32 array of shape (*shape_prefix, n), i.i.d. uniform over {-1, +1}."""
    words = (n + 31) // 32
    bits = jax.random.bits(key, (*shape_prefix, words), dtype=jnp.uint32)
    shifts = jnp.arange(32, dtype=jnp.uint32)
    unpacked = (bits[..., None] >> shifts) & 1
    unpacked = unpacked.reshape(*shape_prefix, words * 32)[..., :n]
    return 1.0 - 2.0 * unpacked.astype(jnp.float32)


def all_sign_vectors(n: int) -> jax.Array:
    """All 2^n points of {-1, +1}^n as a (2^n, n) float32 array (row i is the binary expansion of i)."""
    idx = jnp.arange(2**n, dtype=jnp.uint32)[:, None]
    bits = (idx >> jnp.arange(n, dtype=jnp.uint32)) & 1
    return 1.0 - 2.0 * bits.astype(jnp.float32)
