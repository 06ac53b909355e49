"""Argmax accuracy of modular regression on unseen pairs (spec claim 25 [cal2]).

The regression predictor g(a, b, c) = f(a, b)_c is scored by square loss, whose test MSE mixes
the few positive triples with the many zeros. Whether the network has learned a + b shows better
as a classifier read-out: the prediction for a pair (a, b) is argmax_c f(a, b)_c. Recorded:

    unseen_pair_accuracy  over the pairs whose positive triple (a, b, a + b) is not in the training
                          set (the answer never shown; NaN when every pair's was)
    pair_accuracy         over all p^2 pairs
"""
from __future__ import annotations

import jax.numpy as jnp

from groklab import registry
from groklab.errors import GroklabInputError
from groklab.probes.base import MeasurementProbe, ProbeSpec
from groklab.protocols import HasPairOutputs, Model, Task


def unseen_pair_accuracy(model, task, params, init_params, task_state) -> dict:
    p = task.triple_vocabulary
    pair = jnp.arange(p * p)
    a, b = pair // p, pair % p
    correct = jnp.argmax(model.pair_outputs(params, a, b), axis=-1) == (a + b) % p
    unseen = task.unseen_pairs(task_state)
    count = jnp.sum(unseen)
    return {"unseen_pair_accuracy": jnp.where(count > 0, jnp.sum(correct & unseen) / jnp.maximum(count, 1), jnp.nan),
            "pair_accuracy": jnp.mean(correct)}


def check(task: Task, model: Model) -> None:
    from groklab.tasks.modular_regression import ModularRegression

    if not isinstance(task, ModularRegression):
        raise GroklabInputError(f"probes.names: unseen-pair-accuracy reads modular-regression's pairs; "
                                f"{task.spec.name} has none")
    if not isinstance(model, HasPairOutputs):
        raise GroklabInputError(f"probes.names: unseen-pair-accuracy needs f(a, b) over all c; "
                                f"{model.spec.name} gives only the scalar g (use wg-quadratic)")


registry.probes.register("unseen-pair-accuracy", version="1", spec_class=ProbeSpec,
                         description="modular regression: argmax_c f(a, b)_c = a + b on pairs whose answer was not "
                                     "trained, and on all pairs")(
    lambda spec: MeasurementProbe(unseen_pair_accuracy, check))
