"""Permutation equivariance of training (Mohamadi et al. Thm 3.3 / Prop 4.2 / Cor C.7; claim 31).

Relabel the symbols of (a + b) mod p by permutations s1 (of a), s2 (of b) and s3 (of the label c),
and permute the quadratic network's parameters to match: the first-layer rows of a and of b by s1
and s2, the output columns by s3. Training the permuted network on the relabelled data with the same
optimizer then stays the permuted copy of the original run at every step, so its predictions are
the original's, relabelled. (With i.i.d. initial weights the permuted init has the init's law, which
is the theorem's "in distribution".) Measured here as the largest difference between
f(theta'_T; s1 a, s2 b)[s3 c] and f(theta_T; a, b)[c] over all p^2 pairs and p classes, relative to
the largest output; float32 summation order is the only source of a nonzero gap.
"""
from __future__ import annotations

import numpy as np


def _permute(params: dict, s1: np.ndarray, s2: np.ndarray, s3: np.ndarray) -> dict:
    p = len(s1)
    w = np.asarray(params["w"])
    w_new = np.empty_like(w)
    w_new[s1] = w[:p]  # row s1(a) of the new net is row a of the old
    w_new[p + s2] = w[p:]
    v = np.asarray(params["v"])
    v_new = np.empty_like(v)
    v_new[:, s3] = v
    return {"w": w_new, "v": v_new}


def equivariance_gap(p: int, optimizer: str, steps: int, lr: float, train_fraction: float = 0.5,
                     width: int | None = None, seed: int = 0, control: bool = False) -> float:
    """Relative gap between the relabelled run's predictions and the original's, relabelled.
    `control`: permute the initial parameters' outputs by another permutation than the labels' (a
    run that is not the matching copy), which must give a gap of order 1."""
    import jax
    import optax

    from groklab.components import ensure_registered
    from groklab.losses import loss_fn
    from groklab.papers.why_grok.construction import all_pairs
    from groklab.registry import models

    ensure_registered()
    rng = np.random.default_rng(seed)
    s1, s2, s3 = rng.permutation(p), rng.permutation(p), rng.permutation(p)
    entry = models.get("wg-quadratic")
    model = entry.build(entry.spec_class(width=width), 2 * p, p)
    x, labels = all_pairs(p)
    a, b = np.divmod(np.arange(p * p), p)
    train = rng.permutation(p * p)[: max(1, round(train_fraction * p * p))]
    eye = np.eye(p, dtype=np.float32)
    relabelled_x = np.concatenate([eye[s1[a]], eye[s2[b]]], axis=1)
    transform = {"gd": optax.sgd(lr), "adam": optax.adam(lr)}[optimizer]
    loss = loss_fn("cross-entropy")

    def train_from(params, inputs, targets):
        def step(carry, _):
            params, state = carry
            grads = jax.grad(lambda q: loss(model.apply(q, inputs), targets))(params)
            updates, state = transform.update(grads, state, params)
            return (optax.apply_updates(params, updates), state), None

        (params, _), _ = jax.lax.scan(step, (params, transform.init(params)), None, length=steps)
        return params

    run = jax.jit(train_from)
    params0 = jax.tree.map(np.asarray, model.init(jax.random.key(seed)))
    original = run(params0, x[train].astype(np.float32), labels[train])
    s3_init = np.roll(s3, 1) if control else s3
    permuted = run(_permute(params0, s1, s2, s3_init), relabelled_x[train], s3[labels[train]])
    before = np.asarray(model.apply(original, x.astype(np.float32)))  # (p^2, p): f(theta_T; a, b)[c]
    after = np.asarray(model.apply(permuted, relabelled_x))[:, s3]  # f(theta'_T; s1 a, s2 b)[s3 c]
    return float(np.max(np.abs(after - before)) / np.max(np.abs(before)))


def regression_equivariance_gap(p: int, optimizer: str, steps: int, lr: float, train_fraction: float = 0.3,
                                width: int | None = None, seed: int = 0, control: bool = False) -> float:
    """The regression version (Thm 3.3): train g = e_c^T V (W[a] + W[p + b])^2 with the square loss
    on triples (a, b, c) -> p 1(a + b = c), and on the relabelled triples (s1 a, s2 b, s3 c) from the
    permuted init; compare g over all p^3 triples. `control`: a mismatched output permutation."""
    import jax
    import jax.numpy as jnp
    import optax

    from groklab.papers.why_grok.kernel_regime import split_triples, targets

    rng = np.random.default_rng(seed)
    s1, s2, s3 = rng.permutation(p), rng.permutation(p), rng.permutation(p)
    width = width or 4 * p
    train, _ = split_triples(p, max(1, round(train_fraction * p**3)), rng)
    every = np.stack(np.unravel_index(np.arange(p**3), (p, p, p)), axis=1)
    relabel = lambda t: np.stack([s1[t[:, 0]], s2[t[:, 1]], s3[t[:, 2]]], axis=1)  # noqa: E731
    transform = {"gd": optax.sgd(lr), "adam": optax.adam(lr)}[optimizer]

    def g(params, t):
        return jnp.sum((params["w"][t[:, 0]] + params["w"][p + t[:, 1]]) ** 2 * params["v"][:, t[:, 2]].T, axis=1)

    def train_from(params, t, y):
        def step(carry, _):
            params, state = carry
            grads = jax.grad(lambda q: jnp.mean((g(q, t) - y) ** 2))(params)
            updates, state = transform.update(grads, state, params)
            return (optax.apply_updates(params, updates), state), None

        (params, _), _ = jax.lax.scan(step, (params, transform.init(params)), None, length=steps)
        return params

    run = jax.jit(train_from)
    k_w, k_v = jax.random.split(jax.random.key(seed))
    params0 = {"w": np.asarray(jax.random.normal(k_w, (2 * p, width))) * (1 / p) ** 0.5,  # He-normal, fan-in 2p
               "v": np.asarray(jax.random.normal(k_v, (width, p))) * (2 / width) ** 0.5}
    y = targets(train, p).astype(np.float32)
    original = run(params0, train, y)
    permuted = run(_permute(params0, s1, s2, np.roll(s3, 1) if control else s3), relabel(train), y)
    before = np.asarray(g(original, every))
    after = np.asarray(g(permuted, relabel(every)))
    return float(np.max(np.abs(after - before)) / np.max(np.abs(before)))
