"""Losses (spec section 1.3), each a pure function (outputs, labels) -> mean loss, plus accuracy.

Binary losses score a scalar output f against labels y in {-1, +1}; cross-entropy scores p logits
against integer classes.
"""
from __future__ import annotations

from typing import Callable

import jax
import jax.numpy as jnp
import optax

from groklab import registry
from groklab.specs import LossSpec

LossFn = Callable[[jax.Array, jax.Array], jax.Array]

_BINARY: dict[str, LossFn] = {
    "hinge": lambda f, y: jnp.maximum(0.0, 1.0 - y * f),
    "square": lambda f, y: (f - y) ** 2,  # no 1/2 factor (the paper's is unrecovered)
    "logistic": lambda f, y: jax.nn.softplus(-y * f),  # log(1 + e^{-y f}), "cross entropy" in Barak et al.
    "correlation": lambda f, y: -y * f,
}


def loss_fn(name: str) -> LossFn:
    if name == "cross-entropy":
        return lambda logits, y: optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()
    per_example = _BINARY[name]
    return lambda f, y: per_example(f, y).mean()


def accuracy(outputs: jax.Array, labels: jax.Array) -> jax.Array:
    if outputs.ndim == labels.ndim:  # scalar outputs vs +-1 labels; f = 0 counts as wrong
        return jnp.mean(jnp.sign(outputs) == labels)
    return jnp.mean(jnp.argmax(outputs, axis=-1) == labels)


for _name, _desc in [("hinge", "max(0, 1 - y f)"), ("square", "(f - y)^2"), ("logistic", "log(1 + exp(-y f))"),
                     ("correlation", "-y f"), ("cross-entropy", "p-way softmax cross-entropy")]:
    registry.losses.register(_name, version="1", spec_class=LossSpec, description=_desc)(
        lambda spec: loss_fn(spec.name))
