"""The `entk` probe: how far the empirical NTK has moved from its value at initialization
(Mohamadi et al. 2024 Figs 1, 2 and 5; spec claim 27).

At every evaluation, on a fixed probe set (a seeded subset of the training inputs, or all of
them), it builds the eNTK Gram K_t of one scalar output g and K_0 of the same output at the
trial's initial parameters, and records

    entk_change             = ||K_t - K_0||_F / ||K_0||_F                (the paper's raw change)
    entk_change_scale_free  = ||K_t / ||K_t||_F - K_0 / ||K_0||_F||_F   (direction only)

The raw change also grows with the weight norm (K scales like ||theta||^4 for the quadratic
network), so the scale-free one is recorded beside it ([cal2] note of claim 27).

The scalar g is the first logit f_1 for classification (the paper's Fig 1 footnote), the sum of
logits / sqrt(C) (the pNTK of Mohamadi et al. 2023, Fig 2), or the model's single output on
scalar tasks (regression's g). The Gram is the model's closed form where it declares one
(HasExactNtk: the quadratic network, O(n^2 h)), else `entk_gram` (Jacobian contraction or
NTK-vector products, chosen by cost, within a stated memory budget per trial).
"""
from __future__ import annotations

from typing import Annotated, Literal

import jax
import jax.numpy as jnp
from pydantic import Field

from groklab import defaults, registry
from groklab.errors import GroklabInputError
from groklab.probes.base import MeasurementProbe, ProbeSpec
from groklab.probes.entk_gram import entk_gram
from groklab.protocols import HasExactNtk, Model, Task

Output = Literal["auto", "first-logit", "pntk", "scalar"]
SUBSET_KEY = 0  # the probe subset is the same for every trial's training set (a fixed key)


class EntkProbeSpec(ProbeSpec):
    name: Literal["entk"] = "entk"
    # auto: the first logit f_1 for classification, the scalar output otherwise
    output: Output = "auto"
    points: Annotated[int, Field(gt=0)] | Literal["all"] | None = Field(
        None, description=f"probe-set size: a seeded subset of the training inputs; 'all' = every one; "
                                f"None = {defaults.ENTK_PROBE_POINTS} or all when fewer")
    # auto: the model's closed form when it has one (HasExactNtk), else the cheaper generic method
    method: Literal["auto", "exact", "jacobian", "ntvp"] = "auto"
    memory_mb: float = Field(defaults.ENTK_MEMORY_BYTES / 2**20, gt=0,
                             description="Jacobian rows held at once per trial (MiB)")


def readout(model: Model, output: Output) -> jax.Array | None:
    """The (C,) vector u with g = u . f (None: the model's own scalar output)."""
    if output == "auto":
        output = "first-logit" if model.output_dim > 1 else "scalar"
    if output == "scalar":
        return None
    if output == "first-logit":
        return jax.nn.one_hot(0, model.output_dim)
    return jnp.full((model.output_dim,), model.output_dim ** -0.5)


def scalar_output(model: Model, output: Output):
    """g(theta; x) -> (B,) for the chosen output of `model`."""
    u = readout(model, output)
    if u is None:
        return model.apply
    return lambda params, x: model.apply(params, x) @ u


def gram(model: Model, output: Output, params, x: jax.Array, method: str, memory: int) -> jax.Array:
    if method == "exact" or (method == "auto" and isinstance(model, HasExactNtk)):
        return model.exact_ntk(params, x, readout(model, output))
    return entk_gram(scalar_output(model, output), params, x, method, memory)


def probe_inputs(task: Task, task_state, points: int | Literal["all"] | None) -> jax.Array:
    x, _ = task.train_set(task_state)
    n = x.shape[0]
    points = defaults.ENTK_PROBE_POINTS if points is None else n if points == "all" else points
    if points >= n:
        return x
    return x[jax.random.permutation(jax.random.key(SUBSET_KEY), n)[:points]]


def relative_change(k_t: jax.Array, k_0: jax.Array) -> dict:
    norm_t, norm_0 = jnp.linalg.norm(k_t), jnp.linalg.norm(k_0)
    return {"entk_change": jnp.linalg.norm(k_t - k_0) / norm_0,
            "entk_change_scale_free": jnp.linalg.norm(k_t / norm_t - k_0 / norm_0)}


def check(spec: EntkProbeSpec, task: Task, model: Model) -> None:
    if task.train_size is None:
        raise GroklabInputError(f"probes.entk: {task.spec.name} is online; the eNTK probe needs a fixed training set")
    if isinstance(spec.points, int) and spec.points > task.train_size:
        raise GroklabInputError(f"probes.entk.points: {spec.points} probe points but the training set has "
                                f"{task.train_size}")
    if spec.output in ("first-logit", "pntk") and model.output_dim < 2:
        raise GroklabInputError(f"probes.entk.output: {spec.output!r} needs a model with several logits; "
                                f"{model.spec.name} has one output (use 'scalar')")
    if spec.method == "exact" and not isinstance(model, HasExactNtk):
        raise GroklabInputError(f"probes.entk.method: {model.spec.name} has no closed-form eNTK (use 'auto', "
                                f"'jacobian' or 'ntvp')")
    if spec.output == "scalar" and model.output_dim != 1:
        raise GroklabInputError(f"probes.entk.output: 'scalar' needs a one-output model; {model.spec.name} has "
                                f"{model.output_dim} (use 'first-logit' or 'pntk')")


def build(spec: EntkProbeSpec | None) -> MeasurementProbe:
    spec = spec or EntkProbeSpec()
    memory = int(spec.memory_mb * 2**20)

    def measure(model, task, params, init_params, task_state) -> dict:
        x = probe_inputs(task, task_state, spec.points)
        return relative_change(gram(model, spec.output, params, x, spec.method, memory),
                               gram(model, spec.output, init_params, x, spec.method, memory))

    return MeasurementProbe(measure, lambda task, model: check(spec, task, model))


registry.probes.register("entk", version="1", spec_class=EntkProbeSpec,
                         description="eNTK relative change ||K_t - K_0|| / ||K_0|| (and scale-free) on a probe set "
                                     "of training inputs")(build)
