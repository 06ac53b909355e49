"""The empirical neural tangent kernel K(x, x') = grad_theta g(x) . grad_theta g(x') of a scalar
function g(theta; x) on a probe set X (Mohamadi et al. 2024 section 3.1), two ways:

- Jacobian contraction: J = d g(X) / d theta as an (n, P) matrix, then K = J J^T. Cost about
  n^2 P multiply-adds for the contraction; memory n P floats when the whole Jacobian fits.
- NTK-vector products: column j of K is J (J^T e_j), a reverse-mode pull-back of e_j followed by a
  forward-mode push of that parameter vector. It never holds more than a few parameter vectors
  per column, at about 2n evaluations of g over X (each costing one forward pass over n points).

Both are written for one trial (the engine vmaps them) and never hold more than `memory_bytes` of
Jacobian or product rows at once: the probe set is cut into blocks whose rows fit the budget, and
the Gram is assembled block by block with `lax.map` (sequential, so the budget is not multiplied
by the number of blocks). With `method="auto"` the cheaper of the two is chosen by a FLOP estimate
from XLA's cost analysis of one evaluation of g.
"""
from __future__ import annotations

from typing import Callable, Literal

import jax
import jax.numpy as jnp

from groklab import defaults

ScalarFn = Callable[[object, jax.Array], jax.Array]  # (params, x of shape (B, d)) -> (B,)
Method = Literal["auto", "jacobian", "ntvp"]


def _flatten(tree, rows: int) -> jax.Array:
    return jnp.concatenate([leaf.reshape(rows, -1) for leaf in jax.tree.leaves(tree)], axis=1)


def jacobian_tree(fn: ScalarFn, params, x: jax.Array):
    """The per-point gradients of g as a pytree shaped like params with a leading axis n."""
    return jax.vmap(jax.grad(lambda p, xi: fn(p, xi[None])[0]), in_axes=(None, 0))(params, x)


def flat_jacobian(fn: ScalarFn, params, x: jax.Array) -> jax.Array:
    """(n, P): row i is the gradient of g(theta; x_i) over every parameter, flattened."""
    return _flatten(jacobian_tree(fn, params, x), x.shape[0])


def _contract(left, right) -> jax.Array:
    """J_left J_right^T summed leaf by leaf: no concatenated copy of either Jacobian."""
    return sum(a.reshape(a.shape[0], -1) @ b.reshape(b.shape[0], -1).T
               for a, b in zip(jax.tree.leaves(left), jax.tree.leaves(right)))


def parameter_count(params) -> int:
    return sum(leaf.size for leaf in jax.tree.leaves(params))


def word_bytes(params) -> int:
    """Bytes per parameter entry: 4 in float32 runs, 8 in float64 ones."""
    return max(leaf.dtype.itemsize for leaf in jax.tree.leaves(params))


def block_rows(n: int, floats_per_row: int, memory_bytes: int, word: int = 4) -> int:
    """The largest divisor of n whose rows of `floats_per_row` numbers of `word` bytes fit in the
    budget (at least 1), so that blocks tile the probe set exactly (static shapes under jit)."""
    fit = max(1, memory_bytes // (word * max(1, floats_per_row)))
    return max(d for d in range(1, min(n, fit) + 1) if n % d == 0)


def gram_by_jacobian(fn: ScalarFn, params, x: jax.Array, memory_bytes: int = defaults.ENTK_MEMORY_BYTES) -> jax.Array:
    n, count = x.shape[0], parameter_count(params)
    if n * count * word_bytes(params) <= memory_bytes:
        jac = jacobian_tree(fn, params, x)
        return _contract(jac, jac)
    # Three row blocks' worth alive at once: rows i and j of J, and the reverse pass building j.
    rows = block_rows(n, 3 * count, memory_bytes, word_bytes(params))
    blocks = x.reshape(n // rows, rows, *x.shape[1:])

    def row_of_blocks(xi):
        ji = jacobian_tree(fn, params, xi)
        return jax.lax.map(lambda xj: _contract(ji, jacobian_tree(fn, params, xj)), blocks)  # (nb, rows, rows)

    k = jax.lax.map(row_of_blocks, blocks)  # (nb, nb, rows, rows)
    return k.transpose(0, 2, 1, 3).reshape(n, n)


def gram_by_ntvp(fn: ScalarFn, params, x: jax.Array, memory_bytes: int = defaults.ENTK_MEMORY_BYTES) -> jax.Array:
    n, count = x.shape[0], parameter_count(params)
    _, pull_back = jax.vjp(lambda p: fn(p, x), params)

    def column(e):  # K e = J (J^T e)
        (tangent,) = pull_back(e)
        return jax.jvp(lambda p: fn(p, x), (params,), (tangent,))[1]

    # One column holds a parameter vector, its forward tangent, n outputs and the push-forward's
    # activations over all n points (model-dependent: XLA's own count where it gives one).
    cols = block_rows(n, column_floats(fn, params, x) or 2 * count + 2 * n, memory_bytes, word_bytes(params))
    eye = jnp.eye(n, dtype=jax.eval_shape(fn, params, x).dtype)  # cotangents in g's own precision
    k = jax.lax.map(jax.vmap(column), eye.reshape(n // cols, cols, n))  # (nb, cols, n): rows of K^T
    return k.reshape(n, n).T


def column_floats(fn: ScalarFn, params, x: jax.Array) -> int | None:
    """Parameter-sized words XLA needs for one column of K (temporaries and output; the pull-back's forward
    pass included, so an over-count), from a shape-only compilation; None when not reported."""
    def column(params, x, e):
        _, pull_back = jax.vjp(lambda p: fn(p, x), params)
        return jax.jvp(lambda p: fn(p, x), (params,), pull_back(e))[1]

    shapes = jax.tree.map(lambda a: jax.ShapeDtypeStruct(a.shape, a.dtype), (params, x))
    try:
        cotangent = jax.ShapeDtypeStruct((x.shape[0],), jax.eval_shape(fn, *shapes).dtype)
        stats = jax.jit(column).lower(*shapes, cotangent).compile().memory_analysis()
        return int((stats.temp_size_in_bytes + stats.output_size_in_bytes) // word_bytes(params)) or None
    except Exception:  # noqa: BLE001 - no memory analysis on this backend: the caller's estimate
        return None


def forward_flops(fn: ScalarFn, params, x: jax.Array) -> float | None:
    """XLA's FLOP count for one evaluation of g on x, from shapes only; None when unavailable."""
    shapes = jax.tree.map(lambda a: jax.ShapeDtypeStruct(a.shape, a.dtype), (params, x))
    try:
        cost = jax.jit(fn).lower(*shapes).cost_analysis()
    except Exception:  # noqa: BLE001 - a backend without cost analysis: fall back to the Jacobian
        return None
    if isinstance(cost, list):
        cost = cost[0] if cost else {}
    flops = (cost or {}).get("flops")
    return float(flops) if flops and flops > 0 else None


def choose_method(fn: ScalarFn, params, x: jax.Array) -> Literal["jacobian", "ntvp"]:
    """Jacobian contraction costs ~ n forward-backward passes of one point plus n^2 P for J J^T;
    NTK-vector products cost ~ 2n passes over all n points (a pull-back and a push per column)."""
    n, count = x.shape[0], parameter_count(params)
    flops = forward_flops(fn, params, x)
    if flops is None:
        return "jacobian"
    jacobian = 3 * flops + 2.0 * n * n * count  # backward ~ 2 forwards, then the contraction
    products = 2 * n * 3 * flops
    return "jacobian" if jacobian <= products else "ntvp"


def entk_gram(fn: ScalarFn, params, x: jax.Array, method: Method = "auto",
              memory_bytes: int = defaults.ENTK_MEMORY_BYTES) -> jax.Array:
    """The (n, n) eNTK Gram of g on x, by `method` ('auto' picks the cheaper one)."""
    if method == "auto":
        method = choose_method(fn, params, x)
    build = gram_by_jacobian if method == "jacobian" else gram_by_ntvp
    return build(fn, params, x, memory_bytes)
