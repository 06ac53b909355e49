"""Closed-form and exactly computable theory of Hidden Progress (Barak et al. 2022), claims 13 and 19.

Thm 7 (claim 13): disjoint-PolyNet f(x) = prod_{i=1}^k <w_i, x_{P_i}>, w_i in R^{n'}, on the
(k n', k) parity whose relevant bit is coordinate 1 of every block, y = prod_i x_{i1}. Under the
correlation loss L(w) = -E[y f(x)] the blocks are independent and
    E[y f] = prod_i E[x_{i1} <w_i, x_i>] = prod_i w_{i1},
so dL/dw_{i1} = -prod_{j != i} w_{j1} and dL/dw_{ij} = 0 for j != 1. Gradient flow w' = -grad L from the
all-ones init keeps every irrelevant weight at 1 and every relevant weight at the common value v(t) with
    v' = v^{k-1},  v(0) = 1   =>   t = T(v) = (1 - v^{-(k-2)}) / (k-2),   v(t) = (1 - (k-2) t)^{-1/(k-2)}
(k >= 3; v blows up at t* = 1/(k-2)).

Thm 4 (claim 19): one large-batch SGD step on a 2-layer ReLU MLP from a symmetric sign init, hinge
loss, weight decay lambda_0 = 1 (so the init is forgotten: w_1 = -eta_0 g), eta_0 = 1/(k |xi_{k-1}|).
"""
from __future__ import annotations

import functools
import math

import numpy as np
from scipy.integrate import solve_ivp
from scipy.stats import binom

# ---------------------------------------------------------------- Thm 7: disjoint-PolyNet gradient flow


def _check_k(k: int) -> None:
    if k < 3:
        raise ValueError(f"Thm 7 needs k >= 3 (got k={k}); k = 2 gives exponential, not finite-time, growth")


def disjoint_polynet_time_to_weight(v, k: int):
    """T(v) = (1 - v^{-(k-2)}) / (k-2): gradient-flow time for the relevant weights to grow from 1 to v."""
    _check_k(k)
    v = np.asarray(v, dtype=np.float64)
    return (1.0 - v ** (-(k - 2.0))) / (k - 2.0)


def disjoint_polynet_relevant_weight(t, k: int):
    """Closed form v(t) = (1 - (k-2) t)^{-1/(k-2)} of v' = v^{k-1}, v(0) = 1, for 0 <= t < 1/(k-2)."""
    _check_k(k)
    t = np.asarray(t, dtype=np.float64)
    if np.any(t < 0) or np.any(t >= 1.0 / (k - 2)):
        raise ValueError(f"t must lie in [0, 1/(k-2)) = [0, {1.0 / (k - 2):.6g}) (finite-time blow-up)")
    return (1.0 - (k - 2.0) * t) ** (-1.0 / (k - 2.0))


def disjoint_polynet_population_gradient(w: np.ndarray) -> np.ndarray:
    """Exact population gradient of the correlation loss for disjoint-PolyNet weights w of shape (k, n').

    dL/dw_{i1} = -prod_{j != i} w_{j1} (column 0 is the relevant bit of each block); all other entries 0.
    """
    w = np.asarray(w, dtype=np.float64)
    grad = np.zeros_like(w)
    rel = w[:, 0]
    for i in range(w.shape[0]):
        grad[i, 0] = -np.prod(np.delete(rel, i))
    return grad


def integrate_disjoint_polynet(t_eval, k: int, n_prime: int, rtol: float = 1e-12, atol: float = 1e-12) -> np.ndarray:
    """Integrate the full gradient flow w' = -grad L(w) from the all-ones init numerically (scipy solve_ivp,
    DOP853). Returns the weights at ``t_eval``, shape (len(t_eval), k, n'). Agrees with
    ``disjoint_polynet_relevant_weight`` in column 0 and stays exactly 1 elsewhere."""
    _check_k(k)
    t_eval = np.atleast_1d(np.asarray(t_eval, dtype=np.float64))
    shape = (k, n_prime)

    def rhs(_t, flat):
        return -disjoint_polynet_population_gradient(flat.reshape(shape)).ravel()

    sol = solve_ivp(rhs, (0.0, float(t_eval.max())), np.ones(k * n_prime), method="DOP853",
                    t_eval=t_eval, rtol=rtol, atol=atol)
    if not sol.success:
        raise RuntimeError(f"solve_ivp failed: {sol.message}")
    return sol.y.T.reshape(len(t_eval), k, n_prime)


def block_disagreement_probability(v: float, n_prime: int) -> float:
    """q(v) = P[sign(v x_1 + s) != x_1] for one block, s = sum of n'-1 independent +-1 bits.

    s = 2 Bin(n'-1, 1/2) - (n'-1). By the symmetry (x_1, s) -> (-x_1, -s) we may take x_1 = +1:
        q(v) = P[s < -v] + 1/2 P[s = -v].
    Tie convention: sign(0) is a fair coin flip, independent of everything else (so a tied block
    contributes 1/2). With it the error at v = 0 is exactly 1/2 for every n', and because the product
    of a fair coin with anything independent is a fair coin, it is the same as flipping a coin for the
    whole prediction whenever f(x) = 0. Ties happen only when v is an integer of the parity of n'-1.
    """
    if n_prime < 1:
        raise ValueError("n' must be >= 1")
    m = n_prime - 1
    b = np.arange(m + 1)
    s = 2 * b - m
    pmf = binom.pmf(b, m, 0.5) if m > 0 else np.ones(1)
    below = float(pmf[s < -v - 1e-9].sum())
    tie = float(pmf[np.abs(s + v) <= 1e-9].sum())
    return below + 0.5 * tie


def disjoint_polynet_error(v: float, n_prime: int, k: int) -> float:
    """Exact 0-1 error P[sign prod_i (v x_{i1} + sum_{j != 1} x_{ij}) != prod_i x_{i1}].

    The k blocks are independent and the product's sign is wrong iff an odd number of blocks disagree
    with their relevant bit, so with q = ``block_disagreement_probability(v, n')``:
        err(v) = P[Bin(k, q) odd] = (1 - (1 - 2q)^k) / 2.
    Ties (a block sum of exactly 0) count as a fair coin flip (see ``block_disagreement_probability``).
    """
    if k < 1:
        raise ValueError("k must be >= 1")
    q = block_disagreement_probability(v, n_prime)
    return 0.5 * (1.0 - (1.0 - 2.0 * q) ** k)


def weight_reaching_error(eps: float, n_prime: int, k: int) -> float:
    """inf{v >= 1 : err(v) <= eps}: the relevant weight at which the error first drops to eps.

    err(v) is a non-increasing step function of v that only changes at the lattice points
    v = m, m = n'-1 (mod 2), where block sums can tie; between lattice points (spacing 2) it is constant.
    Since v(t) increases from 1, the error at times t > 0 is err(v(t)^+), so the answer is the first
    candidate m in {1} U {lattice points > 1} with err(m + 1/2) <= eps (the right limit).
    Error 0 is reached at v = n'-1 (for n' >= 2): beyond it no block can disagree.
    """
    candidates = [1.0] + [float(m) for m in range(2, n_prime) if (m - (n_prime - 1)) % 2 == 0]
    for m in candidates:
        if disjoint_polynet_error(m + 0.5, n_prime, k) <= eps:
            return m
    raise ValueError(f"error never drops to {eps}")  # unreachable for eps >= 0


def time_to_error(eps: float, n_prime: int, k: int) -> float:
    """T(eps) = T(v_eps): gradient-flow time at which the 0-1 error first reaches eps (0 if already there)."""
    return float(disjoint_polynet_time_to_weight(weight_reaching_error(eps, n_prime, k), k))


def time_ratio(n_prime: int, k: int, eps: float = 0.49) -> float:
    """Claim 13's ratio T(0.49)/T(0) (Thm 7: >= 1 - O(n'^{1-k/2})).

    Interpretation: T(eps) is the gradient-flow time at which the exact 0-1 error first reaches eps, so
    T(0.49) is the end of the plateau (error still within 0.01 of chance) and T(0) the time of exact
    convergence (v = n'-1). The ratio is the fraction of the whole run spent on the plateau; it tends
    to 1 as n' grows. Needs n' >= 3 (for n' <= 2 the error is already 0 just after t = 0).
    """
    if n_prime < 3:
        raise ValueError("time_ratio needs n' >= 3")
    return time_to_error(eps, n_prime, k) / time_to_error(0.0, n_prime, k)


def fit_power_law(x, y) -> float:
    """Least-squares slope of log y against log x."""
    return float(np.polyfit(np.log(np.asarray(x, float)), np.log(np.asarray(y, float)), 1)[0])


# ---------------------------------------------------------------- Thm 4: one large-batch step


def majority_relu_coefficient(n: int, level: int) -> float:
    """|xi_level|: the magnitude of the Fourier coefficient of sigma'(1.x) = 1[sum x > 0] = (1 + Maj_n)/2
    on any set of size ``level`` (n odd), computed exactly as E[1[sum x > 0] x_1 ... x_j] by a double
    binomial sum over the number of -1's among x_1..x_j and among the other n - j coordinates.
    Equals half the Majority coefficient, and the exact relevant population gradient of a ReLU neuron at
    w = 1 under correlation loss (spec section 1.6 table: (11, 2) -> .1230).
    """
    if n % 2 == 0:
        raise ValueError("n must be odd")
    j = level
    total = 0.0
    for a in range(j + 1):  # a = number of -1 among x_1..x_j
        for c in range(n - j + 1):  # c = number of -1 among the rest
            s = n - 2 * (a + c)
            total += math.comb(j, a) * math.comb(n - j, c) * (-1) ** a * (1 if s > 0 else 0)
    return abs(total / 2.0**n)


def one_step_features(n: int, k: int, batch: int, key, width: int = 64, support=None) -> float:
    """Thm 4: fraction of first-layer rows whose k largest |weights| are exactly S after ONE SGD step.

    Model f(x) = sum_j u_j relu(w_j . x), width r = ``width`` (even). Symmetric sign init: r/2 sign vectors
    w ~ Unif{+-1}^n, each used twice with u = +1 and u = -1, so f = 0 at init and every sample is inside
    the hinge margin (l' = -y). One step on a fresh batch of B = ``batch`` samples with weight decay
    lambda_0 = 1 and eta_0 = 1/(k |xi_{k-1}|) (xi from ``majority_relu_coefficient``, i.e. the exact
    relevant population gradient at w = 1) gives
        w_j <- (1 - lambda_0) w_j - eta_0 g_j = -eta_0 g_j,   g_j = -(u_j / B) sum_s y_s 1[w_j . x_s > 0] x_s,
    so the relevant coordinates become about +-1/k. Needs even k (odd k: relevant gradient 0 without bias)
    and n odd (w . x never 0). The gradient is computed with jax.
    """
    if k % 2 or n % 2 == 0 or width % 2:
        raise ValueError("Thm 4 setting: even k, odd n, even width")
    support = tuple(range(k)) if support is None else tuple(sorted(support))
    eta0 = 1.0 / (k * majority_relu_coefficient(n, k - 1))
    return float(_one_step_program(n, batch, width, support)(key, eta0))


@functools.lru_cache(maxsize=None)
def _one_step_program(n: int, batch: int, width: int, support: tuple[int, ...]):
    """`one_step_features`' step as one compiled function of (key, eta0) per shape: run eagerly,
    every jax op of it would compile on its own."""
    import jax
    import jax.numpy as jnp

    from groklab.tasks.bits import random_signs

    k = len(support)

    def hits(key, eta0):
        k_init, k_data = jax.random.split(key)
        half = random_signs(k_init, (width // 2,), n)
        w0 = jnp.concatenate([half, half])
        u = jnp.concatenate([jnp.ones(width // 2), -jnp.ones(width // 2)])
        x = random_signs(k_data, (batch,), n)
        y = jnp.prod(x[:, jnp.asarray(support)], axis=1)

        def loss(w):
            f = jax.nn.relu(x @ w.T) @ u
            return jnp.mean(jnp.maximum(0.0, 1.0 - y * f))

        w1 = (1.0 - 1.0) * w0 - eta0 * jax.grad(loss)(w0)
        _, top = jax.lax.top_k(jnp.abs(w1), k)
        return jnp.mean(jnp.all(jnp.sort(top, axis=1) == jnp.asarray(support), axis=1))

    return jax.jit(hits)
