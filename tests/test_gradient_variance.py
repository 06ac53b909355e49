"""The gradient variance over a hypothesis class (groklab.hardness.gradient_variance), its engine
probe, and the recipes built on it, against brute force and the SSS17 bound."""
from __future__ import annotations

import jax
import numpy as np
import pytest

from groklab import GroklabInputError, make_config
from groklab.catalog import run_experiment
from groklab.components import ensure_registered
from groklab.engine import train_chunk
from groklab.engine.keys import trial_keys
from groklab.engine.train import compiled_trial
from groklab.hardness.gradient_variance import (
    brute_force_variance,
    build_task_and_model,
    gradient_variance,
)
from groklab.store import Store

ensure_registered()


build = build_task_and_model


CASES = [
    ({"name": "parity", "n": 8, "k": 3}, {"name": "mlp", "width": 16}, "square", {}),
    ({"name": "parity", "n": 8, "k": 2}, {"name": "single-neuron", "activation": "sinusoidal"}, "hinge", {}),
    ({"name": "parity", "n": 7, "k": 3}, {"name": "mlp", "width": 8, "activation": "power", "degree": 3}, "logistic",
     {}),
    ({"name": "modular-addition", "p": 7}, {"name": "mlp", "width": 16}, "cross-entropy", {"hypotheses": 12}),
    ({"name": "modular-multiplication", "p": 31, "target": "standardized"}, {"name": "mlp", "width": 16}, "square", {}),
    ({"name": "high-frequency", "frequency": 4.0}, {"name": "mlp", "width": 16}, "square",
     {"hypotheses": 8, "quadrature_points": 256}),
]


@pytest.mark.parametrize("task,model,loss,family_args", CASES, ids=lambda v: v.get("name") if isinstance(v, dict) else v)
def test_matches_the_per_target_definition(task, model, loss, family_args):
    task_obj, model_obj = build(task, model)
    family = task_obj.target_family(**family_args)
    params = model_obj.init(jax.random.key(3))
    fast = gradient_variance(model_obj, params, family, loss)
    slow = brute_force_variance(model_obj, params, family, loss)
    assert fast.variance == pytest.approx(slow, rel=1e-5)
    assert fast.variance > 0 and fast.grad_norm_sq > 0
    assert (fast.hypothesis_standard_error is None) == family.exhaustive
    assert (fast.quadrature_error is None) == family.exact


def test_orthonormal_parities_respect_the_sss17_bound_and_shrink_like_one_over_H():
    sizes, normalized = [], []
    for n in (8, 10, 12):
        task_obj, model_obj = build({"name": "parity", "n": n, "k": 3}, {"name": "mlp", "width": 32})
        family = task_obj.target_family()
        # The parities are orthonormal on the exact input set: E_x chi_S chi_T = delta_ST.
        gram = (family.targets * family.input_weights) @ family.targets.T
        np.testing.assert_allclose(gram, np.eye(family.size), atol=1e-6)
        result = gradient_variance(model_obj, model_obj.init(jax.random.key(0)), family, "square")
        assert result.normalized <= 4.0 / family.size  # Bessel: Var <= 4 E||grad f||^2 / |H| for (f - y)^2
        sizes.append(family.size)
        normalized.append(result.normalized)
    slope = np.polyfit(np.log(sizes), np.log(normalized), 1)[0]
    assert slope < -1.0  # at least as fast as the 1/|H| bound


def test_a_class_of_one_repeated_target_has_zero_variance():
    task_obj, model_obj = build({"name": "parity", "n": 6, "k": 2}, {"name": "mlp", "width": 8})
    family = task_obj.target_family()
    same = type(family)(family.name, family.inputs, family.input_weights, np.repeat(family.targets[:1], 5, axis=0),
                        family.hypotheses[:5])
    assert gradient_variance(model_obj, model_obj.init(jax.random.key(0)), same).variance == pytest.approx(0, abs=1e-12)


def test_engine_probe_equals_the_host_computation_along_training():
    config = make_config({"name": "parity", "n": 8, "k": 3}, {"name": "mlp", "width": 16},
                         train={"max_steps": 200, "eval_every": 100, "stop_on_convergence": False},
                         probes=["gradient-variance"])
    result = train_chunk(config, 0, range(3))
    at_init = result.curves["gradient_variance"][result.curves["step"] == 0]
    compiled = compiled_trial(config)
    family = compiled.task.target_family()
    for trial in range(3):
        params = compiled.model.init(jax.random.wrap_key_data(trial_keys(0, np.array([trial]))["init"][0]))
        host = gradient_variance(compiled.model, params, family, "square")
        assert at_init[trial] == pytest.approx(host.variance, rel=1e-4)
    assert np.all(np.isfinite(result.curves["gradient_variance_normalized"]))


def test_probe_rejects_classes_too_large_for_the_engine_before_work():
    with pytest.raises(GroklabInputError, match="gradient-variance"):
        make_config({"name": "parity", "n": 16, "k": 4}, {"name": "mlp", "width": 100}, probes=["gradient-variance"])


def test_variance_recipe_fits_the_decay_and_stores_a_queryable_table(tmp_path):
    s = run_experiment("gradient-variance", tmp_path, primes=(47, 97, 199), frequencies=(4, 16), inits=2,
                       hypotheses=16)
    assert s["modular_multiplication"]["slope"] < -0.5
    assert s["high_frequency"]["slope"] < -0.5
    assert s["verdict"] == "PASS"
    rows = Store(tmp_path).connect().sql(
        "SELECT family, count(*), min(normalized) FROM gradient_variance GROUP BY 1 ORDER BY 1").fetchall()
    assert [(r[0], r[1]) for r in rows] == [("high-frequency", 4), ("modular-multiplication", 6)]
    assert all(r[2] > 0 for r in rows)
