"""Spec validation: bad input is one GroklabInputError line naming the field; configs hash stably."""
from __future__ import annotations

import pydantic
import pytest

from groklab import GroklabInputError, OptimizerSpec, TrainSpec, make_config

PARITY = {"name": "parity", "n": 30, "k": 3}
MLP = {"name": "mlp", "width": 100}
MODULAR = {"name": "modular-addition", "p": 23}


def base(**overrides):
    """Keyword arguments of a valid (30,3) parity config, with whole sections replaced."""
    kwargs = {"task": dict(PARITY), "model": dict(MLP), "loss": {"name": "hinge"},
              "optimizer": {"name": "sgd", "lr": 0.1},
              "train": {"batch_size": 32, "max_steps": 20_000, "eval_every": 100}}
    kwargs.update(overrides)
    return kwargs


def error_line(**overrides) -> str:
    with pytest.raises(GroklabInputError) as info:
        make_config(**base(**overrides))
    message = str(info.value)
    assert "\n" not in message, message
    assert message.strip() == message and message, message
    return message


@pytest.mark.parametrize("overrides, field", [
    ({"task": {"name": "parity", "n": 3, "k": 5}}, "task.k"),
    ({"task": {"name": "parity", "n": 30, "k": 0}}, "task.k"),
    ({"task": {"name": "parity", "n": 0, "k": 1}}, "task.n"),
    ({"task": {"name": "parity", "n": 10, "k": 3, "disjoint": True}}, "task.disjoint"),
    ({"task": {"name": "parity", "n": 10, "k": 2, "label_noise": 0.5}}, "task.label_noise"),
    ({"task": {"name": "parity", "n": 10, "k": 2, "samples": 0}}, "task.samples"),
    ({"task": {"name": "parity", "n": 10, "k": 2, "typo": 1}}, "task.typo"),
    ({"task": {"name": "sparse-parity-nope"}}, "task.name"),
    ({"task": {"n": 10, "k": 2}}, "task.name"),
    ({"model": {"name": "mlp", "width": -3}}, "model.width"),
    ({"model": {"name": "mlp", "width": 0}}, "model.width"),
    ({"model": {"name": "mlp", "init_scale": 0}}, "model.init_scale"),
    ({"model": {"name": "mlp", "init": "orthogonal"}}, "model.init"),
    ({"model": {"name": "transformer"}}, "model.name"),
    ({"optimizer": {"name": "sgd", "lr": 0}}, "optimizer.lr"),
    ({"optimizer": {"name": "sgd", "lr": -0.1}}, "optimizer.lr"),
    ({"optimizer": {"name": "sgd", "momentum": 1.0}}, "optimizer.momentum"),
    ({"optimizer": {"name": "lbfgs"}}, "optimizer.name"),
    ({"optimizer": {"name": "adam", "weight_decay": 0.01}}, "optimizer.weight_decay"),
    ({"loss": {"name": "cross-entropy"}}, "loss.name"),
    ({"loss": {"name": "mse"}}, "loss.name"),
    ({"train": {"max_steps": 250, "eval_every": 100}}, "train.max_steps"),
    ({"train": {"batch_size": 0}}, "train.batch_size"),
    ({"train": {"batch_size": None}}, "train.batch_size"),  # full batch on online parity
    ({"train": {"target_accuracy": 1.5}}, "train.target_accuracy"),
    ({"task": {"name": "modular-addition", "p": 24}, "loss": {"name": "cross-entropy"}}, "task.p"),
    ({"task": {"name": "modular-addition", "p": 1}, "loss": {"name": "cross-entropy"}}, "task.p"),
    ({"task": dict(MODULAR), "loss": {"name": "hinge"}}, "loss.name"),
])
def test_bad_input_is_one_line_naming_the_field(overrides, field):
    message = error_line(**overrides)
    assert message.startswith(f"{field}:"), message


def test_k_above_n_message_states_the_values():
    message = error_line(task={"name": "parity", "n": 3, "k": 5})
    assert "5" in message and "3" in message


def test_non_prime_message_states_p():
    assert "24" in error_line(task={"name": "modular-addition", "p": 24}, loss={"name": "cross-entropy"})


def test_full_batch_is_accepted_on_finite_parity_and_modular_addition():
    finite = make_config(**base(task={"name": "parity", "n": 10, "k": 2, "samples": 100},
                                train={"batch_size": None, "max_steps": 100, "eval_every": 10}))
    assert finite.train.batch_size is None
    modular = make_config(MODULAR, MLP, loss={"name": "cross-entropy"}, train={"batch_size": None})
    assert modular.task.p == 23


def test_default_loss_follows_the_task():
    assert make_config(PARITY, MLP).loss.name == "hinge"
    assert make_config(MODULAR, MLP).loss.name == "cross-entropy"


def test_config_hash_is_stable_and_explicit_defaults_hash_the_same():
    a = make_config(**base())
    b = make_config(**base())
    assert a.config_hash() == b.config_hash()
    assert len(a.config_hash()) == 16 and int(a.config_hash(), 16) >= 0
    assert a == b
    # Writing a default out changes nothing.
    explicit = make_config(**base(model={"name": "mlp", "width": 100, "activation": "relu", "init": "uniform"}))
    assert explicit.config_hash() == a.config_hash()


@pytest.mark.parametrize("section, values", [
    ("task", {"name": "parity", "n": 31, "k": 3}),
    ("task", {"name": "parity", "n": 30, "k": 3, "samples": 1000}),
    ("task", {"name": "parity", "n": 30, "k": 3, "disjoint": True}),
    ("model", {"name": "mlp", "width": 101}),
    ("model", {"name": "mlp", "width": 100, "init_scale": 0.5}),
    ("loss", {"name": "square"}),
    ("optimizer", {"name": "sgd", "lr": 0.2}),
    ("optimizer", {"name": "sgd", "lr": 0.1, "weight_decay": 1e-4}),
    ("optimizer", {"name": "sgd", "lr": 0.1, "weight_decay_mode": "l2"}),
    ("train", {"batch_size": 64, "max_steps": 20_000, "eval_every": 100}),
    ("train", {"batch_size": 32, "max_steps": 20_000, "eval_every": 50}),
    ("train", {"batch_size": 32, "max_steps": 10_000, "eval_every": 100}),
])
def test_config_hash_changes_when_any_field_changes(section, values):
    reference = make_config(**base()).config_hash()
    changed = make_config(**base(**{section: values})).config_hash()
    assert changed != reference


def test_flat_columns_carry_section_prefixes():
    flat = make_config(**base()).flat()
    assert flat["task_n"] == 30 and flat["task_k"] == 3
    assert flat["model_width"] == 100
    assert flat["optimizer_lr"] == 0.1
    assert flat["train_eval_every"] == 100


def test_specs_are_frozen():
    config = make_config(**base())
    with pytest.raises(pydantic.ValidationError):
        config.optimizer.lr = 1.0
    with pytest.raises(pydantic.ValidationError):
        config.task.n = 5
    with pytest.raises(pydantic.ValidationError):
        config.model.width = 5
    with pytest.raises(pydantic.ValidationError):
        config.train = TrainSpec()
    assert config.optimizer.lr == 0.1 and config.task.n == 30
    # Frozen specs are hashable, so they can key caches.
    assert hash(config.task) == hash(make_config(**base()).task)


def test_standalone_specs_reject_unknown_fields():
    with pytest.raises(pydantic.ValidationError):
        OptimizerSpec(name="sgd", learning_rate=0.1)
