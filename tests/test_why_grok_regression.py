"""Modular addition as regression (Mohamadi et al. section 3; claims 25, 26): the task's split and
targets, the quadratic network read on triples, the unseen-pair probe, bad input, and a short run."""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from groklab import GroklabInputError, registry
from groklab.components import ensure_registered
from groklab.config import build_components, make_config
from groklab.probes.unseen_pairs import unseen_pair_accuracy
from groklab.specs import build_spec
from groklab.tasks.modular_regression import ModularRegressionSpec, build_modular_regression

ensure_registered()


def task(**spec):
    return build_modular_regression(ModularRegressionSpec(**spec))


def decode(x: np.ndarray, p: int) -> np.ndarray:
    """(a, b, c) of one-hot triples, checking that each third is exactly one-hot."""
    thirds = x.reshape(len(x), 3, p)
    assert np.all(thirds.sum(axis=-1) == 1) and set(np.unique(thirds)) == {0.0, 1.0}
    return thirds.argmax(axis=-1)


@pytest.mark.parametrize("spec, n", [({"p": 5}, 75), ({"p": 7}, 159), ({"p": 13}, 642), ({"p": 5, "train_fraction": 0.5}, 62),
                                     ({"p": 13, "train_fraction": 0.5}, 1098), ({"p": 5, "train_size": 124}, 124)])
def test_split_sizes(spec, n):
    t = task(**spec)
    p = t.spec.p
    assert (t.train_size, t.test_size, t.input_dim, t.num_classes, t.regression) == (n, p**3 - n, 3 * p, 1, True)


def test_split_is_a_per_trial_partition_and_targets_are_exact():
    t = task(p=5)
    split = jax.jit(lambda key: (t.init_state(key), t.train_set(t.init_state(key)),
                                 t.eval_batch(t.init_state(key), key)))  # one program: compiling dominates
    state, *parts = split(jax.random.key(0))
    seen = []
    for x, y in parts:
        abc = decode(np.asarray(x), 5)
        np.testing.assert_array_equal(np.asarray(y), 5 * ((abc[:, 0] + abc[:, 1]) % 5 == abc[:, 2]))
        seen.append(abc @ np.array([25, 5, 1]))
    assert len(seen[0]) == 75 and sorted(np.concatenate(seen).tolist()) == list(range(125))  # a partition
    other = split(jax.random.key(1))[0]
    assert not np.array_equal(np.asarray(state["train"]), np.asarray(other["train"]))  # per-trial split


def test_unseen_pairs_are_the_pairs_whose_positive_triple_is_held_out():
    t = task(p=5)
    state, unseen = jax.jit(lambda key: (t.init_state(key), t.unseen_pairs(t.init_state(key))))(jax.random.key(2))
    train = set(np.asarray(state["train"]).tolist())
    expected = [(a * 5 + b) * 5 + (a + b) % 5 not in train for a in range(5) for b in range(5)]
    np.testing.assert_array_equal(np.asarray(unseen), expected)
    assert 0 < sum(expected) < 25


def models(p: int, **spec):
    entry = registry.models.get("wg-quadratic")
    return entry.build(entry.spec_class(**spec), 2 * p, p), entry.build(entry.spec_class(**spec), 3 * p, 1)


@pytest.mark.parametrize("init", ["he-normal", "torch"])
def test_triple_mode_is_entry_c_of_the_pair_network_with_the_same_init(init):
    p = 7
    pair, triple = models(p, init=init, init_scale=0.5)
    assert (triple.triples, triple.vocabulary, triple.width, pair.triples, pair.width) == (True, p, 4 * p, False, 4 * p)
    params = triple.init(jax.random.key(3))
    same = pair.init(jax.random.key(3))  # one init: W (2p, h), V (h, p) drawn alike
    assert all(np.array_equal(params[k], same[k]) for k in ("w", "v"))
    a, b, c = np.arange(p**3) // (p * p), np.arange(p**3) // p % p, np.arange(p**3) % p
    eye = np.eye(p, dtype=np.float32)
    both = jax.jit(lambda q, x3, x2: (triple.apply(q, x3), pair.apply(q, x2)))
    g, f = map(np.asarray, both(params, np.concatenate([eye[a], eye[b], eye[c]], axis=1),
                                np.concatenate([eye[a], eye[b]], axis=1)))
    np.testing.assert_allclose(g, f[np.arange(p**3), c], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(triple.pair_outputs(params, jnp.asarray(a), jnp.asarray(b))), f, rtol=1e-6)


def test_unseen_pair_probe_is_the_argmax_accuracy_over_unseen_pairs():
    config = make_config({"name": "modular-regression", "p": 5}, {"name": "wg-quadratic"},
                         probes=["unseen-pair-accuracy"])
    t, model = build_components(config)
    state, params = jax.jit(t.init_state)(jax.random.key(4)), jax.jit(model.init)(jax.random.key(5))
    out = jax.jit(lambda q, s: unseen_pair_accuracy(model, t, q, q, s))(params, state)
    a, b = np.divmod(np.arange(25), 5)
    f = np.asarray(model.pair_outputs(params, jnp.asarray(a), jnp.asarray(b)))
    correct, unseen = f.argmax(axis=1) == (a + b) % 5, np.asarray(t.unseen_pairs(state))
    assert float(out["unseen_pair_accuracy"]) == pytest.approx(correct[unseen].mean())
    assert float(out["pair_accuracy"]) == pytest.approx(correct.mean())


@pytest.mark.parametrize("task_spec, probes, message", [
    ({"name": "modular-regression", "p": 9}, (), r"^task\.p: p \(9\) must be prime"),
    ({"name": "modular-regression", "p": 2}, (), r"^task\.p: "),
    ({"name": "modular-regression", "p": 5, "train_size": 125}, (), r"^task\.train_size: .*125"),
    ({"name": "modular-regression", "p": 5, "train_fraction": 0.5, "train_size": 10}, (), r"^task\.train_size: .*exclusive"),
    ({"name": "modular-addition", "p": 5}, ("unseen-pair-accuracy",), r"^probes\.names: unseen-pair-accuracy"),
])
def test_bad_input_fails_with_one_line_naming_the_field(task_spec, probes, message):
    with pytest.raises(GroklabInputError, match=message) as err:
        make_config(task_spec, {"name": "wg-quadratic"}, probes=list(probes))
    assert "\n" not in str(err.value)


def test_model_and_recipe_options_refuse_what_cannot_run():
    with pytest.raises(GroklabInputError, match=r"^probes\.names: unseen-pair-accuracy needs f"):
        make_config({"name": "modular-regression", "p": 5}, {"name": "mlp", "width": 4}, probes=["unseen-pair-accuracy"])
    from groklab.papers.why_grok.recipes.regression_grokking import RegressionGrokkingOptions as Options

    with pytest.raises(GroklabInputError, match=r"^regression-grokking.p: p \(9\)"):
        build_spec("regression-grokking", Options, {"p": [9]})
    with pytest.raises(GroklabInputError, match=r"^regression-grokking.setting"):
        build_spec("regression-grokking", Options, {"setting": "sgd"})


def test_a_short_gd_run_lowers_the_train_mse():
    """The paper's optimizer (full-batch GD with the l-inf penalty), its components as the engine
    composes them, in one compiled scan."""
    from groklab.losses import loss_fn
    from groklab.optimizers import build_optimizer
    from groklab.specs import OptimizerSpec

    config = make_config({"name": "modular-regression", "p": 5}, {"name": "wg-quadratic"})
    t, model = build_components(config)
    optimizer, loss = build_optimizer(OptimizerSpec(name="sgd", lr=0.5, linf_penalty=1e-4)), loss_fn("square")

    @jax.jit
    def run(key):
        x, y = t.train_set(t.init_state(key))
        params = model.init(key)

        def step(carry, _):
            params, state = carry
            value, grads = jax.value_and_grad(lambda q: loss(model.apply(q, x), y))(params)
            updates, state = optimizer.update(grads, state, params)
            return (jax.tree.map(jnp.add, params, updates), state), value

        _, values = jax.lax.scan(step, (params, optimizer.init(params)), None, length=100)
        return values

    values = np.asarray(run(jax.random.key(0)))
    assert np.all(np.isfinite(values)) and values[-1] < 0.01 * values[0]


@pytest.mark.slow
def test_a_short_adamw_run_through_the_engine_lowers_the_train_mse():
    from groklab.engine.train import train_chunk

    config = make_config({"name": "modular-regression", "p": 5, "train_fraction": 0.5}, {"name": "wg-quadratic"},
                         optimizer={"name": "adamw", "lr": 1e-2, "weight_decay": 1.0, "b2": 0.98},
                         train={"batch_size": None, "max_steps": 200, "eval_every": 100},
                         probes=["unseen-pair-accuracy"])
    r = train_chunk(config, 0, [0], lanes=1)
    train, test = r.curves["train_set_loss"], r.curves["val_loss"]
    assert list(r.curves["step"]) == [0, 100, 200]
    assert train[-1] < 0.05 * train[0] and np.all(np.isfinite(test))
    assert 0 <= r.curves["unseen_pair_accuracy"][-1] <= 1 and np.isnan(r.curves["val_accuracy"]).all()


def test_recipe_reads_fit_step_and_unseen_accuracy_from_the_curves():
    from groklab.papers.why_grok.recipes.regression_grokking import per_trial, verdict

    step = np.array([0, 100, 200, 300, 400] * 2)
    curves = {"trial_index": np.repeat([0, 1], 5), "step": step,
              "train_set_loss": np.array([13, 0.5, 0.005, 0.001, 0.001, 13, 1, 0.009, 0.001, 0.001]),
              "val_loss": np.array([13, 16, 18, 9, 4, 13, 15, 12, 11, 10.0]),
              "unseen_pair_accuracy": np.array([0.1, 0.2, 0.3, 0.8, 0.995, 0.1, 0.4, 0.5, 0.9, 0.7]),
              "linf_norm": np.array([1, 1.1, 1.2, 1.0, 0.9, 1, 1, 1, 1, 1.0])}
    out = per_trial(curves, 2, fit_mse=0.01, target=0.99)
    assert out["fit_step"] == [200, 200] and out["unseen_accuracy_at_fit"] == [0.3, 0.5]
    assert out["t_unseen_075"] == [300, 300] and out["t_test"] == [400, None]
    assert out["test_mse_at_fit"] == [18, 12] and out["grokked"] == [True, False]  # 0.5 at the fit: not < 0.45
    assert verdict({"13": out}, 2) == (True, {"grokked_fraction": {"13": 0.5}})
