"""Mohamadi et al. 2024: the quadratic pair network (lookup = the paper's matmul formula) and the
Prop 3.8 / App F construction (claim 23), exactly."""
from __future__ import annotations

import jax
import numpy as np
import pytest

from groklab import GroklabInputError, registry
from groklab.components import ensure_registered
from groklab.config import make_config
from groklab.papers.why_grok.construction import (
    all_pairs,
    fourier_construction,
    linf_norm,
    min_margin,
    normalized_margin,
)


def quadratic_net(p: int, **spec):
    ensure_registered()
    entry = registry.models.get("wg-quadratic")
    return entry.build(entry.spec_class(**spec), 2 * p, p)


def paper_formula(params: dict, x: np.ndarray) -> np.ndarray:
    """f = V (W [e_a; e_b])^2 as written in eq. 2.1: a dense product with the one-hot input."""
    w, v = np.asarray(params["w"], np.float64).T, np.asarray(params["v"], np.float64).T  # (h, 2p), (p, h)
    return ((w @ x.T) ** 2).T @ v.T


@pytest.mark.parametrize("p", [3, 5, 7, 11])
def test_construction_outputs_4p_on_the_sum_and_0_elsewhere_with_unit_norm(p):
    params = fourier_construction(p)
    x, labels = all_pairs(p)
    out = paper_formula(params, x)
    np.testing.assert_allclose(out, 4 * p * np.eye(p)[labels], atol=1e-9)
    assert linf_norm(params) == pytest.approx(1.0)
    assert min_margin(out, labels) == pytest.approx(4 * p)
    assert normalized_margin(out, labels, params) == pytest.approx(4 * p)


def test_wider_construction_duplicates_neurons_at_the_cube_root_scale_and_keeps_the_function():
    p = 5
    base, wide = fourier_construction(p), fourier_construction(p, width=8 * p * 3 + 7)
    x, labels = all_pairs(p)
    np.testing.assert_allclose(paper_formula(wide, x), paper_formula(base, x), atol=1e-9)
    assert linf_norm(wide) == pytest.approx(3 ** (-1 / 3))
    assert normalized_margin(paper_formula(wide, x), labels, wide) == pytest.approx(4 * p * 3)
    with pytest.raises(ValueError, match="8p"):
        fourier_construction(p, width=8 * p - 1)


def test_the_model_evaluates_the_construction_in_float32():
    p = 7
    model = quadratic_net(p, width=8 * p)
    x, labels = all_pairs(p)
    out = np.asarray(jax.jit(model.apply)(jax.tree.map(np.float32, fourier_construction(p)), x.astype(np.float32)))
    np.testing.assert_allclose(out, 4 * p * np.eye(p)[labels], atol=1e-3)
    assert np.array_equal(out.argmax(axis=1), labels)


@pytest.mark.parametrize("init", ["he-normal", "torch"])
def test_lookup_equals_the_paper_matmul_and_init_scales(init):
    p = 5
    model = quadratic_net(p, init=init, init_scale=0.5)
    assert model.width == 4 * p  # the default h = 4p
    params = model.init(jax.random.key(0))
    assert params["w"].shape == (2 * p, 4 * p) and params["v"].shape == (4 * p, p)
    x, _ = all_pairs(p)
    np.testing.assert_allclose(np.asarray(model.apply(params, x.astype(np.float32))), paper_formula(params, x),
                               rtol=1e-5, atol=1e-5)
    unit = quadratic_net(p, init=init).init(jax.random.key(0))
    np.testing.assert_allclose(np.asarray(params["w"]), 0.5 * np.asarray(unit["w"]), rtol=1e-6)
    # He-normal: W ~ N(0, 2/2p), V ~ N(0, 2/h); torch: U(+-1/sqrt(fan_in)), std 1/sqrt(3 fan_in)
    big = quadratic_net(101, init=init).init(jax.random.key(1))
    expected = {"he-normal": (1 / 101) ** 0.5, "torch": (1 / (3 * 202)) ** 0.5}[init]
    assert np.std(np.asarray(big["w"])) == pytest.approx(expected, rel=0.05)


def test_the_quadratic_net_needs_one_hot_pair_inputs():
    with pytest.raises(GroklabInputError, match="^model.name: wg-quadratic"):
        make_config({"name": "parity", "n": 10, "k": 2}, {"name": "wg-quadratic"}, loss={"name": "square"})
    config = make_config({"name": "modular-addition", "p": 7}, {"name": "wg-quadratic"},
                         loss={"name": "cross-entropy"}, train={"batch_size": None})
    assert config.model.width is None


# ---------------------------------------------------------------- normalized GD and a gradient that does not freeze

def test_normalized_gd_steps_exactly_lr_along_minus_the_gradient_per_trial():
    from groklab.optimizers import build_optimizer
    from groklab.specs import OptimizerSpec

    opt = build_optimizer(OptimizerSpec(name="normalized-gd", lr=10.0))
    grads = {"w": np.array([[3.0, 0.0]], np.float32), "v": np.array([4.0], np.float32)}
    params = jax.tree.map(np.zeros_like, grads)
    updates, _ = opt.update(grads, opt.init(params), params)
    np.testing.assert_allclose(updates["w"], [[-6.0, 0.0]], rtol=1e-6)  # -10 g / ||g||, ||g|| = 5
    np.testing.assert_allclose(updates["v"], [-8.0], rtol=1e-6)
    # per trial under vmap: a trial's step does not depend on another's gradient scale
    batched = jax.tree.map(lambda g: np.stack([g, 1e-30 * g]), grads)
    steps, _ = jax.vmap(lambda g: opt.update(g, opt.init(params), params))(batched)
    np.testing.assert_allclose(steps["w"][1], updates["w"], rtol=1e-5)
    zero, _ = opt.update(jax.tree.map(np.zeros_like, grads), opt.init(params), params)
    assert all(not np.any(np.asarray(u)) for u in jax.tree.leaves(zero))
    with pytest.raises(GroklabInputError, match="^optimizer.weight_decay"):
        build_optimizer(OptimizerSpec(name="normalized-gd", weight_decay=1e-20))


def test_cross_entropy_gradient_is_exact_and_survives_saturated_softmax():
    import optax

    from groklab.losses import loss_fn

    naive = lambda z, y: optax.softmax_cross_entropy_with_integer_labels(z, y).mean()  # noqa: E731
    labels = np.array([0, 2, 1])
    moderate = np.array([[2.0, -1.0, 0.5], [0.1, 0.2, 0.3], [-3.0, 1.0, 4.0]], np.float32)
    ours, scaled = loss_fn("cross-entropy"), loss_fn("cross-entropy", rescale_gradient=True)
    np.testing.assert_allclose(jax.grad(ours)(moderate, labels), jax.grad(naive)(moderate, labels), rtol=1e-5, atol=1e-7)
    assert float(ours(moderate, labels)) == pytest.approx(float(naive(moderate, labels)))
    # Margin 50 everywhere: the naive float32 gradient's label entries p_y - 1 round to exactly 0 (the
    # push up on the right logit is lost; the spec's naive runs froze at test accuracy 0.943) ...
    saturated = 50.0 * np.eye(3, dtype=np.float32)[labels]
    assert not np.any(np.asarray(jax.grad(naive)(saturated, labels))[np.arange(3), labels])
    exact = np.asarray(jax.grad(ours)(saturated, labels))
    np.testing.assert_allclose(exact[0], np.array([-2, 1, 1]) * np.exp(-50.0) / 3, rtol=1e-4)
    # ... and at margin 120 even the exact one underflows, while the rescaled one keeps its direction.
    far = 120.0 * np.eye(3, dtype=np.float32)[labels]
    assert not np.any(np.asarray(jax.grad(ours)(far, labels)))
    direction = np.asarray(jax.grad(scaled)(far, labels))
    np.testing.assert_allclose(direction[0], np.array([-2, 1, 1]) / 6, rtol=1e-5)  # largest entry 1, / n
    with pytest.raises(GroklabInputError, match="^loss.rescale_gradient"):
        make_config({"name": "modular-addition", "p": 7}, {"name": "wg-quadratic"},
                    loss={"name": "cross-entropy", "rescale_gradient": True}, optimizer={"name": "adamw"},
                    train={"batch_size": None})


def test_norms_margin_probe_reads_the_construction_exactly():
    from groklab.config import build_components

    p = 7
    config = make_config({"name": "modular-addition", "p": p}, {"name": "wg-quadratic", "width": 16 * p},
                         loss={"name": "cross-entropy"}, train={"batch_size": None}, probes=["norms-margin"])
    task, model = build_components(config)
    probe = registry.probes.get("norms-margin").build(None)
    params = jax.tree.map(np.float32, fourier_construction(p, width=16 * p))
    values = jax.jit(lambda params, key: probe(model, task, params, params, task.init_state(key)))(
        params, jax.random.key(0))
    assert float(values["linf_norm"]) == pytest.approx(2 ** (-1 / 3), rel=1e-6)
    assert float(values["train_min_margin"]) == pytest.approx(4 * p, rel=1e-4)
    assert float(values["normalized_margin"]) == pytest.approx(4 * p * 2, rel=1e-4)
    assert float(values["l2_norm"]) > 0


def test_grokking_recipe_fits_first_and_generalizes_later(tmp_path, cli):
    """p = 23, 2 seeds, the claim-28 setting: [cal2] measured t_train 130-210, t_test 540-640."""
    import json

    import duckdb

    code, out, err = cli(["run", "grokking", "--p", "23", "--trials", "2", "--max-steps", "1500", "--workers", "0",
                          "--store", str(tmp_path), "--json"])
    assert code in (0, 1), err
    summary = json.loads(out)
    run = summary["per_p"]["23"]
    assert set(run) >= {"t_train", "t_test", "final_test_accuracy", "linf_at_t_test", "entk_change_at_t_train",
                        "entk_change_at_t_test"}
    # claim 27's measure: the eNTK moves >= 10x more by t_test than by t_train ([cal2]: 12.6-175)
    assert all(test >= 10 * fit for fit, test in zip(run["entk_change_at_t_train"], run["entk_change_at_t_test"]))
    assert all(0 < v < 1.5 for v in run["entk_change_scale_free_at_t_train"])  # a distance of unit matrices
    # t_train and the gap are columns of the trials table too
    rows = duckdb.sql(f"SELECT fit_step, grokking_gap, convergence_step FROM read_parquet('{tmp_path}/**/*trials*.parquet') "
                      "ORDER BY trial_index").fetchall()
    assert [r[0] for r in rows] == run["t_train"] and all(gap == tc - fit for fit, gap, tc in rows)
    assert run["n_train"] == 372 and run["width"] == 92
    assert all(t is not None and 50 <= t <= 400 for t in run["t_train"]), run
    assert all(t is not None and t >= 2 * tt for t, tt in zip(run["t_test"], run["t_train"])), run
    assert min(run["final_test_accuracy"]) >= 0.99 and all(5 < v < 15 for v in run["linf_at_t_test"])
    code, _, err = cli(["run", "grokking", "--p", "7", "--store", str(tmp_path / "bad")])
    assert code == 2 and "grokking.p" in err and "p = 11" in err and not (tmp_path / "bad").exists()


@pytest.mark.parametrize("optimizer, lr", [("gd", 1.0), ("adam", 1e-2)])
def test_training_on_relabelled_data_relabels_the_predictions(optimizer, lr):
    from groklab.papers.why_grok.equivariance import equivariance_gap

    assert equivariance_gap(7, optimizer, steps=200, lr=lr) < 1e-4
    # ... and the measure can fail: an init whose outputs are permuted differently differs at order 1
    assert equivariance_gap(7, optimizer, steps=200, lr=lr, control=True) > 0.05


def test_modular_addition_takes_the_papers_training_size_and_keeps_old_hashes():
    from groklab.config import build_components, make_config
    from groklab.errors import GroklabInputError

    paper = make_config({"name": "modular-addition", "p": 47, "train_size": "paper"}, {"name": "wg-quadratic"})
    task, _ = build_components(paper)
    assert (task.train_size, task.test_size) == (1224, 985)  # round(2 * 47^(5/3)), the spec's correction
    assert make_config(**paper.as_dict()).config_hash() == paper.config_hash()  # reads back as written
    plain = make_config({"name": "modular-addition", "p": 23}, {"name": "wg-quadratic"})
    assert "train_size" not in plain.as_dict()["task"]  # unset: not hashed, stored results keep their hash
    with pytest.raises(GroklabInputError, match="task.train_size"):
        make_config({"name": "modular-addition", "p": 7, "train_size": "paper"}, {"name": "wg-quadratic"})
    with pytest.raises(GroklabInputError, match="train_size and train_fraction"):
        make_config({"name": "modular-addition", "p": 47, "train_size": 100, "train_fraction": 0.3},
                    {"name": "wg-quadratic"})
