"""Contract suites for every registered probe, loss, optimizer and recipe (tests/test_components.py
has the task and model contracts; tests/test_check_contract.py the checks'). A component gets tested
by being registered: a recipe or loss missing from the tables below fails its coverage test."""
from __future__ import annotations

import json
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from groklab import GroklabInputError, registry
from groklab.catalog import recipe_experiments, run_experiment
from groklab.components import ensure_registered
from groklab.config import build_components, make_config
from groklab.losses import accuracy
from groklab.specs import LossSpec, OptimizerSpec

ensure_registered()

# ---------------------------------------------------------------- probes

# Small task x model combinations a probe is tried on: each probe must accept at least one (its
# measurement is checked there) and reject the others from make_config, before any work.
PROBE_TASKS = [{"name": "parity", "n": 6, "k": 2}, {"name": "modular-addition", "p": 5},
               {"name": "modular-multiplication", "p": 7}, {"name": "high-frequency", "frequency": 2.0,
                                                             "eval_samples": 32},
               {"name": "modular-regression", "p": 5}]
PROBE_MODELS = [{"name": "mlp", "width": 4}, {"name": "single-neuron"}, {"name": "polynet", "degree": 2},
                {"name": "deep-mlp", "width": 4}, {"name": "parity-transformer", "d_emb": 4, "heads": 1, "d_attn": 2},
                {"name": "wg-quadratic", "width": 6}]
PROBE_TRAIN = {"max_steps": 40, "eval_every": 20, "batch_size": 8, "stop_on_convergence": False}


def probe_combinations(probe: str) -> tuple[list, list[str]]:
    """(configs the probe accepts, error messages of the combinations it rejects)."""
    accepted, rejected = [], []
    for task in PROBE_TASKS:
        for model in PROBE_MODELS:
            try:
                make_config(task, model, train=PROBE_TRAIN)
            except GroklabInputError:
                continue  # the model does not fit the task at all: nothing for the probe to say
            try:
                accepted.append(make_config(task, model, train=PROBE_TRAIN, probes=[probe]))
            except GroklabInputError as err:
                rejected.append(str(err))
    return accepted, rejected


@pytest.mark.parametrize("probe", registry.probes.names())
def test_probe_accepts_some_configs_and_rejects_the_rest_in_one_line(probe):
    accepted, rejected = probe_combinations(probe)
    assert accepted, f"{probe} accepts none of the contract's small configs; add one it measures"
    for message in rejected:
        assert message.startswith("probes") and "\n" not in message, message


def _probe_values(probe_name: str, config, keys):
    task, model = build_components(config)
    probe = registry.probes.get(probe_name).build(None)

    def one(key):
        init_key, state_key, move_key = jax.random.split(key, 3)
        init_params = model.init(init_key)
        # Measured away from the initialization (as after training): a random step of the params.
        moves = jax.random.split(move_key, len(jax.tree.leaves(init_params)))
        leaves = [leaf + 0.1 * jax.random.normal(k, leaf.shape) for leaf, k in
                  zip(jax.tree.leaves(init_params), moves)]
        params = jax.tree.unflatten(jax.tree.structure(init_params), leaves)
        return probe(model, task, params, init_params, task.init_state(state_key))

    return jax.jit(jax.vmap(one))(keys), [jax.jit(one)(key) for key in keys]


@pytest.mark.parametrize("probe", registry.probes.names())
def test_probe_vmapped_equals_direct_and_is_finite(probe):
    config = probe_combinations(probe)[0][0]
    keys = jax.random.split(jax.random.key(5), 3)
    batched, direct = _probe_values(probe, config, keys)
    assert batched and set(batched) == set(direct[0])
    for name, values in batched.items():
        assert values.shape == (3,), (name, values.shape)  # one scalar per trial
        assert np.all(np.isfinite(np.asarray(values))), (name, values)
        np.testing.assert_allclose(np.asarray(values), [float(d[name]) for d in direct], rtol=1e-4, atol=1e-5,
                                   err_msg=name)


@pytest.mark.parametrize("probe", registry.probes.names())
def test_probe_records_finite_curve_columns_through_the_engine(probe):
    from groklab.engine import train_chunk

    config = probe_combinations(probe)[0][0]
    plain = make_config(config.task.model_dump(), config.model.model_dump(), loss=config.loss.model_dump(),
                        train=PROBE_TRAIN)
    probed, baseline = train_chunk(config, 0, range(2)), train_chunk(plain, 0, range(2))
    columns = set(probed.curves) - set(baseline.curves)
    assert columns, f"{probe} recorded no curve column"
    for name in columns:
        values = np.asarray(probed.curves[name], dtype=float)
        assert values.shape == probed.curves["step"].shape and np.all(np.isfinite(values)), (name, values)
    np.testing.assert_array_equal(probed.curves["train_loss"], baseline.curves["train_loss"])  # probes only look


@pytest.mark.parametrize("task_name", registry.tasks.names())
def test_target_family_shape_is_the_family_s_shape(task_name):
    """The gradient-variance probe sizes a class by `target_family_shape` before building it."""
    from groklab.protocols import HasTargetFamily

    values = next((t for t in PROBE_TASKS if t["name"] == task_name), None)
    assert values is not None, f"add small params for {task_name} to PROBE_TASKS"
    entry = registry.tasks.get(task_name)
    task = entry.build(entry.spec_class(**values))
    if not isinstance(task, HasTargetFamily):
        return
    family = task.target_family()
    hypotheses, inputs, classes = task.target_family_shape()
    assert family.targets.shape[:2] == (hypotheses, inputs) and family.num_classes == classes


# ---------------------------------------------------------------- losses

BINARY, CLASSES = "binary", "classes"
LOSS_KINDS = {"hinge": BINARY, "square": BINARY, "logistic": BINARY, "correlation": BINARY,
              "cross-entropy": CLASSES}  # a new loss declares here what it scores


def test_every_registered_loss_has_a_kind():
    assert set(registry.losses.names()) == set(LOSS_KINDS), "add the new loss to LOSS_KINDS"


def _loss(name: str):
    entry = registry.losses.get(name)
    return entry.build(LossSpec(name=name))


def _outputs_and_labels(kind: str):
    """Outputs of 6 examples, the labels they favour, and the other labels."""
    if kind == BINARY:
        f = jnp.array([0.9, -0.7, 0.3, -2.0, 0.5, -0.1])
        return f, jnp.sign(f), -jnp.sign(f)
    logits = jax.random.normal(jax.random.key(0), (6, 4))
    right = jnp.argmax(logits, axis=-1)
    return logits, right, (right + 1) % 4


@pytest.mark.parametrize("name", registry.losses.names())
def test_loss_contract(name):
    loss, kind = _loss(name), LOSS_KINDS[name]
    outputs, right, wrong = _outputs_and_labels(kind)
    value = loss(outputs, right)
    assert value.shape == () and value.dtype == jnp.float32 and np.isfinite(float(value))
    # Sign convention: the label the outputs favour costs less than any other.
    assert float(loss(outputs, right)) < float(loss(outputs, wrong))
    assert float(accuracy(outputs, right)) == 1.0 and float(accuracy(outputs, wrong)) == 0.0
    # Finite gradients, and descending the loss from wrong outputs makes them right (accuracy agrees).
    grad = jax.grad(loss)(outputs, right)
    assert grad.shape == outputs.shape and np.all(np.isfinite(np.asarray(grad)))
    f = -outputs if kind == BINARY else outputs[:, ::-1]
    start = float(accuracy(f, right))
    descend = jax.jit(lambda f: f - 0.5 * jax.grad(loss)(f, right) * f.shape[0])
    for _ in range(100):
        f = descend(f)
    assert float(loss(f, right)) < float(loss(-outputs if kind == BINARY else outputs[:, ::-1], right))
    assert float(accuracy(f, right)) == 1.0 > start


# ---------------------------------------------------------------- optimizers

THETA = {"w": jnp.array([1.0, -2.0, 3.0]), "b": jnp.array(0.5)}
LR, LAM = 0.1, 0.01
# One step from THETA with a zero gradient under each registered optimizer's weight decay modes:
# the documented conventions of groklab/optimizers.py. None: refused with a GroklabInputError.
DECAY_STEP = {
    "sgd": {"decoupled": lambda t: (1 - LAM) * t, "l2": lambda t: t - LR * LAM * t},
    "adam": {"decoupled": None, "l2": lambda t: t - LR * jnp.sign(t)},  # Adam's first step moves by lr
    "adamw": {"decoupled": lambda t: (1 - LR * LAM) * t, "l2": None},
    "normalized-gd": {"decoupled": None, "l2": None},  # no decay (the l-inf penalty is not a weight decay)
}


def test_every_registered_optimizer_documents_its_weight_decay():
    assert set(registry.optimizers.names()) == set(DECAY_STEP), "add the new optimizer to DECAY_STEP"


def _optimizer(name: str, **fields) -> optax.GradientTransformation:
    return registry.optimizers.get(name).build(OptimizerSpec(name=name, **fields))


@pytest.mark.parametrize("name", registry.optimizers.names())
def test_optimizer_is_an_optax_transformation_that_descends(name):
    opt = _optimizer(name, lr=0.05)
    assert isinstance(opt, optax.GradientTransformation)
    target = {"w": jnp.array([0.5, 0.5, -1.0]), "b": jnp.array(-0.25)}
    def quadratic(p):
        return sum(jnp.sum((a - b) ** 2) for a, b in zip(jax.tree.leaves(p), jax.tree.leaves(target)))

    params, state = THETA, opt.init(THETA)
    losses = [float(quadratic(params))]
    step = jax.jit(lambda params, state: opt.update(jax.grad(quadratic)(params), state, params))
    for _ in range(30):
        updates, state = step(params, state)
        assert jax.tree.structure(updates) == jax.tree.structure(params)
        assert all(u.shape == p.shape and u.dtype == p.dtype
                   for u, p in zip(jax.tree.leaves(updates), jax.tree.leaves(params)))
        params = optax.apply_updates(params, updates)
        losses.append(float(quadratic(params)))
    assert losses[1] < losses[0] and losses[-1] < 0.5 * losses[0], losses[::10]


@pytest.mark.parametrize("name, mode", [(n, m) for n in sorted(DECAY_STEP) for m in ("decoupled", "l2")])
def test_optimizer_weight_decay_follows_its_documented_convention(name, mode):
    expected = DECAY_STEP[name][mode]
    if expected is None:
        with pytest.raises(GroklabInputError, match=r"^optimizer\.weight_decay"):
            _optimizer(name, lr=LR, weight_decay=LAM, weight_decay_mode=mode)
        return
    opt = _optimizer(name, lr=LR, weight_decay=LAM, weight_decay_mode=mode)
    zeros = jax.tree.map(jnp.zeros_like, THETA)
    updates, _ = opt.update(zeros, opt.init(THETA), THETA)
    stepped = optax.apply_updates(THETA, updates)
    for got, want in zip(jax.tree.leaves(stepped), jax.tree.leaves(jax.tree.map(expected, THETA))):
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-5, atol=1e-7)
    # Without decay no mode changes anything: a zero gradient leaves the parameters where they are.
    plain = _optimizer(name, lr=LR, weight_decay_mode=mode)
    updates, _ = plain.update(zeros, plain.init(THETA), THETA)
    assert all(not np.any(np.asarray(u)) for u in jax.tree.leaves(updates))


# ---------------------------------------------------------------- recipes

# Tiny options per recipe (seconds each on one CPU core): a registered recipe missing here fails
# test_every_recipe_has_tiny_options, so a new recipe gets the contract by being registered.
TINY_RECIPES = {
    "construction": {"p": (3,)},
    "transformer-grokking": {"p": 7, "trials": 1, "d_model": 16, "heads": 2, "d_mlp": 32, "max_steps": 60,
                             "eval_every": 10, "report_steps": (60,)},  # claim 30's tiny run
    "init-scale": {"p": (11,), "scales": (1.0, 0.3), "trials": 1, "max_steps": 100, "eval_every": 50},
    "norm-across-p": {"p": (11, 13), "trials": 2, "max_steps": 100},  # the grokking entry's runs: shared compile
    "equivariance": {"p": 3, "steps": 5, "regression_p": 3, "optimizers": ("gd",)},
    "kernel-regime": {"p": 5, "widths": (5, 6), "sizes": (0.3,), "trials": 1, "network_steps": 20},
    "correlation-decay": {"primes": (5, 7, 11), "ratios": (2,), "generic_check_max_p": 11},
    "exponent-elbow": {"k": 3, "small_ns": (5, 6), "large_ns": (8, 10), "trials": 2, "width": 16,
                       "max_steps": 2000, "eval_every": 25},
    "finite-sample-grokking": {"n": 8, "k": 2, "width": 16, "samples": (20, 60), "weight_decays": (0.0, 0.01),
                               "max_steps": 400, "eval_every": 100, "check_small_m": 20, "check_large_m": 60},
    "grokking": {"p": (11, 13), "trials": 2, "max_steps": 300},
    "regression-grokking": {"p": (5,), "trials": 2, "max_steps": 300, "eval_every": 50},  # claim 25's tiny run
    "fourier-gap": {"n": 6, "k": 2, "inits": 4, "trials": 2, "max_steps": 200, "eval_every": 100},
    "gradient-variance": {"primes": (5, 7), "frequencies": (2.0, 4.0), "hypotheses": 4, "width": 4, "inits": 2},
    "hardness-comparison": {"parity_ns": (4, 6), "parity_k": 2, "addition_primes": (3, 5), "addition_hypotheses": 4,
                            "multiplication_primes": (5, 7), "frequencies": (2.0, 4.0), "width": 4, "inits": 2},
    "hidden-progress": {"n": 8, "k": 2, "batch_sizes": (16,), "max_steps": 500, "trials": 2},
    "high-frequency-training": {"frequencies": (1.0, 2.0), "samples": 64, "parity_primes": (7, 11), "depth": 2,
                                "width": 8, "batch_size": 16, "max_steps": 200, "eval_every": 100, "trials": 2},
    "init-sensitivity": {"n": 8, "k": 2, "width": 16, "batch": 32, "lr": 0.1, "inits": 2, "data_seeds": 2,
                         "max_steps": 500},
    "layerwise-counterexample": {"n": 6, "ks": (2, 3), "depth": 2, "width": 4, "max_steps": 200, "trials": 2,
                                 "sequential_check": False},
    "modular-addition": {"p": 5, "width": 16, "trials": 2, "max_steps": 200},
    "noisy-parity": {"n": 8, "k": 2, "width": 16, "label_noise": (0.0, 0.1), "batch_sizes": (32,), "trials": 2,
                     "max_steps": 500},
    "parity": {"n": 8, "k": 2, "width": 16, "trials": 2, "max_steps": 500},
    "parity-scaling": {"ns": (6, 10), "k": 3, "width": 16, "trials": 2, "max_steps": 2000, "eval_every": 25},
    "polynet-grid": {"n": 8, "k": 2, "batches": (16,), "lrs": (0.1,), "trials": 2, "max_steps": 500,
                     "disjoint_n": 8},
    "robustness-grid": {"configs": 2, "seeds": 2, "learning_rates": (0.1,), "budget": 500, "eval_every": 100,
                        "ns": (6,), "ks": (2,), "batch_exponents": (4,), "architectures": "i,ii"},
    "scaling-nk": {"ns": (4, 6), "ks": (2, 3), "width": 16, "trials": 2, "max_steps": 500},
    "tc-distribution": {"n": 8, "k": 2, "width": 16, "trials": 8, "eval_every": 25, "max_steps": 500},
    "width-sweep": {"n": 8, "k": 2, "widths": (8, 16), "trials": 2, "max_steps": 500},
}
RECIPES = sorted(entry.name for entry in recipe_experiments())


def test_every_recipe_has_tiny_options():
    missing = sorted(set(RECIPES) - set(TINY_RECIPES))
    assert not missing, f"add tiny options for {missing} to TINY_RECIPES in tests/test_contracts.py"


def no_training(*args, **kwargs):
    raise AssertionError("a second run of a finished recipe trained again")


@pytest.mark.parametrize("name", RECIPES)
def test_recipe_contract(name, tmp_path, monkeypatch):
    import groklab.engine

    options = TINY_RECIPES.get(name)
    if options is None:
        pytest.fail(f"no tiny options for recipe {name!r} (TINY_RECIPES)")
    store = tmp_path / "store"
    summary = run_experiment(name, store, workers=0, **options)
    json.dumps(summary)  # JSON-serializable as it is (the CLI prints it with --json)
    assert isinstance(summary.get("claim"), str) and summary["claim"], summary.keys()
    assert summary.get("verdict") in ("PASS", "FAIL", "INFO"), summary.get("verdict")
    assert isinstance(summary.get("figures"), list)
    for figure in summary["figures"]:
        assert Path(figure).is_file() and Path(figure).stat().st_size > 0, figure
    assert summary["experiment"] == name and summary["options"] == json.loads(json.dumps(summary["options"]))
    # A second run finds every trial in the store: no training, the same verdict.
    monkeypatch.setattr(groklab.engine, "train_chunk", no_training)
    again = run_experiment(name, store, workers=0, **options)
    assert again["verdict"] == summary["verdict"] and again["claim"] == summary["claim"]


def _wrong_value(annotation):
    """A value of the wrong type for an option field (a string for numbers, a number for strings)."""
    return 7 if annotation is str else "x"


@pytest.mark.parametrize("name", RECIPES)
def test_recipe_bad_option_fails_in_one_line_before_the_store_exists(name, tmp_path):
    options_class = registry.experiments.get(name).spec_class
    store = tmp_path / "store"
    bad = [("seed", -1), ("bogus", 1)] + [(field, _wrong_value(info.annotation))
                                          for field, info in options_class.model_fields.items()]
    for field, value in bad:
        with pytest.raises(GroklabInputError) as err:
            run_experiment(name, store, workers=0, **{**TINY_RECIPES.get(name, {}), field: value})
        message = str(err.value)
        assert message.startswith(f"{name}.{field}:") and "\n" not in message, message
        assert not store.exists()


def test_recipe_contract_tables_name_real_options():
    for name, options in TINY_RECIPES.items():
        if name in RECIPES:
            unknown = set(options) - set(registry.experiments.get(name).spec_class.model_fields)
            assert not unknown, (name, unknown)
