"""Population gradient of a single neuron on sparse parity, exact and Monte-Carlo (Prop 5, claims 10-11).

Model: f(x) = sigma(w.x + b) with x uniform on {-1, +1}^n and label y = chi_S(x). For a loss l(f, y),
    grad_w l = l'(f, y) * sigma'(w.x + b) * x,
so E[grad_i] = E[h(x) x_i] = h_hat({i}) with h = l'(f, y) sigma'(z): one Walsh-Hadamard transform of h
gives the whole exact gradient in O(n 2^n) time and O(2^n) memory.

Under correlation loss l = -y f we have l' = -y, hence E[grad_i] = -E[chi_S x_i sigma'(z)]
= -sigma'_hat(S xor {i}): a (k-1)-level coefficient of sigma' for i in S and a (k+1)-level one for i not
in S. That is why the gamma-Fourier gap of sigma' (``fourier.fourier_gap``) separates S (Prop 5).

Derivative conventions at kinks (they matter only on a measure-zero set of z, but enumeration can hit it):
- ReLU: sigma'(z) = 1[z > 0], so sigma'(0) = 0 (matching ``jax.grad(jax.nn.relu)(0.0) == 0``). With n odd
  and w = 1 (all ones), w.x is odd and never 0, so the convention does not enter the Prop 5 table.
- Hinge: l'(f, y) = -y 1[y f < 1], so the subgradient at y f = 1 is 0.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from types import ModuleType
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from groklab.probes.fourier import (
    character_values,
    index_to_subset,
    linear_form_values,
    subset_to_index,
    walsh_hadamard,
)
from groklab.tasks.bits import all_sign_vectors, random_signs

ArrayFn = Callable[[Any, ModuleType], Any]  # (z, xp) -> array, xp being numpy or jax.numpy


@dataclass(frozen=True)
class Activation:
    """sigma and sigma' written against an array module ``xp`` so one definition serves numpy and JAX."""

    name: str
    value: ArrayFn
    derivative: ArrayFn


ACTIVATIONS: dict[str, Activation] = {
    "relu": Activation("relu", lambda z, xp: xp.maximum(z, 0.0), lambda z, xp: (z > 0).astype(z.dtype)),
    "sin": Activation("sin", lambda z, xp: xp.sin(z), lambda z, xp: xp.cos(z)),
    "cos": Activation("cos", lambda z, xp: xp.cos(z), lambda z, xp: -xp.sin(z)),
    "linear": Activation("linear", lambda z, xp: z, lambda z, xp: xp.ones_like(z)),
    "square": Activation("square", lambda z, xp: z * z, lambda z, xp: 2.0 * z),
}

# dl/df as a function of (f, y, xp); l is the per-sample loss of section 1.3.
LOSS_DERIVATIVES: dict[str, Callable[[Any, Any, ModuleType], Any]] = {
    "correlation": lambda f, y, xp: -y,  # l = -y f
    "hinge": lambda f, y, xp: -y * (y * f < 1.0).astype(f.dtype),  # l = max(0, 1 - y f)
    "square": lambda f, y, xp: 2.0 * (f - y),  # l = (f - y)^2, no 1/2
    "cross_entropy": lambda f, y, xp: -y / (1.0 + xp.exp(y * f)),  # l = log(1 + e^{-y f})
}


class GradientEstimate(NamedTuple):
    """Monte-Carlo estimate of E[grad_w l] and its per-coordinate standard error (a pytree, so vmap-able)."""

    mean: jax.Array
    stderr: jax.Array


def get_activation(activation: str | Activation) -> Activation:
    """Look up an activation by name (``ACTIVATIONS``) or pass an ``Activation`` through."""
    if isinstance(activation, Activation):
        return activation
    try:
        return ACTIVATIONS[activation]
    except KeyError:
        raise ValueError(f"unknown activation {activation!r}; known: {sorted(ACTIVATIONS)}") from None


def _loss_derivative(loss: str) -> Callable[[Any, Any, ModuleType], Any]:
    try:
        return LOSS_DERIVATIVES[loss]
    except KeyError:
        raise ValueError(f"unknown loss {loss!r}; known: {sorted(LOSS_DERIVATIVES)}") from None


def _pointwise_factor(z: Any, y: Any, activation: Activation, loss: str, xp: ModuleType) -> Any:
    """h = l'(sigma(z), y) * sigma'(z): the scalar that multiplies x in grad_w l."""
    f = activation.value(z, xp)
    return _loss_derivative(loss)(f, y, xp) * activation.derivative(z, xp)


def _checked_support(n: int, support: Iterable[int]) -> tuple[int, ...]:
    mask = subset_to_index(support)
    if mask >> n:
        raise ValueError(f"support {index_to_subset(mask)} is not inside [0, {n})")
    return index_to_subset(mask)


def _support_indicator(n: int, support: tuple[int, ...]) -> jax.Array:
    """Boolean (n,) vector marking S, so chi_S(x) = prod_j where(S_j, x_j, 1) is traceable."""
    return jnp.zeros(n, dtype=bool).at[jnp.asarray(support, dtype=jnp.int32)].set(True)


# ---------------------------------------------------------------- exact (enumeration)

def activation_derivative_coefficients(
    n: int, w: np.ndarray | float, b: float = 0.0, activation: str | Activation = "relu"
) -> np.ndarray:
    """All Fourier coefficients of sigma'(w.x + b), float64 (feed to ``fourier.fourier_gap``).

    For ReLU at w = 1, b = 0 and odd n this is (1 + Maj_n)/2: coefficient 1/2 at T = {} and Maj_hat(T)/2
    elsewhere.
    """
    z = linear_form_values(n, w, b)
    return walsh_hadamard(get_activation(activation).derivative(z, np))


def population_gradient_single_neuron(
    n: int,
    support: Iterable[int],
    w: np.ndarray | float,
    b: float = 0.0,
    activation: str | Activation = "relu",
    loss: str = "correlation",
) -> np.ndarray:
    """Exact E_x[grad_w l(sigma(w.x + b), chi_S(x))] by enumerating all 2^n inputs, float64 of shape (n,).

    Computed as the singleton coefficients h_hat({i}) = E[h x_i] of h = l'(f, y) sigma'(z) via one
    Walsh-Hadamard transform. Correlation loss gives E[grad_i] = -E[y x_i sigma'(w.x + b)]. A scalar w
    means w * 1. Practical up to n of about 22.
    """
    s = _checked_support(n, support)
    z = linear_form_values(n, w, b)
    y = character_values(n, s)
    h = _pointwise_factor(z, y, get_activation(activation), loss, np)
    return walsh_hadamard(h)[1 << np.arange(n)]


@partial(jax.jit, static_argnames=("n", "support", "activation", "loss"))
def _exact_gradient_jax(
    w: jax.Array, b: jax.Array, *, n: int, support: tuple[int, ...], activation: Activation, loss: str
) -> jax.Array:
    x = all_sign_vectors(n).astype(w.dtype)
    return jnp.mean(_per_input_gradients(x, w, b, n, support, activation, loss), axis=0)


def _per_input_gradients(x, w, b, n: int, support: tuple[int, ...], activation: Activation, loss: str):
    """grad_w l(x) = l'(f(x), y) sigma'(w.x + b) x for each row of x, with y = chi_S(x)."""
    y = jnp.prod(jnp.where(_support_indicator(n, support), x, 1.0), axis=-1)
    z = jnp.sum(x * w, axis=-1) + b
    return _pointwise_factor(z, y, activation, loss, jnp)[:, None] * x


def population_gradient_single_neuron_jax(
    n: int,
    support: Iterable[int],
    w: jax.Array | float,
    b: jax.Array | float = 0.0,
    activation: str | Activation = "relu",
    loss: str = "correlation",
) -> jax.Array:
    """JAX twin of ``population_gradient_single_neuron`` (float32 unless x64), jit-compiled, vmap-able in w, b.

    Enumerates the (2^n, n) sign matrix, so keep n <= about 18. Use it for exact gradients along many
    weight vectors (e.g. claim 10's SGD path); use the numpy version for exact tables.
    """
    s = _checked_support(n, support)
    w_arr = jnp.asarray(w)
    w_arr = jnp.broadcast_to(w_arr.astype(jnp.promote_types(w_arr.dtype, jnp.float32)), (n,))
    return _exact_gradient_jax(
        w_arr, jnp.asarray(b, dtype=w_arr.dtype), n=n, support=s, activation=get_activation(activation), loss=loss
    )


# ---------------------------------------------------------------- Monte Carlo

@partial(jax.jit, static_argnames=("n", "support", "activation", "loss", "samples"))
def _monte_carlo_core(
    key: jax.Array,
    w: jax.Array,
    b: jax.Array,
    *,
    n: int,
    support: tuple[int, ...],
    activation: Activation,
    loss: str,
    samples: int,
) -> GradientEstimate:
    x = random_signs(key, (samples,), n).astype(w.dtype)
    per_sample = _per_input_gradients(x, w, b, n, support, activation, loss)
    mean = jnp.mean(per_sample, axis=0)
    stderr = jnp.std(per_sample, axis=0, ddof=1) / jnp.sqrt(samples)
    return GradientEstimate(mean, stderr)


def monte_carlo_population_gradient(
    n: int,
    support: Iterable[int],
    w: jax.Array | float,
    b: jax.Array | float = 0.0,
    activation: str | Activation = "relu",
    loss: str = "correlation",
    *,
    samples: int,
    key: jax.Array,
) -> GradientEstimate:
    """Batch-gradient estimate g = (1/B) sum_s grad_w l(x_s) over B = ``samples`` fresh uniform inputs.

    This is one big-batch SGD gradient (Prop 5 / Thm 4). Returns the mean and the standard error
    std_s(grad)/sqrt(B) (ddof = 1) per coordinate. Inputs are drawn with ``tasks.bits.random_signs``.
    Works under ``jax.vmap`` over ``key`` (and over ``w``, ``b``): n, support, activation, loss and
    samples are static.
    """
    if samples < 2:
        raise ValueError(f"need at least 2 samples for a standard error, got {samples}")
    s = _checked_support(n, support)
    w_arr = jnp.asarray(w)
    w_arr = jnp.broadcast_to(w_arr.astype(jnp.promote_types(w_arr.dtype, jnp.float32)), (n,))
    return _monte_carlo_core(
        key,
        w_arr,
        jnp.asarray(b, dtype=w_arr.dtype),
        n=n,
        support=s,
        activation=get_activation(activation),
        loss=loss,
        samples=int(samples),
    )


# ---------------------------------------------------------------- support recovery

def recover_support(grad: jax.Array, k: int) -> jax.Array:
    """Indices of the k largest |g_i|, sorted ascending, shape (..., k); vmap-able.

    Under a Fourier gap the top-k coordinates of a good gradient estimate are exactly S (Prop 5 style).
    Ties are broken towards the lower index (``lax.top_k``).
    """
    _, idx = jax.lax.top_k(jnp.abs(jnp.asarray(grad)), k)
    return jnp.sort(idx, axis=-1)


def prop5_threshold_mask(grad: jax.Array, gamma: float | jax.Array) -> jax.Array:
    """Boolean mask |g_i| >= 3 gamma / 4 (Prop 5: equals S when ||g - E grad||_inf <= gamma/4); vmap-able."""
    return jnp.abs(jnp.asarray(grad)) >= 0.75 * jnp.asarray(gamma)


def prop5_threshold_support(grad: np.ndarray | jax.Array, gamma: float) -> tuple[int, ...]:
    """The set {i : |g_i| >= 3 gamma / 4} of Prop 5 as a sorted tuple (concrete, 1-D gradient only)."""
    g = np.asarray(grad, dtype=np.float64)
    if g.ndim != 1:
        raise ValueError(f"expected a 1-D gradient, got shape {g.shape}; use prop5_threshold_mask for batches")
    return tuple(int(i) for i in np.flatnonzero(np.abs(g) >= 0.75 * gamma))


def support_gap(grad: jax.Array, support: jax.Array) -> jax.Array:
    """min_{i in S} |g_i| - max_{i not in S} |g_i| over the last axis; vmap-able, S may be traced.

    Positive exactly when the k largest |g_i| are S (the tie-safe form of ``recover_support(g, k) == S``:
    a tie across the boundary gives 0, not a lucky index order). Under a gamma-Fourier gap and an exact
    correlation-loss gradient it is at least gamma / 2 (Prop 5).
    """
    magnitude = jnp.abs(jnp.asarray(grad))
    in_support = jnp.zeros(magnitude.shape[-1], dtype=bool).at[jnp.asarray(support, dtype=jnp.int32)].set(True)
    relevant = jnp.min(jnp.where(in_support, magnitude, jnp.inf), axis=-1)
    irrelevant = jnp.max(jnp.where(in_support, -jnp.inf, magnitude), axis=-1)
    return relevant - irrelevant
