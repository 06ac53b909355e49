"""Mohamadi et al. 2024, optimizers and numerics: the l-inf subgradient penalty (inside or outside the
normalization of normalized GD), float64 runs, and the two documented ways classification grokking
fails in float32 (spec claim 28 [cal2]; docs/why-grok.md): a naive softmax-CE gradient freezes
normalized GD, and lambda = 1e-20 inside the normalization turns each step into a sign flip of the
largest weight once the loss gradient is tiny."""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from groklab import GroklabInputError, registry
from groklab.components import ensure_registered
from groklab.config import make_config
from groklab.engine import train_chunk
from groklab.losses import loss_fn
from groklab.optimizers import build_optimizer, linf_subgradient
from groklab.papers.why_grok.construction import all_pairs, fourier_construction
from groklab.specs import OptimizerSpec

ETA = 10.0  # the paper's normalized-GD step length (App A.2)


def grokking_config(p: int, steps: int, loss=None, optimizer=None, train=None, lanes: int = 2, eval_every: int = 10,
                    probes=("norms-margin",)):
    """The claim-28 setting (h = 4p, n = round(2 p^(5/3)), normalized GD eta = 10; half the pairs
    where that leaves no test set), not stopping at convergence so that a frozen run shows as constant
    curves."""
    fraction = min(round(2 * p ** (5 / 3)) / p**2, 0.5 if p < 11 else 1.0)
    return make_config({"name": "modular-addition", "p": p, "train_fraction": fraction}, {"name": "wg-quadratic"},
                       loss={"name": "cross-entropy", **(loss or {})},
                       optimizer={"name": "normalized-gd", "lr": ETA, **(optimizer or {})},
                       train={"batch_size": None, "max_steps": steps, "eval_every": eval_every, "target_accuracy": 1.0,
                              "stop_on_convergence": False, "lanes": lanes, **(train or {})},
                       probes=list(probes))


def per_trial(result, name: str) -> list[np.ndarray]:
    index = result.curves["trial_index"]
    return [result.curves[name][index == i] for i in range(len(result.trial_indices))]


# ---------------------------------------------------------------- the l-inf subgradient

def test_linf_subgradient_is_one_signed_entry_over_all_leaves_per_trial():
    params = {"v": np.array([[0.5, -3.0], [3.0, 1.0]], np.float32), "w": np.array([-2.0, 3.0], np.float32)}
    s = jax.jit(linf_subgradient)(params)
    # |theta| = 3 three times: the first in leaf order ('v' before 'w'), then row-major: v[0, 1], sign -1
    np.testing.assert_array_equal(s["v"], [[0, -1], [0, 0]])
    np.testing.assert_array_equal(s["w"], [0, 0])
    assert all(not np.any(leaf) for leaf in jax.tree.leaves(jax.jit(linf_subgradient)(jax.tree.map(np.zeros_like, params))))
    # vmapped (as the engine runs it), each trial's largest entry is its own
    batched = {"v": np.stack([params["v"], np.zeros((2, 2), np.float32)]),
               "w": np.stack([params["w"], np.array([0.0, -7.0], np.float32)])}
    per = jax.jit(jax.vmap(linf_subgradient))(batched)
    np.testing.assert_array_equal(per["v"][0], [[0, -1], [0, 0]])
    np.testing.assert_array_equal(per["w"][1], [0, -1])
    assert not np.any(per["v"][1]) and not np.any(per["w"][0])


def test_penalty_steps_follow_their_documented_formulas():
    lam, lr = 0.5, 0.1
    params = {"w": np.array([[1.0, -4.0], [2.0, 0.5]], np.float32)}
    grads = {"w": np.array([[3.0, 0.0], [0.0, 4.0]], np.float32)}
    s = np.array([[0.0, -1.0], [0.0, 0.0]], np.float32)

    def step(**fields):
        opt = build_optimizer(OptimizerSpec(**fields))
        return np.asarray(opt.update(grads, opt.init(params), params)[0]["w"])

    g = grads["w"]
    np.testing.assert_allclose(step(name="sgd", lr=lr, linf_penalty=lam), -lr * (g + lam * s), rtol=1e-6)
    inside = g + lam * s
    np.testing.assert_allclose(step(name="normalized-gd", lr=ETA, linf_penalty=lam),
                               -ETA * inside / np.linalg.norm(inside), rtol=1e-6)
    np.testing.assert_allclose(step(name="normalized-gd", lr=ETA, linf_penalty=lam, penalty_inside_normalization=False),
                               -ETA * g / np.linalg.norm(g) - ETA * lam * s, rtol=1e-6)
    # lambda = 0 is plain normalized GD whatever the placement
    np.testing.assert_array_equal(step(name="normalized-gd", lr=ETA, penalty_inside_normalization=False),
                                  step(name="normalized-gd", lr=ETA))


def test_penalty_is_refused_where_undefined_and_kept_out_of_hashes_at_its_default():
    for name in ("adam", "adamw"):
        with pytest.raises(GroklabInputError, match="^optimizer.linf_penalty: defined for sgd and normalized-gd"):
            build_optimizer(OptimizerSpec(name=name, linf_penalty=1e-4))
    with pytest.raises(GroklabInputError, match="^optimizer.penalty_inside_normalization"):
        build_optimizer(OptimizerSpec(name="sgd", linf_penalty=1e-4, penalty_inside_normalization=False))
    with pytest.raises(GroklabInputError, match="^optimizer.linf_penalty"):
        grokking_config(7, 10, optimizer={"linf_penalty": -1.0})
    with pytest.raises(GroklabInputError, match="^loss.rescale_gradient"):  # it would rescale lambda too
        grokking_config(7, 10, loss={"rescale_gradient": True}, optimizer={"linf_penalty": 1e-20})
    with pytest.raises(GroklabInputError, match="^loss.gradient"):
        grokking_config(7, 10, loss={"rescale_gradient": True, "gradient": "naive"})
    with pytest.raises(GroklabInputError, match="^loss.gradient"):
        make_config({"name": "parity", "n": 6, "k": 2}, {"name": "mlp"}, loss={"name": "hinge", "gradient": "naive"})

    base = grokking_config(7, 10)
    # the fields added here are absent from a default config's hashed dict, so stored results keep their hash
    assert set(base.as_dict()["optimizer"]) == {"name", "lr", "weight_decay", "weight_decay_mode", "momentum",
                                                "b1", "b2", "eps"}
    assert set(base.as_dict()["loss"]) == {"name"} and "precision" not in base.as_dict()["train"]
    assert grokking_config(7, 10, optimizer={"penalty_inside_normalization": False}).config_hash() == base.config_hash()
    variants = [grokking_config(7, 10, optimizer={"linf_penalty": 1e-20}),
                grokking_config(7, 10, optimizer={"linf_penalty": 1e-20, "penalty_inside_normalization": False}),
                grokking_config(7, 10, loss={"gradient": "naive"}), grokking_config(7, 10, train={"precision": "float64"})]
    assert len({base.config_hash(), *(v.config_hash() for v in variants)}) == 5


# ---------------------------------------------------------------- failure mode (b): lambda inside the normalization

def saturated_construction(p: int, margin: float):
    """The Prop 3.8 network (every margin 4p at ||theta||_inf = 1), scaled (3-homogeneous) to a given
    margin, with a small seeded perturbation so the largest weight is unique; float32."""
    ensure_registered()
    net = registry.models.get("wg-quadratic")
    model = net.build(net.spec_class(width=8 * p), 2 * p, p)
    params = fourier_construction(p)
    rng = np.random.default_rng(0)
    scale = (margin / (4 * p)) ** (1 / 3)
    params = {k: (scale * (v + 1e-3 * rng.standard_normal(v.shape))).astype(np.float32) for k, v in params.items()}
    x, y = all_pairs(p)
    return model, params, x.astype(np.float32), y


def test_lambda_inside_the_normalization_moves_only_the_largest_weight_once_the_gradient_is_tiny():
    p = 7
    model, params, x, y = saturated_construction(p, margin=70.0)  # e^-70 / n ~ 1e-32: far below lambda = 1e-20
    loss = lambda q: loss_fn("cross-entropy")(model.apply(q, x), y)  # noqa: E731
    grads = jax.jit(jax.grad(loss))(params)
    assert 0 < max(float(jnp.max(jnp.abs(g))) for g in jax.tree.leaves(grads)) < 1e-28  # tiny, not zero

    def step(**fields) -> np.ndarray:
        """One optimizer step from `params`, flattened over W and V."""
        opt = build_optimizer(OptimizerSpec(name="normalized-gd", lr=ETA, **fields))
        updates, _ = jax.jit(lambda q: opt.update(jax.grad(loss)(q), opt.init(q), q))(params)
        return np.concatenate([np.ravel(u) for u in jax.tree.leaves(updates)])

    start = np.concatenate([np.ravel(leaf) for leaf in jax.tree.leaves(params)])
    i = int(np.argmax(np.abs(start)))
    inside = step(linf_penalty=1e-20)
    # The step is eta s up to a share ||g|| / lambda ~ 1e-10: all of it on the largest weight,
    assert inside[i] == pytest.approx(-ETA * np.sign(start[i]), rel=1e-6)
    assert np.abs(np.delete(inside, i)).max() < 1e-8
    # which flips its sign and leaves it the largest, so the next step flips it back: a stall.
    assert abs(start[i] + inside[i]) > np.abs(start).max()
    # Outside, or without a penalty, the same tiny gradient moves the whole network by eta in its direction.
    for fields in ({"linf_penalty": 1e-20, "penalty_inside_normalization": False}, {}):
        dense = step(**fields)
        assert np.linalg.norm(dense) == pytest.approx(ETA, rel=1e-5) and np.sum(np.abs(dense) > 1e-3) > 100


# ---------------------------------------------------------------- failure mode (a): a naive float32 softmax-CE gradient

def test_naive_gradient_rounds_to_zero_where_the_log_domain_one_does_not():
    labels = np.array([0, 2, 1])
    naive, exact = loss_fn("cross-entropy", gradient="naive"), loss_fn("cross-entropy")
    rescaled = loss_fn("cross-entropy", rescale_gradient=True)
    moderate = np.array([[2.0, -1.0, 0.5], [0.1, 0.2, 0.3], [-3.0, 1.0, 4.0]], np.float32)
    np.testing.assert_allclose(jax.grad(naive)(moderate, labels), jax.grad(exact)(moderate, labels), rtol=1e-5, atol=1e-7)
    rows = np.arange(3)
    # margin 30: p_y rounds to 1, so the naive label entries are exactly 0; the log-domain ones are not
    saturated = 30.0 * np.eye(3, dtype=np.float32)[labels]
    assert not np.any(np.asarray(jax.grad(naive)(saturated, labels))[rows, labels])
    np.testing.assert_allclose(np.asarray(jax.grad(exact)(saturated, labels))[rows, labels], -2 * np.exp(-30.0) / 3,
                               rtol=1e-4)
    # margin 110: the naive gradient is 0 everywhere (so is the unrescaled exact one); the rescaled
    # log-domain one keeps the direction, which is all normalized GD needs
    far = 110.0 * np.eye(3, dtype=np.float32)[labels]
    assert not np.any(np.asarray(jax.grad(naive)(far, labels)))
    np.testing.assert_allclose(np.asarray(jax.grad(rescaled)(far, labels))[0], np.array([-2, 1, 1]) / 6, rtol=1e-5)


def test_naive_gradient_freezes_normalized_gd_in_a_real_run():
    """p = 17 (the smallest prime tried that shows it with a test set of some size): the naive run's
    parameters stop moving within ~300 steps, at test accuracy below 0.99 ([cal2]: p = 47 froze near
    step 700 at 0.943; measured here at p = 47: steps 700-800, test 0.952, docs/why-grok.md)."""
    result = train_chunk(grokking_config(17, 400, loss={"gradient": "naive"}, lanes=1, eval_every=25), 0, range(1))
    for linf, margin, test in zip(per_trial(result, "linf_norm"), per_trial(result, "train_min_margin"),
                                  per_trial(result, "val_accuracy")):
        assert np.all(linf[-5:] == linf[-1]) and np.all(margin[-5:] == margin[-1])  # frozen for 100 steps
        assert 60 < margin[-1] < 120  # where every float32 softmax entry has rounded off
        assert test[-1] < 0.99


# ---------------------------------------------------------------- float64

def test_float64_runs_in_float64_from_the_float32_init_without_touching_float32_runs():
    from groklab.engine import train as engine
    from groklab.engine.keys import trial_keys
    from groklab.store.writer import chunk_tables

    single = grokking_config(7, 20, lanes=1, probes=())
    double = grokking_config(7, 20, lanes=1, train={"precision": "float64"}, probes=())
    before = train_chunk(single, 0, range(1))
    result = train_chunk(double, 0, range(1))
    # x64 did not leak: a leak would retrace the cached float32 program in float64 and change its numbers
    assert not jax.config.jax_enable_x64
    after = train_chunk(single, 0, range(1))
    for name in ("val_accuracy", "train_loss", "train_set_loss"):
        np.testing.assert_array_equal(before.curves[name], after.curves[name])
    assert not np.array_equal(before.curves["train_loss"], result.curves["train_loss"])
    # through train_chunk too, float64 starts from the float32 trial's init and split
    np.testing.assert_allclose(result.curves["train_set_loss"][0], before.curves["train_set_loss"][0], rtol=1e-6)

    compiled, keys = engine.compiled_trial(double), trial_keys(0, np.arange(1), None)
    reference, _, _ = engine.compiled_trial(single).init_group(keys["init"], keys["task"])
    with jax.enable_x64(True):  # what train_chunk holds around a float64 chunk
        params, opt_state, task_state = compiled.init_group(keys["init"], keys["task"])
        assert {leaf.dtype for leaf in jax.tree.leaves(params)} == {np.dtype("float64")}
        for a, b in zip(jax.tree.leaves(params), jax.tree.leaves(reference)):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b, np.float64))  # the same init, upcast
        _, _, loss = compiled.train_block(params, opt_state, task_state, keys["data"], 0, jnp.ones(1, bool))
        assert loss.dtype == np.float64
    trials, _ = chunk_tables(result, "c0", "test")
    assert trials["precision"].to_pylist() == ["float64"] and trials["train_precision"].to_pylist() == ["float64"]
    assert chunk_tables(after, "c1", "test")[0]["precision"].to_pylist() == ["float32"]


# ---------------------------------------------------------------- the real failure runs at p = 47 (slow)

@pytest.mark.slow
def test_failure_modes_reproduce_at_p47():
    """Spec claim 28 [cal2] at p = 47, two seeds, 1,500 steps (~80 s on a shared core): the
    rescaled log-domain gradient groks; the naive float32 gradient freezes below 0.99; lambda = 1e-20
    inside the normalization stalls below 0.99; float64 with the unrescaled exact gradient groks."""
    def run(**setting):
        result = train_chunk(grokking_config(47, 1500, **setting), 0, range(2))
        return per_trial(result, "val_accuracy"), per_trial(result, "linf_norm")

    test, _ = run(loss={"rescale_gradient": True})
    assert all(t.max() >= 0.99 for t in test)
    test, linf = run(loss={"gradient": "naive"})
    assert all(t[-1] < 0.99 and np.all(n[-50:] == n[-1]) for t, n in zip(test, linf))  # frozen for 500 steps
    test, linf = run(optimizer={"linf_penalty": 1e-20})
    assert all(t[-1] < 0.99 and np.all(n[-50:] == n[-1]) for t, n in zip(test, linf))  # even steps: a 2-cycle
    test, _ = run(train={"precision": "float64"})
    assert all(t.max() >= 0.99 for t in test)
