"""Weight norms and margins along training (Mohamadi et al. 2024, sections 3.3 and 4).

||theta||_inf over every parameter entry jointly (their eq. 2.2 regularizer) and ||theta||_2; on
tasks with a fixed training set and class labels, the minimum training margin
q_min = min_i (f_{y_i}(x_i) - max_{q != y_i} f_q(x_i)), and for L-homogeneous models the normalized
margin q_min / ||theta||_inf^L, the quantity normalized GD drives up in the rich regime.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp

from groklab import registry
from groklab.probes.base import MeasurementProbe, ProbeSpec
from groklab.protocols import HasHomogeneity


def min_margin(logits: jax.Array, labels: jax.Array) -> jax.Array:
    correct = jnp.take_along_axis(logits, labels[:, None], axis=1)[:, 0]
    others = jnp.where(jax.nn.one_hot(labels, logits.shape[-1], dtype=bool), -jnp.inf, logits)
    return jnp.min(correct - jnp.max(others, axis=1))


def norms_margin(model, task, params, init_params, task_state) -> dict:
    leaves = jax.tree.leaves(params)
    linf = jnp.max(jnp.stack([jnp.max(jnp.abs(leaf)) for leaf in leaves]))
    out = {"linf_norm": linf, "l2_norm": jnp.sqrt(sum(jnp.sum(leaf**2) for leaf in leaves))}
    if task.num_classes > 1 and task.train_size is not None:  # static: decided while tracing
        x, y = task.train_set(task_state)
        margin = min_margin(model.apply(params, x), y)
        out["train_min_margin"] = margin
        if isinstance(model, HasHomogeneity):
            out["normalized_margin"] = margin / linf**model.homogeneity
    return out


registry.probes.register("norms-margin", version="1", spec_class=ProbeSpec,
                         description="||theta||_inf, ||theta||_2; training min margin and q_min / ||theta||_inf^L")(
    lambda spec: MeasurementProbe(norms_margin))
