"""The Barak et al. roster (i)-(xv), (*i)-(*iii): presets, the parity Transformer, the robustness grid."""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from groklab import GroklabInputError, registry
from groklab.catalog import build_options, run_experiment
from groklab.components import ensure_registered
from groklab.engine import train_chunk
from groklab.engine.train import CONVERGED
from groklab.papers.hidden_progress.recipes.robustness_grid import (
    AXES,
    full_grid,
    grid_axes,
    sample_grid,
)
from groklab.papers.hidden_progress.roster import (
    LESS_ROBUST,
    ROBUST,
    ROSTER,
    default_optimizer,
    parse_roster_names,
    roster_config,
    roster_model,
)
from groklab.tasks.bits import random_signs

ensure_registered()

SMALL_TRANSFORMER = {"d_emb": 8, "heads": 2, "d_attn": 4}


# ---------------------------------------------------------------- presets

def test_roster_lists_the_papers_eighteen_architectures_in_order():
    assert ROSTER == ("i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x", "xi", "xii", "xiii", "xiv", "xv",
                      "*i", "*ii", "*iii")
    assert ROBUST == ROSTER[:15] and LESS_ROBUST == ("*i", "*ii", "*iii")


def test_mlp_presets_are_exact():
    assert roster_model("i", 20, 3) == {"name": "mlp", "width": 10, "activation": "relu"}
    assert roster_model("ii", 20, 3)["width"] == 100 and roster_model("iii", 20, 3)["width"] == 1000
    assert roster_model("iv", 20, 3) == {"name": "mlp", "width": 10, "activation": "power", "degree": 3}
    assert roster_model("vi", 30, 4) == {"name": "mlp", "width": 1000, "activation": "power", "degree": 4}
    assert roster_model("*i", 20, 4) == {"name": "mlp", "width": 4, "activation": "relu"}
    assert roster_model("*ii", 20, 2) == {"name": "mlp", "width": 2, "activation": "power", "degree": 2}


def test_single_neuron_presets_fix_u_from_xi_on():
    activations = ["zigzag", "polynomial", "inf-zigzag", "sinusoidal"]
    for names, trainable in ((("vii", "viii", "ix", "x"), True), (("xi", "xii", "xiii", "xiv"), False)):
        for name, activation in zip(names, activations):
            assert roster_model(name, 10, 3) == {"name": "single-neuron", "activation": activation, "degree": 3,
                                                 "trainable_output": trainable}


def test_polynet_and_transformer_presets_and_optimizers():
    assert roster_model("xv", 20, 4) == {"name": "polynet", "degree": 4}
    assert roster_model("*iii", 20, 3) == {"name": "parity-transformer", "d_emb": 1024, "heads": 128, "d_attn": 8}
    assert default_optimizer("*iii") == "adam"
    assert {default_optimizer(name) for name in ROSTER if name != "*iii"} == {"sgd"}


def test_names_are_normalized_and_unknown_names_fail_in_one_line():
    assert roster_model("(IV)", 10, 2) == roster_model("iv", 10, 2)
    assert default_optimizer("(*iii)") == "adam"
    with pytest.raises(GroklabInputError, match=r"^architecture: unknown roster name 'xvi' \(known: i, ii"):
        roster_model("xvi", 10, 2)
    with pytest.raises(GroklabInputError, match="task.k"):
        roster_model("i", 3, 4)
    assert parse_roster_names("all") == ROBUST and parse_roster_names("less-robust") == LESS_ROBUST
    assert parse_roster_names("i, (xv),*ii") == ("i", "xv", "*ii")


def test_roster_config_sets_the_optimizer_init_and_loss():
    config = roster_config("v", 20, 3, lr=0.01, batch_size=8, max_steps=200, eval_every=100, loss="square",
                           init="bernoulli")
    assert (config.model.width, config.model.activation, config.model.degree, config.model.init) == (100, "power", 3,
                                                                                                     "bernoulli")
    assert (config.optimizer.name, config.optimizer.lr, config.loss.name) == ("sgd", 0.01, "square")
    transformer = roster_config("*iii", 10, 2, lr=3e-4, batch_size=32, max_steps=100, model_overrides={"d_emb": 16})
    assert (transformer.optimizer.name, transformer.model.d_emb, transformer.model.heads) == ("adam", 16, 128)


# Every architecture trains one short block through the engine (18 compilations: slow). The default
# suite trains (ii), (xv) and (*iii) below; the models themselves are contract-tested in test_components.
@pytest.mark.slow
@pytest.mark.parametrize("name", ROSTER)
def test_every_roster_architecture_trains_one_block(name):
    overrides = SMALL_TRANSFORMER if name == "*iii" else None
    config = roster_config(name, 10, 3, lr=0.01, batch_size=8, max_steps=20, eval_every=20, model_overrides=overrides)
    result = train_chunk(config, 0, range(2), lanes=2)
    assert result.steps_run.tolist() == [20, 20] or CONVERGED in result.status
    assert np.all(np.isfinite(result.final_metrics["train_loss"]))
    assert np.all((result.final_metrics["val_accuracy"] >= 0) & (result.final_metrics["val_accuracy"] <= 1))


# ---------------------------------------------------------------- the parity Transformer

class Jitted:
    """The model with `apply` and `attention_weights` under jit (eager dispatch is slow)."""

    def __init__(self, model):
        self.model = model
        self.apply = jax.jit(model.apply)
        self.attention_weights = jax.jit(model.attention_weights)

    def __getattr__(self, name):
        return getattr(self.model, name)


def transformer(n: int, output_dim: int = 1, **spec) -> Jitted:
    entry = registry.models.get("parity-transformer")
    return Jitted(entry.build(entry.spec_class(**{**SMALL_TRANSFORMER, **spec}), n, output_dim))


def test_transformer_defaults_are_the_papers():
    spec = registry.models.get("parity-transformer").spec_class()
    assert (spec.d_emb, spec.heads, spec.d_attn, spec.init) == (1024, 128, 8, "uniform")


def test_transformer_shapes_and_attention_rows():
    model = transformer(6, d_emb=12, heads=3, d_attn=2)
    params = model.init(jax.random.key(0))
    assert params["embed"]["position"].shape == (6, 12)
    assert params["attention"]["query"].shape == (12, 6) and params["attention"]["out"].shape == (6, 12)
    assert model.first_layer_weights(params).shape == (6, 12)
    x = random_signs(jax.random.key(1), (5,), 6)
    assert model.apply(params, x).shape == (5,)
    weights = model.attention_weights(params, x)
    assert weights.shape == (5, 3, 6, 6)
    np.testing.assert_allclose(np.asarray(weights.sum(-1)), 1.0, rtol=1e-6)
    wide = transformer(6, output_dim=4)
    assert wide.apply(wide.init(jax.random.key(0)), x).shape == (5, 4)


def test_transformer_is_position_equivariant():
    """Permuting the input coordinates together with the positional embeddings leaves f unchanged,
    and without positional information f is invariant to permuting the coordinates."""
    n = 7
    model = transformer(n)
    params = model.init(jax.random.key(3))
    x = random_signs(jax.random.key(4), (9,), n)
    perm = jnp.array([3, 0, 6, 1, 5, 2, 4])
    permuted = jax.tree.map(lambda a: a, params)
    permuted["embed"]["position"] = params["embed"]["position"][perm]
    np.testing.assert_allclose(np.asarray(model.apply(permuted, x[:, perm])), np.asarray(model.apply(params, x)),
                               rtol=1e-5, atol=1e-6)
    params["embed"]["position"] = jnp.zeros_like(params["embed"]["position"])
    np.testing.assert_allclose(np.asarray(model.apply(params, x[:, perm])), np.asarray(model.apply(params, x)),
                               rtol=1e-5, atol=1e-6)
    assert not np.allclose(np.asarray(model.apply(params, -x)), np.asarray(model.apply(params, x)))


def test_transformer_with_uniform_attention_is_the_pooled_linear_map():
    """Zero queries give uniform attention: f(x) = (mean_j token_j) W_V W_O u + b_O u + c, exactly."""
    n = 5
    model = transformer(n)
    params = model.init(jax.random.key(5))
    params["attention"]["query"] = jnp.zeros_like(params["attention"]["query"])
    params["attention"]["out_bias"] = jnp.full_like(params["attention"]["out_bias"], 0.25)
    params["readout"]["b"] = jnp.float32(-0.5)
    x = random_signs(jax.random.key(6), (4,), n)
    e, p, att = params["embed"]["value"], params["embed"]["position"], params["attention"]
    tokens = np.where(np.asarray(x)[..., None] > 0, np.asarray(e[0]), np.asarray(e[1])) + np.asarray(p)
    pooled = tokens.mean(1) @ np.asarray(att["value"]) @ np.asarray(att["out"]) + 0.25
    expected = pooled @ np.asarray(params["readout"]["w"]) - 0.5
    np.testing.assert_allclose(np.asarray(model.apply(params, x)), expected, rtol=1e-5, atol=1e-6)


def test_transformer_learns_10_2_parity_with_adam():
    """Calibrated: d_emb 32, 4 heads, Adam 1e-3, B 32 solved (10,2) in 8/8 trials by step 1400."""
    config = roster_config("*iii", 10, 2, lr=1e-3, batch_size=32, max_steps=3000, eval_every=100,
                           model_overrides={"d_emb": 32, "heads": 4, "d_attn": 8})
    result = train_chunk(config, 0, range(3), lanes=3)
    assert list(result.status) == [CONVERGED] * 3, result.convergence_step
    assert result.convergence_step.max() <= 3000


# ---------------------------------------------------------------- the robustness grid

def test_sample_grid_is_stratified_distinct_and_deterministic():
    axes = grid_axes(build_options("robustness-grid", {}))
    points = sample_grid(axes, 15, 0)
    assert Counter(p["architecture"] for p in points) == Counter(ROBUST)  # each architecture once
    for axis in ("n", "k", "init", "loss"):
        assert set(Counter(p[axis] for p in points).values()) == {5}  # 3 values, 5 each
    assert max(Counter(p["batch_size"] for p in points).values()) <= 3  # 7 values, 2 or 3 each
    assert len({tuple(p[a] for a in AXES) for p in points}) == 15
    assert sample_grid(axes, 15, 0) == points and sample_grid(axes, 15, 1) != points
    six = sample_grid(axes, 6, 0)
    assert len({p["architecture"] for p in six}) == 6
    assert len(sample_grid(axes, 40, 2)) == 40 and set(Counter(p["architecture"] for p in sample_grid(axes, 30, 2))
                                                          .values()) == {2}


def test_full_grid_enumerates_every_point():
    options = build_options("robustness-grid", {"ns": (10, 20), "ks": (2,), "batch_exponents": (0, 3),
                                                "architectures": "i,xv", "inits": "uniform", "losses": "hinge,square"})
    points = full_grid(grid_axes(options))
    assert len(points) == 2 * 1 * 2 * 1 * 2 * 2
    assert len({tuple(p[a] for a in AXES) for p in points}) == len(points)


@pytest.mark.parametrize("values, field", [
    ({"inits": "uniform,orthogonal"}, "robustness-grid.inits"),
    ({"architectures": "i,xvi"}, "robustness-grid.architectures"),
    ({"budget": 1001}, "robustness-grid.budget"),
    ({"ks": (2, 12)}, "robustness-grid.ks"),
    ({"learning_rates": (0.1, -1.0)}, "robustness-grid.learning_rates"),
    ({"losses": "cross-entropy"}, "robustness-grid.losses"),
])
def test_bad_grid_options_fail_in_one_line(values, field):
    with pytest.raises(GroklabInputError, match=f"^{field}: ") as err:
        build_options("robustness-grid", values)
    assert "\n" not in str(err.value)


def test_tiny_robustness_grid_runs_through_the_store(tmp_path: Path):
    options = dict(configs=2, seeds=2, learning_rates=(0.1, 1e-3), budget=600, eval_every=100, ns=(10,), ks=(2,),
                   batch_exponents=(5,), architectures="ii,xv", inits="uniform", losses="hinge")
    summary = run_experiment("robustness-grid", tmp_path, workers=0, **options)
    assert summary["configs"] == 2 and summary["trials_run_now"] == 2 * 2 * 2
    rows = {r["architecture"]: r for r in summary["results"]}
    assert set(rows) == {"ii", "xv"}
    # (10,2) at B=32, eta 0.1 is easy for both ([cal]: ReLU r=100 solves it by step 100); 1e-3 is too slow.
    for row in rows.values():
        assert row["best_learning_rate"] == 0.1 and row["best_success_rate"] == 1.0 and row["passed"]
        assert row["success_rate_by_lr"]["0.001"] == 0.0
    assert summary["verdict"] == "PASS" and summary["passed"] == 2 and summary["failed"] == []
    assert "budget 600" in summary["subset"] and "paper:" in summary["subset"]
    assert all(Path(f).exists() for f in summary["figures"])
    again = run_experiment("robustness-grid", tmp_path, workers=0, **options)
    assert again["trials_run_now"] == 0 and again["results"] == summary["results"]
