"""Hidden progress (Barak et al. 2022, HPv3 p41-4): rho = ||W_t - W_0||_inf over the first layer.

Also the per-input-coordinate movement m_i = max_j |W_t[i, j] - W_0[i, j]|, split into the hidden
support S and the rest: the paper's picture is relevant weights growing steadily through the loss
plateau until min_{i in S} m_i overtakes max_{i not in S} m_i.
"""
from __future__ import annotations

import jax.numpy as jnp

from groklab import registry
from groklab.errors import GroklabInputError
from groklab.probes.base import MeasurementProbe, ProbeSpec
from groklab.protocols import HasFirstLayer


def hidden_progress(model, task, params, init_params, task_state) -> dict:
    moved = jnp.abs(model.first_layer_weights(params) - model.first_layer_weights(init_params))  # (n, r)
    out = {"hidden_progress": jnp.max(moved)}
    support = task_state.get("support") if isinstance(task_state, dict) else None
    if support is not None:
        per_coordinate = jnp.max(moved, axis=1)  # (n,)
        relevant = jnp.zeros(per_coordinate.shape[0], bool).at[support].set(True)
        out["relevant_movement_min"] = jnp.min(jnp.where(relevant, per_coordinate, jnp.inf))
        out["irrelevant_movement_max"] = jnp.max(jnp.where(relevant, -jnp.inf, per_coordinate))
    return out


def check_supported(task, model) -> None:
    if not isinstance(model, HasFirstLayer):
        raise GroklabInputError(f"probes: hidden-progress needs a model with a first-layer weight matrix; "
                                f"{model.spec.name} has none")


registry.probes.register("hidden-progress", version="1", spec_class=ProbeSpec,
                         description="rho = ||W_t - W_0||_inf of the first layer; relevant vs irrelevant movement")(
    lambda spec: MeasurementProbe(hidden_progress, check_supported))
