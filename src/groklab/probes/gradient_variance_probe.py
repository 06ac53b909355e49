"""The `gradient-variance` probe: Var(H, w) over the task's hypothesis class at every evaluation.

The same quantity as `groklab.hardness.gradient_variance` (see its docstring), in float32 inside
the compiled, vmapped evaluation, so it can be followed along a training run. The loss is the
square loss (f - y)^2 for scalar-output tasks (Takhanov et al.'s definition) and cross-entropy
for p-way tasks, whatever loss the trial trains with. The class is the task's `target_family()`
with its default arguments; its arrays become constants of the compiled evaluation, so the probe
is limited to small classes (checked by make_config before any work).

Curve columns: `gradient_variance`, `gradient_variance_normalized` (divided by E_x ||grad f||^2).
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from groklab import registry
from groklab.errors import GroklabInputError
from groklab.hardness.gradient_variance import loss_derivative
from groklab.probes.base import MeasurementProbe, ProbeSpec
from groklab.protocols import HasTargetFamily

MAX_FLOATS = 2**24  # per trial: the (N, P) Jacobian and the (H, N[, C]) residuals each stay below 64 MB

# Keyed by the task's frozen spec (hashable, compared by value): equal specs have equal classes.
# Never by id(task): CPython reuses the id of a freed object, so a later config could silently be
# measured against an earlier config's class.
_families: dict[object, object] = {}


def _family(task):
    if task.spec not in _families:
        _families[task.spec] = task.target_family()
    return _families[task.spec]


def check_supported(task, model) -> None:
    if not isinstance(task, HasTargetFamily):
        raise GroklabInputError(f"probes: gradient-variance needs a task with a hypothesis class "
                                f"(target_family); {task.spec.name} has none")
    hypotheses, inputs, classes = task.target_family_shape()  # the class is built only once it fits
    params = jax.eval_shape(model.init, jax.random.key(0))
    parameters = sum(int(np.prod(leaf.shape)) for leaf in jax.tree.leaves(params))
    if inputs * parameters > MAX_FLOATS or hypotheses * inputs * max(classes, 1) > MAX_FLOATS:
        raise GroklabInputError(f"probes: gradient-variance in the engine is for small classes ({hypotheses} "
                                f"targets x {inputs} inputs x {parameters} parameters is too large); use "
                                "groklab.hardness.gradient_variance on the host")
    _family(task)


def gradient_variance_probe(model, task, params, init_params, task_state) -> dict:
    family = _family(task)
    x = jnp.asarray(family.inputs, jnp.float32)
    weights = jnp.asarray(family.input_weights, jnp.float32)
    targets = jnp.asarray(family.targets)
    classification = family.num_classes > 1
    flat, unravel = ravel_pytree(params)
    apply = lambda theta, inputs: model.apply(unravel(theta), inputs)  # noqa: E731
    outputs, vjp = jax.vjp(lambda theta: apply(theta, x), flat)
    derivative = loss_derivative("cross-entropy" if classification else "square")
    residuals = jax.vmap(derivative, in_axes=(None, 0))(outputs, targets)  # (H, N[, C])
    centred = residuals - residuals.mean(axis=0, keepdims=True)
    scale = weights[:, None] if classification else weights
    gradients = jax.lax.map(lambda r: vjp(r * scale)[0], centred)  # (H, P), one target at a time
    variance = jnp.mean(jnp.sum(gradients**2, axis=1))
    if classification:
        per_input = jax.vmap(lambda xi: jnp.sum(jax.jacrev(lambda t: apply(t, xi[None])[0])(flat) ** 2))(x)
    else:
        per_input = jax.vmap(lambda xi: jnp.sum(jax.grad(lambda t: apply(t, xi[None])[0])(flat) ** 2))(x)
    grad_norm_sq = weights @ per_input
    return {"gradient_variance": variance, "gradient_variance_normalized": variance / grad_norm_sq}


registry.probes.register("gradient-variance", version="1", spec_class=ProbeSpec,
                         description="Var over the task's hypothesis class of the loss gradient (square loss / "
                                     "cross-entropy), raw and normalized by E||grad f||^2")(
    lambda spec: MeasurementProbe(gradient_variance_probe, check_supported))
