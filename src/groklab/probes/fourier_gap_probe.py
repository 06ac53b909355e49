"""Fourier-gap probe (Barak et al. 2022, Def 1 / Prop 5 and appendix C.1, Fig 12; spec claim 10).

At every evaluation, for each hidden unit h(x) = phi(w.x + b) of the model (the neuron itself for a
single neuron), the exact population gradient of the unit's correlation with the label,

    g_i = d/dw_i E_x[y h(x)] = E_x[y x_i phi'(w.x + b)],   y = chi_S(x),  x uniform on {-1, +1}^n,

by enumerating all 2^n inputs. One Walsh-Hadamard transform of d(x) = phi'(w.x + b) gives every
Fourier coefficient of d, and g_i = d_hat(S xor {i}) (``fourier.support_neighbour_coefficients_jax``).

What g is, exactly:
- Single neuron f = u * act(s (w.x + b)): phi(z) = act(s z), so g_i = s E[y x_i act'(s (w.x + b))]. With
  u fixed at 1 (xiv) this is minus the model's population gradient in w under the correlation loss, and
  also under the hinge loss whenever |f| <= 1 (the sinusoidal neuron: hinge = 1 + correlation there).
  With a trainable u it is that gradient divided by -u, so the output weight does not rescale the gap.
- MLP: unit j is phi = the hidden activation on w_j.x + b_j, without its readout weight u_j. g is
  then Prop 5's gradient for that neuron alone, whatever loss the network trains with.
- Derivatives come from ``jax.grad`` of the activation, so ReLU'(0) = 0 (as in ``population_gradient``).

Recorded per evaluation (curve columns; for an MLP, of the unit with the largest gap, since one
neuron with a gap suffices for Prop 5, plus the fraction of units that have one):
- ``fourier_gap`` = min_{i in S} |g_i| - max_{i not in S} |g_i|. It is > 0 exactly when the k
  largest |g_i| are S (a tie across the boundary counts as not recovered).
- ``fourier_gap_relative`` = fourier_gap / max_i |g_i|, in [-1, 1]: free of any common scale (input
  scale, derivative amplitude), so it compares across activations.
- ``fourier_gamma`` = min_{i in S} |g_i| = min over (k-1)-subsets T of S of |d_hat(T)|: Def 1's gamma.
- ``fourier_max_outer`` = max over all (k+1)-subsets T of [n] of |d_hat(T)|. Def 1 (a gamma-Fourier
  gap of phi' at S) holds iff fourier_gamma > 0 and fourier_max_outer <= fourier_gamma / 2.
- ``fourier_support_fraction`` = the fraction of units with fourier_gap > 0 (0 or 1 for one neuron).

Supported: the parity task with n <= 16 and the single-neuron and MLP models (scalar output); anything
else raises GroklabInputError from ``make_config`` (the probe's ``check``), before any work. Per lane, memory is a few vectors of 2^n floats: MLP units are visited one at a
time (``lax.map``), so width costs time, not memory.
"""
from __future__ import annotations

from typing import Any, Callable

import jax
import jax.numpy as jnp

from groklab import registry
from groklab.errors import GroklabInputError
from groklab.models.mlp import MLP
from groklab.models.single_neuron import SingleNeuron
from groklab.probes.base import MeasurementProbe, ProbeSpec
from groklab.probes.fourier import (
    fourier_gap_jax,
    support_neighbour_coefficients_jax,
    walsh_hadamard_jax,
)
from groklab.probes.population_gradient import support_gap
from groklab.tasks.bits import all_sign_vectors
from groklab.tasks.parity import SparseParity

MAX_PROBE_BITS = 16  # 2^16 inputs per unit per evaluation; beyond that enumeration stops being a probe

UnitFn = Callable[[jax.Array], jax.Array]  # phi: pre-activation z = w.x + b -> unit output, elementwise


def check_supported(task: Any, model: Any) -> None:
    """Raise GroklabInputError (one line) unless the probe can run on this task and model."""
    if not isinstance(task, SparseParity):
        raise GroklabInputError(f"probes: fourier-gap needs the parity task (got {type(task).__name__})")
    if task.spec.n > MAX_PROBE_BITS:
        raise GroklabInputError(f"probes: fourier-gap enumerates all 2^n inputs, so it needs task.n <= "
                                f"{MAX_PROBE_BITS} (got n={task.spec.n})")
    if not isinstance(model, (SingleNeuron, MLP)):
        raise GroklabInputError(f"probes: fourier-gap supports the single-neuron and mlp models "
                                f"(got {type(model).__name__})")
    if model.output_dim != 1:
        raise GroklabInputError(f"probes: fourier-gap needs a scalar-output model (got output_dim={model.output_dim})")


def hidden_units(model: Any, params: dict) -> tuple[jax.Array, jax.Array, UnitFn]:
    """(W, b, phi): input weights (n, r), biases (r,) and the unit function phi(z) of every hidden unit."""
    if isinstance(model, SingleNeuron):
        w = params["w"][:, None]
        b = jnp.reshape(params.get("b", jnp.zeros((), w.dtype)), (1,))
        scale = model.spec.input_scale
        return w, b, lambda z: model.activation(scale * z)
    if isinstance(model, MLP):
        w = params["hidden"]["w"]
        b = params["hidden"].get("b", jnp.zeros(w.shape[1], w.dtype))
        return w, b, model.activation
    raise GroklabInputError(f"probes: fourier-gap supports the single-neuron and mlp models "
                            f"(got {type(model).__name__})")


def _unit_spectrum(x: jax.Array, w: jax.Array, b: jax.Array, phi: UnitFn) -> jax.Array:
    """All 2^n Fourier coefficients of d(x) = phi'(w.x + b) (phi is elementwise, so grad of the sum is phi')."""
    z = x @ w + b
    derivative = jax.grad(lambda values: jnp.sum(phi(values)))(z)
    return walsh_hadamard_jax(derivative)


def population_gradients(model: Any, params: dict, support: jax.Array, n: int) -> jax.Array:
    """g[j, i] = E_x[chi_S(x) x_i phi'(w_j.x + b_j)] for every hidden unit j, shape (r, n), exact (float32)."""
    w, b, phi = hidden_units(model, params)
    x = all_sign_vectors(n).astype(w.dtype)
    return jax.lax.map(lambda wb: support_neighbour_coefficients_jax(_unit_spectrum(x, wb[0], wb[1], phi), support, n),
                       (w.T, b))


def unit_gap_statistics(model: Any, params: dict, support: jax.Array, n: int, k: int) -> dict[str, jax.Array]:
    """Per-unit (shape (r,)) gap, relative gap, gamma and max_outer; see the module docstring."""
    w, b, phi = hidden_units(model, params)
    x = all_sign_vectors(n).astype(w.dtype)

    def one_unit(wb):
        coeffs = _unit_spectrum(x, wb[0], wb[1], phi)
        grad = support_neighbour_coefficients_jax(coeffs, support, n)
        gap = support_gap(grad, support)
        largest = jnp.max(jnp.abs(grad))
        gamma, max_outer = fourier_gap_jax(coeffs, support, n, k)
        return {"gap": gap, "relative": jnp.where(largest > 0, gap / jnp.where(largest > 0, largest, 1.0), 0.0),
                "gamma": gamma, "max_outer": max_outer}

    return jax.lax.map(one_unit, (w.T, b))


def fourier_gap_probe(model, task, params, init_params, task_state) -> dict:
    """The registered probe: scalars for one trial (the engine vmaps it over lanes)."""
    check_supported(task, model)  # at trace time, i.e. at the first evaluation, before any training step
    units = unit_gap_statistics(model, params, task_state["support"], task.spec.n, task.spec.k)
    best = jnp.argmax(units["gap"])
    return {
        "fourier_gap": units["gap"][best],
        "fourier_gap_relative": units["relative"][best],
        "fourier_gamma": units["gamma"][best],
        "fourier_max_outer": units["max_outer"][best],
        "fourier_support_fraction": jnp.mean((units["gap"] > 0).astype(jnp.float32)),
    }


registry.probes.register("fourier-gap", version="1", spec_class=ProbeSpec,
                         description="exact population correlation gradient per hidden unit by enumeration "
                                     "(parity, n <= 16): support gap, Def 1 gamma / max (k+1)-coefficient")(
    lambda spec: MeasurementProbe(fourier_gap_probe, check_supported))
