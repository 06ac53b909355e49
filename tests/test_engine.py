"""The engine on real small runs: convergence, chunk invariance, seeds, divergence, variants."""
from __future__ import annotations

import math

import numpy as np
import pytest

from groklab import make_config
from groklab.engine import train_chunk
from groklab.engine.train import BUDGET, CONVERGED, DIVERGED

MLP = {"name": "mlp", "width": 100}
SGD = {"name": "sgd", "lr": 0.1}
HINGE = {"name": "hinge"}


def parity_config(n, k, *, optimizer=SGD, loss=HINGE, max_steps=20_000, eval_every=100, model=MLP, **task):
    return make_config({"name": "parity", "n": n, "k": k, **task}, model, optimizer=optimizer, loss=loss,
                       train={"batch_size": 32, "max_steps": max_steps, "eval_every": eval_every})


def per_trial_curve(result, trial_index, column):
    rows = result.curves["trial_index"] == trial_index
    order = np.argsort(result.curves["step"][rows])
    return result.curves["step"][rows][order], result.curves[column][rows][order]


# ---------------------------------------------------------------- (20, 3) parity, 16 trials

@pytest.fixture(scope="module")
def parity_20_3():
    config = parity_config(20, 3)
    blocks = []
    result = train_chunk(config, 0, range(16), on_block=lambda finished, steps: blocks.append((finished, steps)))
    return config, result, blocks


def test_20_3_parity_converges(parity_20_3):
    config, r, _ = parity_20_3
    converged = r.status == CONVERGED
    assert converged.sum() >= 0.9 * 16
    steps = r.convergence_step[converged]
    assert np.all(steps > 0) and np.all(steps <= 20_000)
    assert np.all(steps % config.train.eval_every == 0)
    assert np.all(r.convergence_step[~converged] == -1)
    # A converged trial stops at its convergence step, with a perfect held-out evaluation on all
    # 8192 validation samples (the screen plus the rest).
    assert np.array_equal(r.steps_run[converged], steps)
    assert np.all(r.final_metrics["val_accuracy"][converged] == 1.0)
    assert np.all(r.final_metrics["val_samples"][converged] == 8192)
    assert np.all(np.isfinite(r.final_metrics["train_loss"]))
    assert list(r.trial_indices) == list(range(16))
    assert r.wall_seconds > 0 and r.device


def test_20_3_curves_start_at_chance(parity_20_3):
    config, r, _ = parity_20_3
    at0 = r.curves["step"] == 0
    assert sorted(r.curves["trial_index"][at0]) == list(range(16))
    acc0 = r.curves["val_accuracy"][at0]
    # Chance on the 1024-sample screen: std 0.5 / 32 = 0.016 per trial.
    assert abs(acc0.mean() - 0.5) < 0.02
    assert np.all(np.abs(acc0 - 0.5) < 0.07)
    assert np.all(r.curves["val_samples"][at0] == 1024)  # nobody is perfect on the screen at step 0
    assert np.all(np.isnan(r.curves["train_loss"][at0]))
    assert np.all(r.curves["step"] % config.train.eval_every == 0)
    for trial in range(16):
        steps, acc = per_trial_curve(r, trial, "val_accuracy")
        assert steps[0] == 0 and steps[-1] == r.steps_run[trial]
        assert np.array_equal(steps, np.arange(0, steps[-1] + 1, config.train.eval_every))
        if r.status[trial] == CONVERGED:  # stopped at the first perfect evaluation
            assert acc[-1] == 1.0 and np.all(acc[:-1] < 1.0)


def test_block_callback_counts_trial_steps(parity_20_3):
    _, r, blocks = parity_20_3
    assert sum(finished for finished, _ in blocks) == int((r.status != BUDGET).sum())
    assert sum(steps for _, steps in blocks) == r.trial_steps == int(r.steps_run.sum())
    assert len(blocks) == r.steps_run.max() // 100


def test_same_seed_reproduces_and_other_seeds_differ(parity_20_3):
    config, r, _ = parity_20_3
    again = train_chunk(config, 0, range(16))
    assert np.array_equal(again.convergence_step, r.convergence_step)
    assert np.array_equal(again.final_metrics["val_loss"], r.final_metrics["val_loss"])
    assert np.array_equal(again.curves["val_accuracy"], r.curves["val_accuracy"])
    other = train_chunk(config, 1, range(16))
    assert not np.array_equal(other.final_metrics["val_loss"], r.final_metrics["val_loss"])
    assert not np.array_equal(other.curves["val_accuracy"][other.curves["step"] == 0],
                              r.curves["val_accuracy"][r.curves["step"] == 0])
    assert (other.status == CONVERGED).sum() >= 0.9 * 16


# ---------------------------------------------------------------- chunk invariance on (30, 3)

def test_trial_results_do_not_depend_on_the_chunk():
    config = parity_config(30, 3)
    base = train_chunk(config, 0, range(7))
    assert np.all(base.status == CONVERGED)

    def same(result, positions, trials):
        assert list(result.trial_indices[positions]) == list(trials)
        assert np.array_equal(result.convergence_step[positions], base.convergence_step[list(trials)])
        # Bitwise: the same float32 arithmetic whatever the chunk-mates.
        assert np.array_equal(result.final_metrics["val_loss"][positions], base.final_metrics["val_loss"][list(trials)])

    big = train_chunk(config, 0, range(64))
    same(big, list(range(7)), range(7))
    for trial in (3, 6):
        same(train_chunk(config, 0, [trial]), [0], [trial])
    mixed = train_chunk(config, 0, [5, 2, 40])
    same(mixed, [0, 1], [5, 2])
    assert mixed.convergence_step[2] == big.convergence_step[40]
    assert mixed.final_metrics["val_loss"][2] == big.final_metrics["val_loss"][40]
    # The 64 trials are distinct draws: (30, 3) convergence times vary across trials.
    assert len(set(big.convergence_step.tolist())) > 3


def test_bad_trial_indices_are_rejected():
    config = parity_config(10, 2, max_steps=100)
    for bad in ([], [1, 1], [-1]):
        with pytest.raises(ValueError):
            train_chunk(config, 0, bad)


# ---------------------------------------------------------------- divergence

def test_diverged_trials_are_marked_and_do_not_touch_their_chunk_mates():
    # Square loss with SGD lr 0.4 on (10, 2) is at the edge of stability: some initializations
    # blow up in the first block, the rest converge.
    config = parity_config(10, 2, optimizer={"name": "sgd", "lr": 0.4}, loss={"name": "square"}, max_steps=2000)
    r = train_chunk(config, 0, range(32))
    diverged, converged = np.flatnonzero(r.status == DIVERGED), np.flatnonzero(r.status == CONVERGED)
    assert len(diverged) >= 2 and len(converged) >= 2, r.status
    # Diverged trials stop at the evaluation that saw non-finite parameters.
    assert np.all(r.steps_run[diverged] < config.train.max_steps)
    assert np.all(r.convergence_step[diverged] == -1)
    for trial in diverged:
        steps, _ = per_trial_curve(r, trial, "val_accuracy")
        assert steps[-1] == r.steps_run[trial]
    assert not np.any(np.isfinite(r.final_metrics["train_loss"][diverged]))
    # Healthy trials are exactly what they are without the diverging ones beside them.
    alone = train_chunk(config, 0, converged)
    assert np.all(alone.status == CONVERGED)
    assert np.array_equal(alone.convergence_step, r.convergence_step[converged])
    assert np.array_equal(alone.final_metrics["val_loss"], r.final_metrics["val_loss"][converged])
    single = train_chunk(config, 0, [int(diverged[0])])
    assert single.status[0] == DIVERGED and single.steps_run[0] == r.steps_run[diverged[0]]


def test_huge_learning_rate_diverges_every_trial():
    config = parity_config(10, 2, optimizer={"name": "sgd", "lr": 1e4}, loss={"name": "square"}, max_steps=1000)
    r = train_chunk(config, 0, range(4))
    assert np.all(r.status == DIVERGED)
    assert np.all(r.steps_run == 100)


def test_budget_status_when_the_budget_is_too_small():
    config = parity_config(30, 3, max_steps=200)
    r = train_chunk(config, 0, range(4))
    assert np.all(r.status == BUDGET)
    assert np.all(r.convergence_step == -1) and np.all(r.steps_run == 200)
    assert np.all(r.final_metrics["val_accuracy"] < 0.7)


def test_training_can_continue_past_convergence():
    config = make_config({"name": "parity", "n": 10, "k": 2}, MLP, optimizer=SGD, loss=HINGE,
                         train={"batch_size": 32, "max_steps": 300, "eval_every": 10, "stop_on_convergence": False})
    r = train_chunk(config, 0, range(4))
    assert np.all(r.status == CONVERGED)
    assert np.all(r.steps_run == 300)  # kept training to the budget
    stopping = train_chunk(parity_config(10, 2, eval_every=10, max_steps=300), 0, range(4))
    # The convergence step is the first perfect evaluation either way (same trials, same data).
    assert np.array_equal(r.convergence_step, stopping.convergence_step)
    assert np.all(stopping.steps_run == stopping.convergence_step)
    for trial in range(4):
        steps, acc = per_trial_curve(r, trial, "val_accuracy")
        assert steps[-1] == 300 and acc[steps == r.convergence_step[trial]][0] == 1.0


# ---------------------------------------------------------------- task variants

def test_finite_sample_parity_records_train_metrics():
    config = parity_config(10, 2, samples=200, eval_every=10, max_steps=2000)
    r = train_chunk(config, 0, range(16))
    assert (r.status == CONVERGED).sum() >= 14
    for column in ("train_accuracy", "train_set_loss"):
        assert column in r.final_metrics and column in r.curves
    done = r.status == CONVERGED
    assert np.all(r.final_metrics["train_accuracy"][done] == 1.0)
    at0 = r.curves["step"] == 0
    assert np.all(r.curves["train_accuracy"][at0] < 0.75)
    # Train accuracy is measured on the 200 fixed samples: a multiple of 1/200.
    scaled = r.curves["train_accuracy"] * 200
    assert np.allclose(scaled, np.rint(scaled), atol=1e-3)
    assert np.all(r.final_metrics["val_samples"] == 1024)  # exact evaluation over all 2^10 inputs


def test_noisy_online_parity_converges_on_noiseless_validation():
    config = parity_config(10, 2, label_noise=0.1, eval_every=10, max_steps=2000)
    r = train_chunk(config, 0, range(16))
    assert (r.status == CONVERGED).sum() >= 14
    done = r.status == CONVERGED
    assert np.all(r.final_metrics["val_accuracy"][done] == 1.0)  # all 1024 inputs, noiseless labels
    assert "train_accuracy" not in r.final_metrics  # online: no fixed training set
    clean = train_chunk(parity_config(10, 2, eval_every=10, max_steps=2000), 0, range(16))
    # Flipped labels keep the hinge training loss up, on the same inputs and initializations.
    assert (clean.status == CONVERGED).sum() >= 14
    assert np.nanmean(r.curves["train_loss"]) > np.nanmean(clean.curves["train_loss"])


# ---------------------------------------------------------------- modular addition (grokking)

MODULAR_MODEL = {"name": "mlp", "width": 256, "activation": "power", "degree": 2, "bias": False}
MODULAR_OPTIMIZER = {"name": "adamw", "lr": 5e-3, "weight_decay": 3.0, "b2": 0.98}
MODULAR_TRAIN = {"batch_size": None, "max_steps": 2000, "eval_every": 100, "target_accuracy": 0.99}


def test_modular_addition_groks_with_a_quadratic_mlp():
    config = make_config({"name": "modular-addition", "p": 23, "train_fraction": 0.5}, MODULAR_MODEL,
                         optimizer=MODULAR_OPTIMIZER, train=MODULAR_TRAIN)
    assert config.loss.name == "cross-entropy"
    r = train_chunk(config, 0, range(16))
    assert (r.status == CONVERGED).sum() >= 15, r.convergence_step
    done = r.status == CONVERGED
    assert np.all(r.final_metrics["val_accuracy"][done] >= 0.99)
    assert np.all(r.final_metrics["val_samples"] == 23 * 23 - 264)  # the 265 held-out pairs
    assert np.all(r.final_metrics["train_accuracy"][done] == 1.0)
    at0 = r.curves["step"] == 0
    assert np.all(r.curves["val_accuracy"][at0] < 3 / 23)  # chance is 1/23
    # Memorization comes first: every trial fits its training pairs before it generalizes.
    for trial in np.flatnonzero(done):
        steps, train_acc = per_trial_curve(r, trial, "train_accuracy")
        _, val_acc = per_trial_curve(r, trial, "val_accuracy")
        fitted = steps[np.argmax(train_acc == 1.0)]
        assert train_acc.max() == 1.0 and fitted < r.convergence_step[trial]
        assert val_acc[steps == fitted][0] < 0.99


# ---------------------------------------------------------------- optimizers and weight decay

@pytest.mark.parametrize("optimizer", [
    {"name": "adam", "lr": 1e-3},
    {"name": "adamw", "lr": 1e-3, "weight_decay": 0.01},
    {"name": "sgd", "lr": 0.01, "momentum": 0.9, "weight_decay": 1e-4, "weight_decay_mode": "l2"},
    {"name": "sgd", "lr": 0.1, "weight_decay": 1e-4},
], ids=["adam", "adamw", "sgd-momentum-l2", "sgd-decoupled"])
def test_optimizers_train_20_3_parity(optimizer):
    r = train_chunk(parity_config(20, 3, optimizer=optimizer, max_steps=10_000), 0, range(8))
    assert np.all(r.status == CONVERGED), r.status
    assert np.all(r.convergence_step > 0)


def test_weight_decay_changes_the_trajectory():
    plain = train_chunk(parity_config(20, 3, optimizer={"name": "adam", "lr": 1e-3}, max_steps=500), 0, range(4))
    decayed = train_chunk(parity_config(20, 3, optimizer={"name": "adamw", "lr": 1e-3, "weight_decay": 0.01},
                                        max_steps=500), 0, range(4))
    # Same data and initialization (same seed and trials); only the decay differs.
    at0 = plain.curves["step"] == 0
    assert np.array_equal(plain.curves["val_loss"][at0], decayed.curves["val_loss"][at0])
    assert not np.array_equal(plain.final_metrics["val_loss"], decayed.final_metrics["val_loss"])
    assert math.isfinite(float(decayed.final_metrics["val_loss"].sum()))


# ---------------------------------------------------------------- accelerator

@pytest.mark.gpu
def test_20_3_parity_converges_on_the_accelerator():
    import jax

    assert jax.default_backend() != "cpu"
    r = train_chunk(parity_config(20, 3), 0, range(64))
    assert (r.status == CONVERGED).sum() >= 0.9 * 64
    assert np.all(r.convergence_step[r.status == CONVERGED] % 100 == 0)
    again = train_chunk(parity_config(20, 3), 0, [3, 7])
    assert np.array_equal(again.convergence_step, r.convergence_step[[3, 7]])
    assert np.array_equal(again.final_metrics["val_loss"], r.final_metrics["val_loss"][[3, 7]])
