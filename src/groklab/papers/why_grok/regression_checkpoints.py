"""Train the regression network of Mohamadi et al. section 3 in process and keep its predictions on
every pair at checkpoints, for bounds that are evaluated on a trained net's outputs (Prop E.7,
claim 24).

The net is the registered `wg-quadratic` model on pairs: g(a, b, c) = f(theta; (e_a, e_b))[c], so
its p outputs on all p^2 pairs are g on all p^3 triples (init: its He-normal law, `he_normal_init`).
It is trained full batch on n distinct random triples (a, b, c) with the square loss towards
y = p 1(a + b = c mod p), by AdamW (the optimizer that grokked this task on CPU in the spec's
claim 25 [cal2]: lr 1e-3, weight decay 1, beta2 0.98, n = 0.5 p^3). Steps run in compiled
`lax.scan` blocks of `eval_every`; the host only reads the outputs between blocks.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from groklab.errors import GroklabInputError

ADAM_BETA2 = 0.98  # the [cal2] grokking run's beta2 (claim 25)


@dataclass(frozen=True)
class Checkpoint:
    step: int
    train_loss: float  # mean squared error on the n training triples
    scores: np.ndarray  # (p^2, p) float32: g(a, b, c) for the pair a * p + b and every c


def all_pair_labels(p: int) -> np.ndarray:
    """(a + b) mod p for the pairs in the order a * p + b."""
    a, b = np.divmod(np.arange(p * p), p)
    return (a + b) % p


@functools.lru_cache(maxsize=8)
def _compiled(p: int, width: int | None, lr: float, weight_decay: float, eval_every: int):
    """(width, transform, advance, read) for one setting; cached, so runs of equal shape (seeds,
    and the contract tests' tiny and starved runs) compile once. The data are arguments."""
    import jax
    import jax.numpy as jnp
    import optax

    from groklab.components import ensure_registered
    from groklab.registry import models

    ensure_registered()
    entry = models.get("wg-quadratic")
    model = entry.build(entry.spec_class(width=width), 2 * p, p)
    transform = optax.adamw(lr, b2=ADAM_BETA2, weight_decay=weight_decay)
    a, b = (jnp.asarray(x) for x in np.divmod(np.arange(p * p), p))

    def train_loss(params, pair, c, y):
        return jnp.mean((model.pair_outputs(params, a, b)[pair, c] - y) ** 2)

    @jax.jit
    def advance(params, state, pair, c, y):
        def step(carry, _):
            params, state = carry
            updates, state = transform.update(jax.grad(train_loss)(params, pair, c, y), state, params)
            return (optax.apply_updates(params, updates), state), None

        (params, state), _ = jax.lax.scan(step, (params, state), None, length=eval_every)
        return params, state

    read = jax.jit(lambda params, pair, c, y: (model.pair_outputs(params, a, b), train_loss(params, pair, c, y)))
    return model.width, transform, advance, read


def he_normal_init(p: int, width: int, seed: int) -> dict:
    """The model's `he-normal` init, W ~ N(0, 2/2p), V ~ N(0, 2/h), drawn with numpy: the model's own
    init compiles jax's PRNG for 1.5-2.5 s per shape on a loaded 2-core CPU, longer than the runs."""
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((2 * p, width)) * (2 / (2 * p)) ** 0.5
    v = rng.standard_normal((width, p)) * (2 / width) ** 0.5
    return {"w": w.astype(np.float32), "v": v.astype(np.float32)}


def train_with_checkpoints(p: int, n: int, steps: int, eval_every: int, lr: float = 1e-3,
                           weight_decay: float = 1.0, width: int | None = None, seed: int = 0) -> list[Checkpoint]:
    """Checkpoints at steps 0, eval_every, 2 eval_every, ..., steps (a multiple of eval_every)."""
    if not 1 <= n <= p**3:
        raise GroklabInputError(f"n: the number of training triples must be in [1, p^3 = {p**3}] (got {n})")
    if eval_every < 1 or steps < 0 or steps % eval_every:
        raise GroklabInputError(f"steps: must be a non-negative multiple of eval_every = {eval_every} (got {steps})")
    width, transform, advance, read = _compiled(p, width, lr, weight_decay, eval_every)
    triples = np.random.default_rng(seed).permutation(p**3)[:n]  # index (a * p + b) * p + c
    pair, c = np.divmod(triples, p)
    y = (p * (all_pair_labels(p)[pair] == c)).astype(np.float32)
    params = he_normal_init(p, width, seed)
    state = transform.init(params)
    out = []
    for k in range(steps // eval_every + 1):
        if k:
            params, state = advance(params, state, pair, c, y)
        scores, loss = read(params, pair, c, y)
        out.append(Checkpoint(step=k * eval_every, train_loss=float(loss), scores=np.asarray(scores)))
    return out
