"""The fourier-gap probe, experiment and claim-10 check (Barak et al. appendix C.1 / Fig 12)."""
from __future__ import annotations

import math
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from groklab import GroklabInputError, make_config, registry
from groklab.catalog import run_experiment
from groklab.components import ensure_registered
from groklab.engine import train_chunk
from groklab.engine.keys import trial_keys
from groklab.probes.fourier import (
    fourier_gap,
    fourier_gap_jax,
    sign_vectors,
    walsh_hadamard,
)
from groklab.probes.fourier_gap_probe import (
    fourier_gap_probe,
    population_gradients,
    unit_gap_statistics,
)
from groklab.probes.population_gradient import recover_support, support_gap

ensure_registered()


def build(task: dict, model: dict):
    task_entry, model_entry = registry.tasks.get(task["name"]), registry.models.get(model["name"])
    built_task = task_entry.build(task_entry.spec_class(**task))
    return built_task, model_entry.build(model_entry.spec_class(**model), built_task.input_dim, 1)


def brute_force_gradient(n: int, support, w: np.ndarray, b: np.ndarray, derivative) -> np.ndarray:
    """g[j, i] = mean over all 2^n inputs of chi_S(x) x_i phi'(w_j.x + b_j), float64, straight from the definition."""
    x = sign_vectors(n)
    y = np.prod(x[:, list(support)], axis=1)
    d = derivative(x @ w + b)  # (2^n, r)
    return np.einsum("p,pi,pj->ji", y, x, d) / 2**n


# Models with the numpy derivative phi'(z) of each unit as a function of z = w.x + b.
MODELS = [
    ({"name": "single-neuron", "activation": "sinusoidal", "input_scale": 0.37},
     lambda z: -np.pi * 0.37 / 2 * np.sin(np.pi * 0.37 * z / 2)),
    ({"name": "single-neuron", "activation": "sinusoidal", "bias": False, "init": "gaussian", "init_scale": 2.0},
     lambda z: -np.pi / 2 * np.sin(np.pi * z / 2)),
    ({"name": "mlp", "width": 7}, lambda z: (z > 0).astype(np.float64)),
    ({"name": "mlp", "width": 3, "activation": "power", "degree": 3}, lambda z: 3 * z**2),
]


def unit_weights(model_spec: dict, params: dict):
    if model_spec["name"] == "mlp":
        return np.asarray(params["hidden"]["w"], np.float64), np.asarray(params["hidden"]["b"], np.float64)
    return np.asarray(params["w"], np.float64)[:, None], np.atleast_1d(np.asarray(params.get("b", 0.0), np.float64))


@pytest.mark.parametrize("n", [5, 8])
@pytest.mark.parametrize("model_spec,derivative", MODELS, ids=["sin", "sin-nobias", "relu-mlp", "cube-mlp"])
def test_probe_gradient_equals_brute_force_enumeration(n, model_spec, derivative):
    task, model = build({"name": "parity", "n": n, "k": 3}, model_spec)
    for seed in range(3):
        params = model.init(jax.random.key(seed))
        support = (0, 2, n - 1)
        got = np.asarray(population_gradients(model, params, jnp.asarray(support), n), np.float64)
        w, b = unit_weights(model_spec, params)
        np.testing.assert_allclose(got, brute_force_gradient(n, support, w, b, derivative), rtol=0, atol=1e-5)


def test_gap_statistics_match_numpy_def1_and_top_k():
    n, k, support = 8, 2, (3, 6)
    _, model = build({"name": "parity", "n": n, "k": k},
                     {"name": "single-neuron", "activation": "sinusoidal", "input_scale": 0.5, "init": "gaussian"})
    for seed in range(6):
        params = model.init(jax.random.key(seed))
        units = unit_gap_statistics(model, params, jnp.asarray(support), n, k)
        stats = {name: float(value[0]) for name, value in units.items()}
        w, b = unit_weights({"name": "single-neuron"}, params)
        z = (sign_vectors(n) @ w + b)[:, 0]
        coeffs = walsh_hadamard(-np.pi * 0.5 / 2 * np.sin(np.pi * 0.5 * z / 2))
        exact = fourier_gap(coeffs, support, n)  # Def 1 in float64
        assert stats["gamma"] == pytest.approx(exact.gamma, abs=1e-6)
        assert stats["max_outer"] == pytest.approx(exact.max_outer, abs=1e-6)
        grad = brute_force_gradient(n, support, w, b, lambda v: -np.pi / 4 * np.sin(np.pi * v / 4))[0]
        magnitude = np.abs(grad)
        gap = magnitude[list(support)].min() - np.delete(magnitude, list(support)).max()
        assert stats["gap"] == pytest.approx(gap, abs=1e-6)
        assert stats["relative"] == pytest.approx(gap / magnitude.max(), abs=1e-5)
        # gap > 0 exactly when the top-k |g_i| are S
        assert (stats["gap"] > 0) == (tuple(np.asarray(recover_support(jnp.asarray(grad), k))) == support)


def test_support_gap_is_zero_on_a_tie_and_fourier_gap_jax_on_a_full_support():
    assert float(support_gap(jnp.array([1.0, 0.5, 0.5, 0.2]), jnp.array([0, 1]))) == 0.0  # tie across the boundary
    assert float(support_gap(jnp.array([1.0, 0.6, 0.5, 0.2]), jnp.array([0, 1]))) == pytest.approx(0.1)
    assert float(support_gap(jnp.array([-1.0, 0.6, -0.5, 0.2]), jnp.array([1, 2]))) == pytest.approx(-0.5)
    gamma, max_outer = fourier_gap_jax(jnp.arange(8.0), jnp.array([0, 1, 2]), 3, 3)  # k = n: no (k+1)-sets
    assert float(max_outer) == 0.0 and float(gamma) == 3.0  # min |f_hat| over {1,2}=6, {0,2}=5, {0,1}=3


def test_probe_runs_vmapped_inside_the_engine_and_matches_a_direct_call():
    n, k, trials = 8, 2, 5
    config = make_config({"name": "parity", "n": n, "k": k},
                         {"name": "single-neuron", "activation": "sinusoidal", "trainable_output": False,
                          "input_scale": 2 / (math.pi * math.sqrt(n)), "init": "gaussian", "init_scale": 2.0},
                         loss={"name": "correlation"}, optimizer={"name": "sgd", "lr": 0.3},
                         train={"batch_size": 32, "max_steps": 200, "eval_every": 20}, probes=["fourier-gap"])
    result = train_chunk(config, 0, range(trials))
    curves = result.curves
    task, model = build(config.task.model_dump(), config.model.model_dump())
    keys = trial_keys(0, np.arange(trials))
    for trial in range(trials):
        params = model.init(jax.random.wrap_key_data(keys["init"][trial]))
        state = task.init_state(jax.random.wrap_key_data(keys["task"][trial]))
        direct = fourier_gap_probe(model, task, params, params, state)  # un-vmapped, at the init
        row = (curves["trial_index"] == trial) & (curves["step"] == 0)
        for name, value in direct.items():
            assert curves[name][row][0] == pytest.approx(float(value), rel=1e-4, abs=1e-7)
        rows = curves["trial_index"] == trial
        assert np.all(np.isin(curves["fourier_support_fraction"][rows], [0.0, 1.0]))
        assert np.array_equal(curves["fourier_support_fraction"][rows] == 1.0, curves["fourier_gap"][rows] > 0)
        gamma, outer = curves["fourier_gamma"][rows], curves["fourier_max_outer"][rows]
        assert np.all(gamma >= curves["fourier_gap"][rows]) and np.all(outer >= 0)
    assert result.convergence_step.max() > 0  # (8,2) trains in a few dozen steps at lr 0.3


def test_probe_on_an_mlp_reports_the_best_unit_and_the_fraction_with_a_gap():
    config = make_config({"name": "parity", "n": 10, "k": 2}, {"name": "mlp", "width": 6},
                         train={"max_steps": 100, "eval_every": 100}, probes=["fourier-gap"])
    result = train_chunk(config, 0, range(3))
    task, model = build(config.task.model_dump(), config.model.model_dump())
    keys = trial_keys(0, np.arange(3))
    for trial in range(3):
        params = model.init(jax.random.wrap_key_data(keys["init"][trial]))
        support = task.init_state(jax.random.wrap_key_data(keys["task"][trial]))["support"]
        units = unit_gap_statistics(model, params, support, 10, 2)
        row = (result.curves["trial_index"] == trial) & (result.curves["step"] == 0)
        assert result.curves["fourier_gap"][row][0] == pytest.approx(float(jnp.max(units["gap"])), abs=1e-7)
        assert result.curves["fourier_support_fraction"][row][0] == pytest.approx(
            float(jnp.mean(units["gap"] > 0)), abs=1e-6)


@pytest.mark.parametrize("task,model,match", [
    ({"name": "parity", "n": 17, "k": 2}, {"name": "mlp", "width": 4}, "n <= 16"),
    ({"name": "parity", "n": 10, "k": 2}, {"name": "polynet", "degree": 2}, "single-neuron and mlp"),
    ({"name": "modular-addition", "p": 5}, {"name": "mlp", "width": 4}, "parity task"),
])
def test_unsupported_settings_are_input_errors_before_training(task, model, match):
    loss = {"name": "cross-entropy"} if task["name"] == "modular-addition" else None
    with pytest.raises(GroklabInputError, match=match):  # make_config runs the probe's check
        make_config(task, model, loss=loss, train={"batch_size": 8, "max_steps": 100}, probes=["fourier-gap"])


def test_experiment_options_are_validated_before_work(tmp_path):
    with pytest.raises(GroklabInputError, match="n"):
        run_experiment("fourier-gap", tmp_path, workers=0, n=17)
    with pytest.raises(GroklabInputError, match="k"):
        run_experiment("fourier-gap", tmp_path, workers=0, n=5, k=6)
    assert not (tmp_path / "chunks").exists()


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("fourier-gap")
    options = dict(n=9, k=2, inits=64, trials=4, max_steps=2000, eval_every=20, lr=0.3)
    return root, options, run_experiment("fourier-gap", root, workers=0, **options)


def test_small_experiment_numbers(small_run):
    root, options, s = small_run
    init, path = s["init"], s["path"]
    # Majority at (9,2): |Maj_hat_1| / 2 = C(8,4)/2^9 and |Maj_hat_3| / 2 = that / 7, exactly.
    assert init["majority_gap"] == pytest.approx(70 / 512 * (1 - 1 / 7), abs=1e-12)
    assert init["recovered_fraction"] >= 0.9  # 62/64 at seed 0
    assert 0 < init["mean_gap_unit_derivative"] < init["majority_gap"] and init["smaller_than_majority"]
    assert init["mean_gap_unit_derivative"] == pytest.approx(init["mean_gap"] * math.sqrt(9), rel=1e-6)
    assert path["converged"] == 4 and path["trials_grown"] == 4
    assert path["mean_gap_half"] > path["mean_gap_0"] > 0 and path["grows_on_average"]
    assert s["verdict"] == "PASS" and "10" in s["claim"]
    assert all(Path(f).is_file() and Path(f).parent == root / "figures" for f in s["figures"])
    for trial in path["per_trial"].values():
        assert trial["half_step"] <= trial["t_c"] / 2 and trial["half_step"] % options["eval_every"] == 0


def test_small_experiment_init_statistics_are_the_trials_step_zero(small_run):
    """Part (a) uses the engine's keys: its first inits are exactly the SGD trials' starting points."""
    root, options, s = small_run
    from groklab.papers.hidden_progress.recipes.fourier_gap import (
        FourierGapOptions,
        gaps_at_init,
        sinusoidal_config,
    )

    config = sinusoidal_config(FourierGapOptions(**options))
    at_init = gaps_at_init(config, 0, options["trials"])
    for trial, values in s["path"]["per_trial"].items():
        assert values["gap_0"] == pytest.approx(at_init["gap"][int(trial)], rel=1e-4, abs=1e-7)


@pytest.mark.slow
def test_claim_10_quick_check(tmp_path):
    from groklab.checks.base import SUITES

    check = next(c for c in SUITES["hidden-progress"] if c.claim == "10")
    rows = check.run("quick", tmp_path, 0)
    assert len(rows) == 2 and all(row.claim == "10" for row in rows)
    assert all(row.passed for row in rows), [row.measured for row in rows]
