"""Weight initializations (Barak et al. appendix D / spec section 1.4), each with a scale factor."""
from __future__ import annotations

from typing import Literal

import jax
import jax.numpy as jnp

Scheme = Literal["uniform", "gaussian", "bernoulli", "sign"]


def init_weight(key: jax.Array, shape: tuple[int, ...], fan_in: int, fan_out: int, scheme: Scheme,
                scale: float) -> jax.Array:
    xavier = (6.0 / (fan_in + fan_out)) ** 0.5
    if scheme == "uniform":  # Xavier: U[-c, c], c = sqrt(6 / (fan_in + fan_out))
        w = jax.random.uniform(key, shape, minval=-xavier, maxval=xavier)
    elif scheme == "gaussian":  # Kaiming: N(0, 2 / fan_in)
        w = jax.random.normal(key, shape) * (2.0 / fan_in) ** 0.5
    elif scheme == "bernoulli":  # Unif{-c, c}, the same c as the uniform scheme
        w = jnp.where(jax.random.bernoulli(key, 0.5, shape), xavier, -xavier)
    elif scheme == "sign":  # Unif{-1, +1} (Barak et al. Thm 4)
        w = jnp.where(jax.random.bernoulli(key, 0.5, shape), 1.0, -1.0)
    else:
        raise ValueError(f"unknown init scheme {scheme!r}")
    return (scale * w).astype(jnp.float32)


def init_bias(key: jax.Array, shape: tuple[int, ...], fan_in: int, mode: Literal["torch", "zero"]) -> jax.Array:
    # The paper's bias init is unrecovered; PyTorch's default U(+-1/sqrt(fan_in)) is assumed.
    if mode == "zero":
        return jnp.zeros(shape, jnp.float32)
    bound = fan_in**-0.5
    return jax.random.uniform(key, shape, minval=-bound, maxval=bound)
