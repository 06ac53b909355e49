"""Deep quadratic MLP and greedy layer-wise training (claim 18, Barak et al. HPv3 appendix C.7)."""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from groklab import GroklabInputError
from groklab.catalog import run_experiment
from groklab.config import make_config
from groklab.engine import train_chunk
from groklab.models.deep_mlp import DeepMLP, DeepMLPSpec
from groklab.papers.hidden_progress.recipes.layerwise import (
    LayerwiseOptions,
    population_label_gradient,
    sequential_greedy_accuracy,
)
from groklab.probes.fourier import subset_levels, walsh_hadamard
from groklab.tasks.bits import all_sign_vectors

SUPPORT_4 = (1, 4, 6, 8)


# ---------------------------------------------------------------- the mechanism, exactly

@pytest.mark.parametrize("seed", [0, 1, 2])
def test_greedy_stage_one_population_gradient_is_exactly_zero(seed):
    """Over all 2^10 inputs: the label part E[chi_S grad f] of the population gradient of the
    stage-1 network (degree 2) vanishes for every parameter when |S| = 4, while the end-to-end
    network (degree 4) at the same initialization has a clear signal."""
    stage_1 = population_label_gradient(10, SUPPORT_4, greedy_stage=1, seed=seed)
    end_to_end = population_label_gradient(10, SUPPORT_4, greedy_stage=None, seed=seed)
    assert stage_1 < 1e-6
    assert end_to_end > 1e-2


def test_the_zero_is_the_degree_bound():
    # |S| = 2 <= degree 2: stage 1 does see the labels; |S| = 5 > 4: not even end-to-end does.
    assert population_label_gradient(10, (1, 4), greedy_stage=1) > 1e-2
    assert population_label_gradient(10, (0, 1, 4, 6, 8), greedy_stage=None) < 1e-6
    assert population_label_gradient(10, (0, 1, 4, 6, 8), depth=4, greedy_stage=None) > 1e-3  # degree 8


@pytest.mark.parametrize("depth, bias", [(2, True), (3, True), (3, False), (4, True)])
def test_square_network_is_a_polynomial_of_degree_two_to_the_l_minus_one(depth, bias):
    n = 9
    model = DeepMLP(DeepMLPSpec(depth=depth, width=5, bias=bias), n, 1)
    out = np.asarray(model.apply(model.init(jax.random.key(3)), all_sign_vectors(n)), dtype=np.float64)
    coefficients = np.abs(walsh_hadamard(out))
    levels = subset_levels(n)
    degree = 2 ** (depth - 1)
    scale = coefficients.max()
    assert coefficients[levels > degree].max() < 1e-5 * scale
    assert coefficients[levels == min(degree, n)].max() > 1e-3 * scale
    if not bias:  # no biases: an even function of x, so no odd levels at all
        assert coefficients[levels % 2 == 1].max() < 1e-5 * scale


# ---------------------------------------------------------------- the model's greedy stages

def test_greedy_stages_share_the_end_to_end_initialization():
    key = jax.random.key(7)
    full = DeepMLP(DeepMLPSpec(depth=4, width=6, bias=True), 5, 1).init(key)
    for stage in (1, 2, 3):
        params = DeepMLP(DeepMLPSpec(depth=4, width=6, bias=True, greedy_stage=stage), 5, 1).init(key)
        assert len(params["hidden"]) == stage
        for mine, theirs in zip(params["hidden"], full["hidden"]):
            assert all(np.array_equal(mine[name], theirs[name]) for name in ("w", "b"))
        assert params["readout"]["w"].shape == full["readout"]["w"].shape


def test_frozen_layers_get_no_gradient_and_the_first_layer_is_probed():
    model = DeepMLP(DeepMLPSpec(depth=4, width=6, greedy_stage=3), 5, 1)
    params = model.init(jax.random.key(0))
    x = all_sign_vectors(5)
    grads = jax.grad(lambda p: jnp.mean((model.apply(p, x) - 1.0) ** 2))(params)
    assert all(not np.any(np.asarray(leaf)) for leaf in jax.tree.leaves(grads["hidden"][:2]))
    assert np.any(np.asarray(grads["hidden"][2]["w"])) and np.any(np.asarray(grads["readout"]["w"]))
    assert model.first_layer_weights(params) is params["hidden"][0]["w"]
    assert model.first_layer_weights(params).shape == (5, 6)


def test_bad_greedy_stage_and_options_fail_naming_the_field():
    with pytest.raises(GroklabInputError, match="model.greedy_stage"):
        make_config({"name": "parity", "n": 10, "k": 4}, {"name": "deep-mlp", "depth": 3, "greedy_stage": 3})
    with pytest.raises(GroklabInputError, match="depth"):
        make_config({"name": "parity", "n": 10, "k": 4}, {"name": "deep-mlp", "depth": 1})
    for bad in ({"ks": (2, 4)}, {"ks": (4, 21)}, {"ks": ()}, {"max_steps": 150}):
        with pytest.raises(GroklabInputError, match="layerwise-counterexample"):
            run_experiment("layerwise-counterexample", "/nonexistent/never-written", 0, **bad)


# ---------------------------------------------------------------- training

def _final_accuracy(n, k, stage, width=16, steps=1000, trials=2):
    config = make_config({"name": "parity", "n": n, "k": k},
                         {"name": "deep-mlp", "width": width, "bias": True, "greedy_stage": stage},
                         optimizer={"name": "sgd", "lr": 0.05}, train={"max_steps": steps, "eval_every": 100})
    return train_chunk(config, 0, range(trials))


def test_end_to_end_learns_10_4_parity():
    result = _final_accuracy(10, 4, None)
    assert list(result.status) == ["converged", "converged"]  # exact over all 2^10 inputs
    assert result.convergence_step.max() <= 500


def test_greedy_layerwise_stays_near_chance_on_20_4_parity():
    """The last greedy stage on frozen random layer-1 features of width 16 (far below the
    1 + 20 + 190 = 211 quadratics they would need to span) stays near chance, and so does the
    literal sequential procedure; end-to-end solves the same task in ~500 steps (experiment test)."""
    result = _final_accuracy(20, 4, 2, steps=2000)
    accuracy = result.final_metrics["val_accuracy"]
    assert np.all(accuracy <= 0.6), accuracy
    sequential = sequential_greedy_accuracy(LayerwiseOptions(ks=(4,), trials=2, max_steps=1000), 4)
    assert len(sequential) == 2 and max(sequential) <= 0.6, sequential


@pytest.mark.slow
def test_layerwise_experiment_end_to_end(tmp_path):
    s = run_experiment("layerwise-counterexample", tmp_path, 0, trials=2, max_steps=2000, layerwise_widths=(256,))
    assert s["verdict"] == "PASS", s["criteria"]
    assert s["accuracy"]["4"]["end-to-end"] == 1.0
    assert s["accuracy"]["4"]["layer-wise"] <= 0.6 and s["accuracy"]["4"]["layer-wise stage 1"] <= 0.6
    assert s["accuracy"]["5"]["end-to-end"] <= 0.6
    assert s["runs"]["4"]["layer-wise"]["first_layer_movement"] == 0.0  # frozen
    # Wide enough random layer-1 features span all quadratics, and the last stage alone learns.
    assert s["layerwise_mean_by_width"]["256"] >= 0.95
    assert len(s["figures"]) == 2 and all(p.endswith(".png") for p in s["figures"])


def test_layerwise_experiment_quick_summary_and_resume(tmp_path):
    options = dict(ks=(4,), trials=1, max_steps=1000, sequential_check=False)
    s = run_experiment("layerwise-counterexample", tmp_path, 0, **options)
    assert s["verdict"] == "PASS" and "18" in s["claim"]
    assert s["accuracy"]["4"]["end-to-end"] == 1.0 and s["accuracy"]["4"]["layer-wise"] <= 0.6
    assert [c["passed"] for c in s["criteria"]] == [True, True]
    assert len(s["figures"]) == 1 and (tmp_path / "figures").exists()
    again = run_experiment("layerwise-counterexample", tmp_path, 0, **options)
    assert again["trials_run_now"] == 0 and again["accuracy"] == s["accuracy"]
