"""Optimizers as optax transformations, built from an OptimizerSpec.

Weight decay conventions (lambda = weight_decay, eta = lr; tests/test_contracts.py checks each):
- sgd, 'decoupled': theta <- (1 - lambda) theta - eta grad (Barak et al. eq. 1: not scaled by eta)
- sgd, 'l2':        theta <- theta - eta (grad + lambda theta)
- adam, 'l2':       lambda theta is added to the gradient before Adam's normalization
- adamw:            decoupled and scaled by eta (Loshchilov & Hutter): theta <- (1 - eta lambda) theta - ...
- normalized-gd:    theta <- theta - eta g / ||g||_2, no decay
Adam with 'decoupled' decay is AdamW, and AdamW with 'l2' decay is Adam: both are refused, naming the
field, rather than silently meaning the other one.

The l-inf penalty of Mohamadi et al. (eq. 2.2: L + lambda ||theta||_inf, lambda = `linf_penalty`)
enters as a subgradient s of ||theta||_inf over ALL of one trial's parameters jointly: s =
sign(theta_i*) at the single largest-magnitude entry i*, 0 elsewhere (ties: the first such entry in
pytree-leaf order, then row-major order within the leaf; s = 0 when theta = 0). The engine vmaps the
update, so i* is chosen per trial. Defined for
- sgd (full-batch GD):  theta <- theta - eta (g + lambda s)
- normalized-gd, penalty_inside_normalization = True (default):
                        theta <- theta - eta (g + lambda s) / ||g + lambda s||_2
- normalized-gd, penalty_inside_normalization = False:
                        theta <- theta - eta g / ||g||_2 - eta lambda s
and refused for adam and adamw. The default is inside because the paper normalizes the gradient of
"the loss" (App A.2, eq. A.1) and defines the loss as the regularized objective (eq. 2.2).

What the placement does. Inside, every step has length exactly eta, and the penalty's share of it is
lambda / ||g + lambda s||: negligible while ||g|| >> lambda, but once the loss gradient falls below
about lambda (with the mean loss, below ~n lambda per example) the step becomes eta s / ||s|| = eta s,
moving only the largest weight by eta. With eta = 10 (and weights below 10) that flips its sign and
leaves it the largest, so the next step flips it back: a two-step cycle, and training stalls (spec
claim 28 [cal2]; measured at p = 47: test accuracy ends at 0.947 and 0.971, docs/why-grok.md). Outside, the loss step keeps length eta whatever the gradient's scale and the
penalty step has length eta lambda: a true tiny regularizer (lambda = 1e-20 is then numerically
nothing in float32 when added to weights of order 1).
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import optax

from groklab import registry
from groklab.specs import OptimizerSpec


def linf_subgradient(params) -> object:
    """A subgradient of ||params||_inf over all leaves jointly: sign(theta_i*) at the first entry i*
    of largest magnitude (pytree-leaf order, then row-major), 0 elsewhere and everywhere at theta = 0."""
    leaves, treedef = jax.tree.flatten(params)
    flat = [jnp.ravel(leaf) for leaf in leaves]
    peaks = jnp.stack([jnp.max(jnp.abs(leaf)) for leaf in flat])
    chosen_leaf = jnp.argmax(peaks)  # first leaf holding the largest magnitude (ties: the earlier leaf)
    out = []
    for index, leaf in enumerate(flat):
        at = jnp.arange(leaf.size) == jnp.argmax(jnp.abs(leaf))  # first entry of this leaf's largest
        out.append(jnp.where(at & (chosen_leaf == index), jnp.sign(leaf), 0).astype(leaf.dtype).reshape(leaves[index].shape))
    return jax.tree.unflatten(treedef, out)


def add_linf_subgradient(strength: float) -> optax.GradientTransformation:
    """updates + strength * s(params), s = `linf_subgradient` (compare optax.add_decayed_weights):
    before a step it adds the penalty's gradient, after one (with strength -eta lambda) its step."""

    def update(updates, state, params=None):
        if params is None:
            raise ValueError("add_linf_subgradient needs the parameters (optax's `params` argument)")
        s = linf_subgradient(params)
        return jax.tree.map(lambda u, si: (u + strength * si).astype(u.dtype), updates, s), state

    return optax.GradientTransformation(lambda params: optax.EmptyState(), update)


def normalized_step(lr: float) -> optax.GradientTransformation:
    """-lr g / ||g||_2 (Mohamadi et al. eq. A.1), the norm over all of one trial's parameters (the
    engine vmaps it, so each trial is normalized by its own gradient); a zero gradient gives a zero step."""

    def update(updates, state, params=None):
        # g / ||g|| as (g / m) / ||g / m|| with m = max |g|: the sum of squares of a tiny gradient
        # (1e-20 and below) would underflow in float32 and turn a valid direction into no step.
        largest = jnp.max(jnp.stack([jnp.max(jnp.abs(g)) for g in jax.tree.leaves(updates)]))
        safe = jnp.where(largest > 0, largest, 1.0)
        unit = jax.tree.map(lambda g: g / safe, updates)
        norm = optax.global_norm(unit)
        scale = jnp.where(largest > 0, -lr / jnp.where(largest > 0, norm, 1.0), 0.0)
        return jax.tree.map(lambda g: (scale * g).astype(g.dtype), unit), state

    return optax.GradientTransformation(lambda params: optax.EmptyState(), update)


def _sgd(spec: OptimizerSpec) -> optax.GradientTransformation:
    sgd = optax.sgd(spec.lr, momentum=spec.momentum or None)
    penalty = [add_linf_subgradient(spec.linf_penalty)] if spec.linf_penalty else []  # theta - eta (g + lambda s)
    if spec.weight_decay == 0:
        return optax.chain(*penalty, sgd) if penalty else sgd
    if spec.weight_decay_mode == "l2":  # theta <- theta - eta (grad + lambda theta)
        return optax.chain(optax.add_decayed_weights(spec.weight_decay), *penalty, sgd)
    # Barak et al. eq. 1: theta <- (1 - lambda) theta - eta grad. The decay is added after the
    # learning rate is applied, so it is not scaled by eta.
    return optax.chain(*penalty, sgd, optax.add_decayed_weights(-spec.weight_decay))


def _adam(spec: OptimizerSpec) -> optax.GradientTransformation:
    adam = optax.adam(spec.lr, b1=spec.b1, b2=spec.b2, eps=spec.eps)
    if spec.weight_decay and spec.weight_decay_mode == "l2":
        return optax.chain(optax.add_decayed_weights(spec.weight_decay), adam)
    if spec.weight_decay:
        raise ValueError("unreachable: decoupled decay with adam is rejected by build_optimizer")
    return adam


def _adamw(spec: OptimizerSpec) -> optax.GradientTransformation:
    # optax's AdamW decay is decoupled and scaled by the learning rate (Loshchilov & Hutter).
    return optax.adamw(spec.lr, b1=spec.b1, b2=spec.b2, eps=spec.eps, weight_decay=spec.weight_decay)


def _normalized_gd(spec: OptimizerSpec) -> optax.GradientTransformation:
    if not spec.linf_penalty:
        return normalized_step(spec.lr)
    if spec.penalty_inside_normalization:  # theta - eta (g + lambda s) / ||g + lambda s||
        return optax.chain(add_linf_subgradient(spec.linf_penalty), normalized_step(spec.lr))
    # theta - eta g / ||g|| - eta lambda s
    return optax.chain(normalized_step(spec.lr), add_linf_subgradient(-spec.lr * spec.linf_penalty))


_BUILDERS = {"sgd": _sgd, "adam": _adam, "adamw": _adamw, "normalized-gd": _normalized_gd}
LINF_PENALTY_OPTIMIZERS = ("sgd", "normalized-gd")  # where the l-inf subgradient step is defined (above)


def build_optimizer(spec: OptimizerSpec) -> optax.GradientTransformation:
    from groklab.errors import GroklabInputError

    if spec.name == "adam" and spec.weight_decay and spec.weight_decay_mode == "decoupled":
        raise GroklabInputError("optimizer.weight_decay: decoupled decay with Adam is AdamW; use name='adamw'")
    if spec.name == "adamw" and spec.weight_decay and spec.weight_decay_mode == "l2":
        raise GroklabInputError("optimizer.weight_decay_mode: AdamW's decay is decoupled; for L2-in-gradient "
                                "decay use name='adam'")
    if spec.name == "normalized-gd" and (spec.weight_decay or spec.momentum):
        raise GroklabInputError("optimizer.weight_decay: normalized-gd takes no weight decay or momentum "
                                "(for Mohamadi et al.'s l-inf penalty use linf_penalty)")
    if spec.linf_penalty and spec.name not in LINF_PENALTY_OPTIMIZERS:
        raise GroklabInputError(f"optimizer.linf_penalty: defined for {' and '.join(LINF_PENALTY_OPTIMIZERS)} "
                                f"only, not {spec.name}")
    if not spec.penalty_inside_normalization and spec.name != "normalized-gd":
        raise GroklabInputError(f"optimizer.penalty_inside_normalization: only normalized-gd normalizes its "
                                f"step, not {spec.name}")
    return _BUILDERS[spec.name](spec)


for _name, _desc in [("sgd", "SGD, optional momentum; weight decay decoupled (eq. 1) or L2-in-gradient; "
                             "optional l-inf subgradient penalty"),
                     ("adam", "Adam (optax); weight decay only as L2-in-gradient"),
                     ("adamw", "AdamW (optax), decoupled weight decay"),
                     ("normalized-gd", "theta - lr g / ||g||_2 per trial (Mohamadi et al. eq. A.1); optional "
                                       "l-inf subgradient penalty inside or outside the normalization")]:
    registry.optimizers.register(_name, version="1", spec_class=OptimizerSpec, description=_desc)(build_optimizer)
