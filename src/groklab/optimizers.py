"""Optimizers as optax transformations, built from an OptimizerSpec.

Weight decay conventions (lambda = weight_decay, eta = lr; tests/test_contracts.py checks each):
- sgd, 'decoupled': theta <- (1 - lambda) theta - eta grad (Barak et al. eq. 1: not scaled by eta)
- sgd, 'l2':        theta <- theta - eta (grad + lambda theta)
- adam, 'l2':       lambda theta is added to the gradient before Adam's normalization
- adamw:            decoupled and scaled by eta (Loshchilov & Hutter): theta <- (1 - eta lambda) theta - ...
- normalized-gd:    theta <- theta - eta g / ||g||_2, no decay
Adam with 'decoupled' decay is AdamW, and AdamW with 'l2' decay is Adam: both are refused, naming the
field, rather than silently meaning the other one.
"""
from __future__ import annotations

import optax

from groklab import registry
from groklab.specs import OptimizerSpec


def _sgd(spec: OptimizerSpec) -> optax.GradientTransformation:
    sgd = optax.sgd(spec.lr, momentum=spec.momentum or None)
    if spec.weight_decay == 0:
        return sgd
    if spec.weight_decay_mode == "l2":  # theta <- theta - eta (grad + lambda theta)
        return optax.chain(optax.add_decayed_weights(spec.weight_decay), sgd)
    # Barak et al. eq. 1: theta <- (1 - lambda) theta - eta grad. The decay is added after the
    # learning rate is applied, so it is not scaled by eta.
    return optax.chain(sgd, optax.add_decayed_weights(-spec.weight_decay))


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
    """theta <- theta - eta g / ||g||_2 (Mohamadi et al. eq. A.1), the norm over all of one trial's
    parameters (the engine vmaps it, so each trial is normalized by its own gradient); a zero
    gradient gives a zero step."""
    import jax
    import jax.numpy as jnp

    def update(updates, state, params=None):
        # g / ||g|| as (g / m) / ||g / m|| with m = max |g|: the sum of squares of a tiny gradient
        # (1e-20 and below) would underflow in float32 and turn a valid direction into no step.
        largest = jnp.max(jnp.stack([jnp.max(jnp.abs(g)) for g in jax.tree.leaves(updates)]))
        safe = jnp.where(largest > 0, largest, 1.0)
        unit = jax.tree.map(lambda g: g / safe, updates)
        norm = optax.global_norm(unit)
        scale = jnp.where(largest > 0, -spec.lr / jnp.where(largest > 0, norm, 1.0), 0.0)
        return jax.tree.map(lambda g: (scale * g).astype(g.dtype), unit), state

    return optax.GradientTransformation(lambda params: optax.EmptyState(), update)


_BUILDERS = {"sgd": _sgd, "adam": _adam, "adamw": _adamw, "normalized-gd": _normalized_gd}


def build_optimizer(spec: OptimizerSpec) -> optax.GradientTransformation:
    from groklab.errors import GroklabInputError

    if spec.name == "adam" and spec.weight_decay and spec.weight_decay_mode == "decoupled":
        raise GroklabInputError("optimizer.weight_decay: decoupled decay with Adam is AdamW; use name='adamw'")
    if spec.name == "adamw" and spec.weight_decay and spec.weight_decay_mode == "l2":
        raise GroklabInputError("optimizer.weight_decay_mode: AdamW's decay is decoupled; for L2-in-gradient "
                                "decay use name='adam'")
    if spec.name == "normalized-gd" and (spec.weight_decay or spec.momentum):
        raise GroklabInputError("optimizer.weight_decay: normalized-gd takes no weight decay or momentum "
                                "(the l-inf penalty of Mohamadi et al. is not implemented yet)")
    return _BUILDERS[spec.name](spec)


for _name, _desc in [("sgd", "SGD, optional momentum; weight decay decoupled (eq. 1) or L2-in-gradient"),
                     ("adam", "Adam (optax); weight decay only as L2-in-gradient"),
                     ("adamw", "AdamW (optax), decoupled weight decay"),
                     ("normalized-gd", "theta - lr g / ||g||_2 per trial (Mohamadi et al. eq. A.1)")]:
    registry.optimizers.register(_name, version="1", spec_class=OptimizerSpec, description=_desc)(build_optimizer)
