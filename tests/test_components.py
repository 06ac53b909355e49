"""Component contracts (every registered task and model) and exact checks of each component."""
from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from groklab import GroklabInputError, OptimizerSpec, registry
from groklab.components import ensure_registered
from groklab.config import check_architecture
from groklab.losses import accuracy, loss_fn
from groklab.models.init import init_bias, init_weight
from groklab.optimizers import build_optimizer
from groklab.tasks.bits import all_sign_vectors, random_signs
from groklab.tasks.modular import ModularAdditionSpec, build_modular_addition, is_prime
from groklab.tasks.parity import ParitySpec, build_parity

ensure_registered()

# Small but valid parameters for every registered component. A newly registered task or model
# must add an entry here (test_every_registered_component_has_small_params fails otherwise).
SMALL_TASKS: dict[str, list[dict]] = {
    "parity": [
        {"n": 10, "k": 3},  # exact evaluation over all 2^10 inputs
        {"n": 16, "k": 2, "exact_eval_max_n": 8, "eval_samples": 256, "eval_screen_samples": 64},  # 2 parts
        {"n": 16, "k": 2, "exact_eval_max_n": 8, "eval_samples": 128, "eval_screen_samples": 128},  # 1 part
        {"n": 12, "k": 3, "samples": 40, "label_noise": 0.2},
        {"n": 12, "k": 3, "disjoint": True},
    ],
    "modular-addition": [{"p": 7}, {"p": 5, "train_fraction": 0.3}],
    "modular-regression": [{"p": 5}],
    "modular-multiplication": [{"p": 13}, {"p": 11, "target": "standardized", "encoding": "scalar",
                                           "train_fraction": 0.3}, {"p": 7, "encoding": "one-hot"}],
    "high-frequency": [{"frequency": 4.0, "eval_samples": 64},
                       {"frequency": 2.0, "psi": "sine", "standardize": True, "samples": 40, "encoding": "raw",
                        "eval_samples": 32}],
}
SMALL_MODELS: dict[str, list[dict]] = {
    "mlp": [
        {"width": 8},
        {"width": 6, "activation": "power", "degree": 3, "bias": False},
        {"width": 5, "init": "gaussian", "init_scale": 0.5, "bias_init": "zero"},
        {"width": 4, "init": "sign"},
        {"width": 4, "init": "bernoulli"},
    ],
    # disjoint-polynet sorts first, so its first two entries also run test_every_model_fits_every_task
    # (input dims 7, 10 and 14): k = 1 divides them all; the bias makes n_params >= n + 1.
    "disjoint-polynet": [
        {"degree": 1, "bias": True},
        {"degree": 1, "bias": True, "init": "uniform", "init_scale": 0.5},
        {"degree": 7, "bias": True, "init": "gaussian"},
    ],
    "deep-mlp": [{"width": 4, "bias": True}, {"depth": 2, "width": 3, "init": "gaussian"},
                 {"depth": 4, "width": 3, "activation": "relu", "bias": True, "greedy_stage": 2}],
    "wg-quadratic": [{"width": 6}, {"width": 5, "init": "torch", "init_scale": 0.5}],
    # One case (the contract compiles for seconds per case); without layer norm: test_why_grok_transformer.py
    "wg-transformer": [{"d_model": 6, "heads": 3, "d_mlp": 4, "layer_norm": True, "init_scale": 0.5}],
    "parity-machine": [{"degree": 3}, {"degree": 2, "init": "sign"}],
    "polynet": [{"degree": 3}, {"degree": 2, "bias": True, "init": "gaussian", "init_scale": 0.5}],
    "parity-transformer": [{"d_emb": 8, "heads": 2, "d_attn": 4},
                           {"d_emb": 6, "heads": 3, "d_attn": 2, "init": "gaussian", "init_scale": 0.5}],
    "single-neuron": [
        {"activation": "zigzag", "degree": 3},
        {"activation": "polynomial", "degree": 4},  # trainable_output=False has n + 1 parameters, below
        # the contract's n + output_dim at output_dim 5: tests/test_architectures.py covers it
        {"activation": "inf-zigzag", "init": "sign", "bias_init": "zero"},
        {"activation": "sinusoidal", "input_scale": 0.5},
        {"activation": "sinusoidal", "bias": False, "init": "bernoulli"},
    ],
}
BATCH = 6


def _cases(small: dict[str, list[dict]], entries) -> list:
    return [pytest.param(entry.name, params, id=f"{entry.name}-{i}")
            for entry in entries for i, params in enumerate(small.get(entry.name, []))]


TASK_CASES = _cases(SMALL_TASKS, registry.tasks)
MODEL_CASES = _cases(SMALL_MODELS, registry.models)


def build_task(name: str, params: dict):
    entry = registry.tasks.get(name)
    return entry.build(entry.spec_class(name=name, **params))


class Jitted:
    """A task's or model's methods under jit (as the engine runs them; eager dispatch is slow)."""

    def __init__(self, component):
        self.c = component
        if hasattr(component, "init_state"):
            self.init_state = jax.jit(component.init_state)
            self.train_batch = jax.jit(component.train_batch, static_argnums=2)
            self.eval_batch = jax.jit(component.eval_batch, static_argnums=2)
            self.train_set = jax.jit(component.train_set)
        else:
            self.init = jax.jit(component.init)
            self.apply = jax.jit(component.apply)

    def __getattr__(self, name):
        return getattr(self.c, name)


def build_model(name: str, params: dict, input_dim: int, output_dim: int):
    entry = registry.models.get(name)
    return entry.build(entry.spec_class(name=name, **params), input_dim, output_dim)


def trees_equal(a, b) -> bool:
    la, lb = jax.tree.leaves(a), jax.tree.leaves(b)
    return (jax.tree.structure(a) == jax.tree.structure(b)
            and all(np.array_equal(np.asarray(x), np.asarray(y)) for x, y in zip(la, lb)))


def check_labels(task, y, size: int):
    y = np.asarray(y)
    assert y.shape == (size,)
    if task.num_classes == 1:
        assert y.dtype == np.float32
        if task.regression:  # real-valued targets (square loss)
            assert np.all(np.isfinite(y))
        else:
            assert set(np.unique(y)) <= {-1.0, 1.0}
    else:
        assert np.issubdtype(y.dtype, np.integer)
        assert y.min() >= 0 and y.max() < task.num_classes


def check_inputs(task, x, size: int):
    x = np.asarray(x)
    assert x.shape == (size, task.input_dim)
    assert x.dtype == np.float32
    assert np.all(np.isfinite(x))


# ---------------------------------------------------------------- registry coverage

def test_every_registered_component_has_small_params():
    missing = [f"task {n}" for n in registry.tasks.names() if n not in SMALL_TASKS]
    missing += [f"model {n}" for n in registry.models.names() if n not in SMALL_MODELS]
    assert not missing, f"add small params for {missing} to tests/test_components.py"
    assert registry.tasks.names() and registry.models.names()


def test_registry_entries_are_complete():
    for reg in (registry.tasks, registry.models, registry.losses, registry.optimizers):
        for entry in reg:
            assert entry.version and entry.description and callable(entry.build)
    assert set(registry.losses.names()) == {"hinge", "square", "logistic", "correlation", "cross-entropy"}
    assert set(registry.optimizers.names()) == {"sgd", "adam", "adamw", "normalized-gd"}


def test_registering_a_name_twice_fails():
    with pytest.raises(ValueError, match="twice"):
        registry.tasks.register("parity", version="9", spec_class=ParitySpec, description="dup")(build_parity)


def test_unknown_name_is_an_input_error_listing_the_known_ones():
    with pytest.raises(GroklabInputError, match="task.name: .*parity"):
        registry.tasks.get("nope")


# ---------------------------------------------------------------- task contract

@pytest.mark.parametrize("name, params", TASK_CASES)
def test_task_contract(name, params):
    task = Jitted(build_task(name, params))
    assert isinstance(task.input_dim, int) and task.input_dim > 0
    assert isinstance(task.num_classes, int) and task.num_classes >= 1
    assert task.train_size is None or (isinstance(task.train_size, int) and task.train_size > 0)
    assert task.spec.name == name

    key = jax.random.key(3)
    state = task.init_state(key)
    assert trees_equal(state, task.init_state(jax.random.key(3)))  # deterministic given the key
    others = [task.init_state(jax.random.key(s)) for s in range(4, 12)]
    assert any(not trees_equal(state, other) for other in others)  # and depends on it

    x, y = task.train_batch(state, jax.random.key(5), BATCH)
    check_inputs(task, x, BATCH)
    check_labels(task, y, BATCH)
    again = task.train_batch(state, jax.random.key(5), BATCH)
    assert trees_equal((x, y), again)
    assert not np.array_equal(np.asarray(x), np.asarray(task.train_batch(state, jax.random.key(6), BATCH)[0]))

    train = task.train_set(state)
    if task.train_size is None:
        assert train is None
    else:
        check_inputs(task, train[0], task.train_size)
        check_labels(task, train[1], task.train_size)
        full = task.train_batch(state, jax.random.key(0), None)  # full batch = the training set
        assert trees_equal(full, train)

    assert len(task.eval_parts) in (1, 2) and all(size > 0 for size in task.eval_parts)
    for part, size in enumerate(task.eval_parts):
        ex, ey = task.eval_batch(state, jax.random.key(7), part)
        check_inputs(task, ex, size)
        check_labels(task, ey, size)
        assert trees_equal((ex, ey), task.eval_batch(state, jax.random.key(7), part))


@pytest.mark.parametrize("name, params", TASK_CASES)
def test_task_vmaps_like_the_engine(name, params):
    """Under jit(vmap) over trials each trial gets exactly what it gets alone."""
    task = build_task(name, params)
    keys = jax.random.split(jax.random.key(11), 3)

    def one(key):
        state = task.init_state(key)
        return state, task.train_batch(state, jax.random.fold_in(key, 1), BATCH), task.eval_batch(state, key, 0)

    batched = jax.jit(jax.vmap(one))(keys)
    single = jax.jit(one)
    for i in range(3):
        alone = single(keys[i])
        assert trees_equal(jax.tree.map(lambda a: a[i], batched), alone)


# ---------------------------------------------------------------- model contract

@pytest.mark.parametrize("output_dim", [1, 5])
@pytest.mark.parametrize("name, params", MODEL_CASES)
def test_model_contract(name, params, output_dim):
    input_dim = 7
    model = build_model(name, params, input_dim, output_dim)
    x = random_signs(jax.random.key(2), (BATCH,), input_dim)
    labels = jnp.ones(BATCH) if output_dim == 1 else jnp.arange(BATCH) % output_dim
    loss = loss_fn("square" if output_dim == 1 else "cross-entropy")

    @jax.jit  # one program (as the engine runs a model) rather than one per method: compiling dominates
    def run(key):
        p = model.init(key)
        grads = jax.grad(lambda q: loss(model.apply(q, x), labels))(p)
        return p, model.apply(p, x), model.apply(p, x[2:3]), grads

    p, out, single, grads = run(jax.random.key(0))
    leaves = jax.tree.leaves(p)
    assert leaves and all(leaf.dtype == jnp.float32 and leaf.size > 0 for leaf in leaves)
    assert all(np.all(np.isfinite(np.asarray(leaf))) for leaf in leaves)
    again, out_again, _, _ = run(jax.random.key(0))
    assert trees_equal(p, again) and np.array_equal(np.asarray(out), np.asarray(out_again))
    assert not trees_equal(p, run(jax.random.key(1))[0])
    n_params = sum(leaf.size for leaf in leaves)
    assert n_params >= input_dim + output_dim

    expected = (BATCH,) if output_dim == 1 else (BATCH, output_dim)
    assert out.shape == expected and out.dtype == jnp.float32
    assert np.all(np.isfinite(np.asarray(out)))
    # Examples are independent: one example alone gives the same output (up to matmul rounding).
    np.testing.assert_allclose(np.asarray(single)[0], np.asarray(out)[2], rtol=1e-5, atol=1e-6)
    # Gradients exist, have the parameters' structure and are finite.
    assert jax.tree.structure(grads) == jax.tree.structure(p)
    assert all(np.all(np.isfinite(np.asarray(g))) for g in jax.tree.leaves(grads))
    assert any(np.any(np.asarray(g) != 0) for g in jax.tree.leaves(grads))


@pytest.mark.parametrize("task_name, task_params", [c for c in TASK_CASES if c.id.endswith("-0")])
@pytest.mark.parametrize("model_name, model_params", [c for c in MODEL_CASES if c.id.endswith("-0")])
def test_every_model_fits_every_task(task_name, task_params, model_name, model_params):
    """A model built with a task's dimensions maps its batches to outputs its default loss scores."""
    task = build_task(task_name, task_params)
    model = build_model(model_name, model_params, task.input_dim, task.num_classes)
    try:
        check_architecture(task, model)
    except GroklabInputError:
        pytest.skip("make_config refuses this pairing before any work (tested in test_why_grok.py)")
    loss = loss_fn(task.spec.default_loss)

    @jax.jit  # one program per pair: the pairing is what is tested, each part has its own contract
    def score(key):
        state = task.init_state(key)
        x, y = task.train_batch(state, jax.random.fold_in(key, 1), BATCH)
        out = model.apply(model.init(jax.random.fold_in(key, 2)), x)
        return out, loss(out, y), accuracy(out, y)

    out, value, acc = score(jax.random.key(0))
    assert out.shape == ((BATCH,) if task.num_classes == 1 else (BATCH, task.num_classes))
    assert value.shape == () and np.isfinite(float(value))
    assert 0.0 <= float(acc) <= 1.0


# ---------------------------------------------------------------- parity, exactly

def test_parity_labels_are_the_product_over_the_support():
    task = build_parity(ParitySpec(n=5, k=3))
    x = jnp.array([[1, 1, 1, 1, 1],
                   [-1, 1, 1, 1, 1],
                   [-1, -1, 1, 1, 1],
                   [1, -1, -1, 1, -1],
                   [-1, -1, -1, -1, -1]], dtype=jnp.float32)
    support = jnp.array([0, 2, 4])
    # Hand-computed x0 * x2 * x4 for each row.
    np.testing.assert_array_equal(np.asarray(task.labels(support, x)), [1, -1, -1, 1, -1])
    np.testing.assert_array_equal(np.asarray(task.labels(jnp.array([1, 3]), x)), [1, 1, -1, -1, 1])


@pytest.mark.parametrize("params", [{"n": 20, "k": 3}, {"n": 20, "k": 4, "samples": 50}])
def test_parity_batches_use_the_hidden_support(params):
    task = Jitted(build_parity(ParitySpec(**params)))
    for seed in range(5):
        state = task.init_state(jax.random.key(seed))
        support = np.asarray(state["support"])
        assert len(set(support.tolist())) == params["k"] and support.min() >= 0 and support.max() < params["n"]
        assert np.all(np.diff(support) > 0)  # sorted, distinct
        x, y = task.train_batch(state, jax.random.key(100 + seed), 64)
        np.testing.assert_array_equal(np.asarray(y), np.prod(np.asarray(x)[:, support], axis=1))


def test_random_signs_are_fair_independent_signs():
    prefix, n = (500, 8), 45  # 45 coordinates: two 32-bit words, the second partly used
    s = np.asarray(random_signs(jax.random.key(0), prefix, n))
    assert s.shape == (*prefix, n) and s.dtype == np.float32
    assert set(np.unique(s)) == {-1.0, 1.0}
    flat = s.reshape(-1, n)
    count = flat.shape[0]
    assert abs(flat.mean()) < 5 / math.sqrt(flat.size)
    # Every coordinate (both words, every bit position) is fair, and neighbours are uncorrelated.
    assert np.all(np.abs(flat.mean(axis=0)) < 5 / math.sqrt(count))
    corr = (flat[:, :-1] * flat[:, 1:]).mean(axis=0)
    assert np.all(np.abs(corr) < 5 / math.sqrt(count))
    # Different keys give different signs; the same key the same.
    assert np.array_equal(s, np.asarray(random_signs(jax.random.key(0), prefix, n)))
    assert not np.array_equal(s, np.asarray(random_signs(jax.random.key(1), prefix, n)))


def test_all_sign_vectors_enumerates_the_cube():
    cube = np.asarray(all_sign_vectors(3))
    assert cube.shape == (8, 3)
    assert {tuple(row) for row in cube.tolist()} == {(a, b, c) for a in (-1.0, 1.0) for b in (-1.0, 1.0)
                                                     for c in (-1.0, 1.0)}
    assert np.asarray(all_sign_vectors(10)).shape == (1024, 10)
    assert len({tuple(r) for r in np.asarray(all_sign_vectors(10)).tolist()}) == 1024


def test_disjoint_support_has_one_index_per_block():
    n, k = 12, 3
    task = Jitted(build_parity(ParitySpec(n=n, k=k, disjoint=True)))
    seen = set()
    for seed in range(40):
        support = np.asarray(task.init_state(jax.random.key(seed))["support"])
        assert sorted(i // (n // k) for i in support) == list(range(k))
        seen.update(support.tolist())
    assert len(seen) > 2 * k  # the coordinate within each block varies


def test_label_noise_flips_train_labels_but_not_eval_labels():
    q, m = 0.25, 4000
    task = Jitted(build_parity(ParitySpec(n=16, k=3, samples=m, label_noise=q, exact_eval_max_n=0,
                                          eval_samples=2048, eval_screen_samples=1024)))
    state = task.init_state(jax.random.key(0))
    x, y = task.train_set(state)
    clean = np.asarray(task.labels(state["support"], x))
    flipped = np.mean(np.asarray(y) != clean)
    assert abs(flipped - q) < 4 * math.sqrt(q * (1 - q) / m), flipped
    assert np.array_equal(np.abs(np.asarray(y)), np.ones(m))  # flips keep labels in {-1, +1}
    # Online noisy batches flip about q too.
    online = Jitted(build_parity(ParitySpec(n=16, k=3, label_noise=q)))
    ostate = online.init_state(jax.random.key(1))
    ox, oy = online.train_batch(ostate, jax.random.key(2), m)
    oflipped = np.mean(np.asarray(oy) != np.asarray(online.labels(ostate["support"], ox)))
    assert abs(oflipped - q) < 4 * math.sqrt(q * (1 - q) / m), oflipped
    # Held-out labels are noiseless, for every part.
    for t, s in ((task, state), (online, ostate)):
        for part in range(len(t.eval_parts)):
            ex, ey = t.eval_batch(s, jax.random.key(3), part)
            np.testing.assert_array_equal(np.asarray(ey), np.asarray(t.labels(s["support"], ex)))


def test_eval_parts_together_form_one_fresh_batch():
    task = Jitted(build_parity(ParitySpec(n=30, k=3, eval_samples=2048, eval_screen_samples=512)))
    assert task.eval_parts == (512, 1536)
    state = task.init_state(jax.random.key(0))
    x0, _ = task.eval_batch(state, jax.random.key(1), 0)
    x1, _ = task.eval_batch(state, jax.random.key(1), 1)
    x0b, _ = task.eval_batch(state, jax.random.key(2), 0)
    assert not np.array_equal(np.asarray(x0), np.asarray(x1)[:512])
    assert not np.array_equal(np.asarray(x0), np.asarray(x0b))
    exact = Jitted(build_parity(ParitySpec(n=10, k=2)))
    assert exact.eval_parts == (1024,)
    ex, _ = exact.eval_batch(exact.init_state(jax.random.key(0)), jax.random.key(5), 0)
    assert len({tuple(r) for r in np.asarray(ex).tolist()}) == 1024


# ---------------------------------------------------------------- modular addition, exactly

def test_modular_addition_encoding_and_split():
    p, fraction = 7, 0.5
    task = Jitted(build_modular_addition(ModularAdditionSpec(p=p, train_fraction=fraction)))
    assert task.input_dim == 2 * p and task.num_classes == p
    assert task.train_size == round(fraction * p * p) == 24 and task.test_size == 25
    state = task.init_state(jax.random.key(0))
    pairs = []
    for x, y in (task.train_set(state), task.eval_batch(state, jax.random.key(0))):
        x, y = np.asarray(x), np.asarray(y)
        assert set(np.unique(x)) == {0.0, 1.0}
        assert np.all(x[:, :p].sum(axis=1) == 1) and np.all(x[:, p:].sum(axis=1) == 1)
        a, b = x[:, :p].argmax(axis=1), x[:, p:].argmax(axis=1)
        np.testing.assert_array_equal(y, (a + b) % p)
        pairs.append({(int(i), int(j)) for i, j in zip(a, b)})
        assert len(pairs[-1]) == len(y)  # no pair twice within a set
    train_pairs, test_pairs = pairs
    assert len(train_pairs) == task.train_size and len(test_pairs) == task.test_size
    assert not train_pairs & test_pairs
    assert train_pairs | test_pairs == {(a, b) for a in range(p) for b in range(p)}
    # Minibatches come from the training pairs only; other trials get other splits.
    mx, my = task.train_batch(state, jax.random.key(9), 200)
    mx = np.asarray(mx)
    assert {(int(i), int(j)) for i, j in zip(mx[:, :p].argmax(1), mx[:, p:].argmax(1))} <= train_pairs
    other = task.init_state(jax.random.key(1))
    assert not np.array_equal(np.asarray(other["train"]), np.asarray(state["train"]))


def test_is_prime():
    assert [q for q in range(30) if is_prime(q)] == [2, 3, 5, 7, 11, 13, 17, 19, 23, 29]


# ---------------------------------------------------------------- initialization

FAN_IN, FAN_OUT, SCALE = 300, 500, 0.7
XAVIER = math.sqrt(6 / (FAN_IN + FAN_OUT))


@pytest.mark.parametrize("scheme, std", [
    ("uniform", XAVIER / math.sqrt(3)),
    ("gaussian", math.sqrt(2 / FAN_IN)),
    ("bernoulli", XAVIER),
    ("sign", 1.0),
])
def test_init_scheme_std_matches_its_formula(scheme, std):
    w = np.asarray(init_weight(jax.random.key(0), (FAN_IN, FAN_OUT), FAN_IN, FAN_OUT, scheme, SCALE))
    assert w.shape == (FAN_IN, FAN_OUT) and w.dtype == np.float32
    # Relative standard error of a sample std over 150k draws is well under 1%.
    assert w.std() == pytest.approx(SCALE * std, rel=0.02)
    assert abs(w.mean()) < 5 * SCALE * std / math.sqrt(w.size)
    if scheme == "uniform":
        assert np.abs(w).max() <= SCALE * XAVIER * (1 + 1e-6)
        assert np.abs(w).max() > 0.99 * SCALE * XAVIER
    if scheme == "bernoulli":
        np.testing.assert_allclose(np.unique(w), [-SCALE * XAVIER, SCALE * XAVIER], rtol=1e-6)
    if scheme == "sign":
        np.testing.assert_array_equal(np.unique(w), np.array([-SCALE, SCALE], dtype=np.float32))


def test_unknown_init_scheme_is_rejected():
    with pytest.raises(ValueError):
        init_weight(jax.random.key(0), (2, 2), 2, 2, "orthogonal", 1.0)


def test_bias_init_modes():
    b = np.asarray(init_bias(jax.random.key(0), (10_000,), 25, "torch"))
    assert np.abs(b).max() <= 0.2 and np.abs(b).max() > 0.19  # U(-1/sqrt(25), 1/sqrt(25))
    assert b.std() == pytest.approx(0.2 / math.sqrt(3), rel=0.03)
    assert np.array_equal(np.asarray(init_bias(jax.random.key(0), (5,), 25, "zero")), np.zeros(5))


def test_mlp_init_uses_each_layers_fans_and_the_scale():
    n, r = 200, 400
    for scheme in ("uniform", "gaussian", "bernoulli", "sign"):
        model = Jitted(build_model("mlp", {"width": r, "init": scheme, "init_scale": 2.0}, n, 1))
        p = model.init(jax.random.key(1))
        hidden, readout = np.asarray(p["hidden"]["w"]), np.asarray(p["readout"]["w"])
        assert hidden.shape == (n, r) and readout.shape == (r,)
        assert p["hidden"]["b"].shape == (r,) and p["readout"]["b"].shape == ()
        expected = {"uniform": (math.sqrt(6 / (n + r)) / math.sqrt(3), math.sqrt(6 / (r + 1)) / math.sqrt(3)),
                    "gaussian": (math.sqrt(2 / n), math.sqrt(2 / r)),
                    "bernoulli": (math.sqrt(6 / (n + r)), math.sqrt(6 / (r + 1))),
                    "sign": (1.0, 1.0)}[scheme]
        assert hidden.std() == pytest.approx(2.0 * expected[0], rel=0.02)
        assert readout.std() == pytest.approx(2.0 * expected[1], rel=0.15)  # only r = 400 draws
    classifier = build_model("mlp", {"width": 8, "bias": False}, 6, 5).init(jax.random.key(0))
    assert classifier["readout"]["w"].shape == (8, 5)
    assert set(classifier["hidden"]) == {"w"} and set(classifier["readout"]) == {"w"}


def test_mlp_apply_matches_the_formula():
    model = build_model("mlp", {"width": 3, "activation": "power", "degree": 3}, 2, 1)
    params = {"hidden": {"w": jnp.array([[1.0, 0.0, 2.0], [0.0, 1.0, -1.0]]), "b": jnp.array([0.0, 1.0, 0.5])},
              "readout": {"w": jnp.array([1.0, -1.0, 0.5]), "b": jnp.array(0.25)}}
    x = jnp.array([[1.0, -1.0], [2.0, 1.0]])
    # Hidden pre-activations: [1, 0, 3.5] and [2, 2, 3.5]; cubes dotted with u, plus c.
    expected = [1 - 0 + 0.5 * 3.5**3 + 0.25, 8 - 8 + 0.5 * 3.5**3 + 0.25]
    np.testing.assert_allclose(np.asarray(model.apply(params, x)), expected, rtol=1e-6)
    relu = build_model("mlp", {"width": 3}, 2, 1)
    # x = (-1, 1): pre-activations [-1, 2, -2.5], ReLU [0, 2, 0], so f = -2 + 0.25.
    np.testing.assert_allclose(np.asarray(relu.apply(params, -x[:1])), [-1.75], rtol=1e-6)


# ---------------------------------------------------------------- losses and accuracy

F = jnp.array([2.0, 0.5, -1.0, 0.0])
Y = jnp.array([1.0, -1.0, 1.0, -1.0])


@pytest.mark.parametrize("name, per_example", [
    ("hinge", [0.0, 1.5, 2.0, 1.0]),
    ("square", [1.0, 2.25, 4.0, 1.0]),
    ("logistic", [math.log1p(math.exp(-2.0)), math.log1p(math.exp(0.5)), math.log1p(math.exp(1.0)), math.log(2.0)]),
    ("correlation", [-2.0, 0.5, 1.0, 0.0]),
])
def test_binary_losses_match_their_formulas(name, per_example):
    value = float(loss_fn(name)(F, Y))
    assert value == pytest.approx(sum(per_example) / 4, rel=1e-6)


def test_cross_entropy_matches_its_formula():
    logits = jnp.array([[0.0, 0.0, 0.0], [math.log(2.0), 0.0, -1e9]])
    labels = jnp.array([1, 0])
    # -log(1/3) and -log(2/3).
    assert float(loss_fn("cross-entropy")(logits, labels)) == pytest.approx((math.log(3) + math.log(1.5)) / 2, rel=1e-6)


def test_accuracy_counts_zero_output_as_wrong():
    assert float(accuracy(jnp.array([0.0, 0.0, 0.3, -2.0]), jnp.array([1.0, -1.0, 1.0, -1.0]))) == 0.5
    assert float(accuracy(jnp.array([0.0]), jnp.array([1.0]))) == 0.0
    logits = jnp.array([[0.1, 0.9, 0.0], [2.0, 1.0, 0.0], [0.0, 0.0, 3.0]])
    assert float(accuracy(logits, jnp.array([1, 1, 2]))) == pytest.approx(2 / 3)


# ---------------------------------------------------------------- optimizers

THETA = {"w": jnp.array([1.0, -2.0, 3.0]), "b": jnp.array(0.5)}


def one_step(spec: OptimizerSpec, grads=None):
    opt = build_optimizer(spec)
    grads = grads if grads is not None else jax.tree.map(jnp.zeros_like, THETA)
    updates, _ = opt.update(grads, opt.init(THETA), THETA)
    return optax.apply_updates(THETA, updates)


def assert_tree_close(a, b, rtol=1e-6):
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)):
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=rtol, atol=1e-7)


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_sgd_decoupled_weight_decay_is_not_scaled_by_lr(momentum):
    lr, lam = 0.1, 0.01
    spec = OptimizerSpec(name="sgd", lr=lr, weight_decay=lam, weight_decay_mode="decoupled", momentum=momentum)
    assert_tree_close(one_step(spec), jax.tree.map(lambda t: (1 - lam) * t, THETA))
    grads = {"w": jnp.array([0.5, 0.0, -1.0]), "b": jnp.array(2.0)}
    assert_tree_close(one_step(spec, grads), jax.tree.map(lambda t, g: (1 - lam) * t - lr * g, THETA, grads))


def test_sgd_l2_weight_decay_is_in_the_gradient():
    lr, lam = 0.1, 0.01
    spec = OptimizerSpec(name="sgd", lr=lr, weight_decay=lam, weight_decay_mode="l2")
    assert_tree_close(one_step(spec), jax.tree.map(lambda t: t - lr * lam * t, THETA))
    grads = {"w": jnp.array([0.5, 0.0, -1.0]), "b": jnp.array(2.0)}
    assert_tree_close(one_step(spec, grads), jax.tree.map(lambda t, g: t - lr * (g + lam * t), THETA, grads))


def test_plain_sgd_and_momentum_steps():
    grads = {"w": jnp.array([0.5, 0.0, -1.0]), "b": jnp.array(2.0)}
    expected = jax.tree.map(lambda t, g: t - 0.1 * g, THETA, grads)
    assert_tree_close(one_step(OptimizerSpec(name="sgd", lr=0.1), grads), expected)
    # With momentum the first step equals plain SGD's; the second adds the momentum term.
    opt = build_optimizer(OptimizerSpec(name="sgd", lr=0.1, momentum=0.5))
    state = opt.init(THETA)
    u1, state = opt.update(grads, state, THETA)
    u2, _ = opt.update(grads, state, THETA)
    assert_tree_close(u1, jax.tree.map(lambda g: -0.1 * g, grads))
    assert_tree_close(u2, jax.tree.map(lambda g: -0.1 * 1.5 * g, grads))


def test_adamw_decay_is_decoupled_and_scaled_by_lr():
    lr, lam = 0.01, 0.5
    stepped = one_step(OptimizerSpec(name="adamw", lr=lr, weight_decay=lam))
    assert_tree_close(stepped, jax.tree.map(lambda t: (1 - lr * lam) * t, THETA))


def test_adam_l2_decay_enters_the_normalized_gradient():
    lr, lam = 0.01, 0.5
    stepped = one_step(OptimizerSpec(name="adam", lr=lr, weight_decay=lam, weight_decay_mode="l2"))
    # First Adam step on gradient lam*theta moves each coordinate by lr * sign(theta).
    assert_tree_close(stepped, jax.tree.map(lambda t: t - lr * jnp.sign(t), THETA), rtol=1e-5)
    plain = one_step(OptimizerSpec(name="adam", lr=lr))
    assert_tree_close(plain, THETA)


def test_adam_with_decoupled_decay_is_rejected():
    with pytest.raises(GroklabInputError, match="optimizer.weight_decay"):
        build_optimizer(OptimizerSpec(name="adam", lr=0.01, weight_decay=0.1))


def test_dense_gradients_equal_the_plain_matmul_gradients():
    from groklab.models.layers import dense

    x = jax.random.normal(jax.random.key(0), (32, 50))
    ws = jax.random.normal(jax.random.key(1), (3, 50, 7))  # vmapped over trials, as in the engine
    target = jax.random.normal(jax.random.key(2), (32, 7))
    loss = lambda f: lambda x, w: jnp.sum(jnp.tanh(f(x, w)) * target)  # noqa: E731
    plain = jax.vmap(jax.grad(loss(lambda x, w: x @ w), argnums=(0, 1)), in_axes=(None, 0))(x, ws)
    ours = jax.jit(jax.vmap(jax.grad(loss(dense), argnums=(0, 1)), in_axes=(None, 0)))(x, ws)
    np.testing.assert_allclose(dense(x, ws[0]), x @ ws[0], rtol=1e-6)
    for a, b in zip(plain, ours):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
