"""Single neurons (vii-xiv), PolyNet (xv), parity machine and disjoint-PolyNet: exact representation
of parities, fixed readouts, and real training runs through the engine."""
from __future__ import annotations

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import groklab
from groklab import registry
from groklab.components import ensure_registered
from groklab.engine import train_chunk
from groklab.engine.train import CONVERGED
from groklab.models.single_neuron import (
    activate,
    inf_zigzag,
    knots,
    oscillating_polynomial,
    sinusoidal,
    zigzag,
)
from groklab.tasks.bits import all_sign_vectors

ensure_registered()

ACTIVATIONS = ["zigzag", "polynomial", "inf-zigzag", "sinusoidal"]


def build(name: str, input_dim: int, output_dim: int = 1, **params):
    entry = registry.models.get(name)
    return entry.build(entry.spec_class(name=name, **params), input_dim, output_dim)


def cube(n: int) -> jax.Array:
    x = jnp.asarray(all_sign_vectors(n), jnp.float32)
    assert x.shape == (2**n, n)
    return x


def chi(x: jax.Array, support) -> np.ndarray:
    return np.asarray(jnp.prod(x[:, jnp.asarray(support)], axis=-1))


# ---------------------------------------------------------------- activations

@pytest.mark.parametrize("k", [1, 2, 3, 4, 5, 6])
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_activation_passes_through_the_knots(activation, k):
    xs, ys = knots(k)
    np.testing.assert_array_equal(xs, [k - 2 * j for j in range(k + 1)])
    z = jnp.asarray(xs)
    if activation in ("inf-zigzag", "sinusoidal"):
        z = z - k  # these represent the parity with the bias b = -k
    out = np.asarray(activate(activation, z, k))
    if activation == "sinusoidal":
        np.testing.assert_allclose(out, ys, atol=1e-6)
    else:
        np.testing.assert_array_equal(out, ys)


def test_zigzag_is_linear_between_knots_and_constant_outside():
    k = 3
    np.testing.assert_array_equal(np.asarray(zigzag(jnp.array([2.0, 0.0, -2.0, 1.5, -2.5]), k)), [0, 0, 0, -0.5, -0.5])
    np.testing.assert_array_equal(np.asarray(zigzag(jnp.array([3.0, 7.0, -3.0, -9.0]), k)), [1, 1, -1, -1])
    g = jax.vmap(jax.grad(lambda z: zigzag(z, k)))(jnp.array([2.5, 0.5, -1.5, 5.0]))
    np.testing.assert_array_equal(np.asarray(g), [1, -1, 1, 0])


def test_polynomial_has_degree_k():
    k = 4
    z = np.linspace(-6, 6, 40)
    vals = np.asarray(oscillating_polynomial(jnp.asarray(z, jnp.float32), k), np.float64)
    coef = np.polyfit(z, vals, k + 2)
    assert np.all(np.abs(coef[:2]) < 1e-4 * np.abs(coef).max())  # degree <= k
    assert abs(coef[2]) > 1e-3  # and exactly k


def test_inf_zigzag_is_a_period_4_triangle_wave():
    z = jnp.array([0.0, 1.0, 2.0, 3.0, 4.0, -2.0, 0.5, 8.0, -7.0])
    np.testing.assert_array_equal(np.asarray(inf_zigzag(z)), [1, 0, -1, 0, 1, -1, 0.5, 1, 0])
    np.testing.assert_allclose(np.asarray(sinusoidal(jnp.array([0.0, 1.0, 2.0, 4.0]))), [1, 0, -1, 1], atol=1e-6)


# ---------------------------------------------------------------- exact representation of parities

N, K = 6, 3


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_single_neuron_represents_every_k_parity(activation):
    x = cube(N)
    model = build("single-neuron", N, activation=activation, degree=K, bias=True)
    p = model.init(jax.random.key(0))
    assert set(p) == {"w", "b", "u"}
    apply = jax.jit(model.apply)
    # zigzag and polynomial interpolate the knots of w.x directly (b = 0); the periodic ones need b = -k
    # (any b = -k mod 4 for inf-zigzag).
    biases = [0.0] if activation in ("zigzag", "polynomial") else [-K, -K + 4.0, -K - 8.0]
    if activation == "sinusoidal":
        biases = [-K, -K + 4.0]
    for support in itertools.combinations(range(N), K):
        w = jnp.zeros(N).at[jnp.asarray(support)].set(1.0)
        for b in biases:
            out = np.asarray(apply({"w": w, "b": jnp.float32(b), "u": jnp.float32(1.0)}, x))
            np.testing.assert_array_equal(np.sign(out), chi(x, support))
            if activation != "sinusoidal":
                np.testing.assert_array_equal(out, chi(x, support))  # exact values, not just signs
    np.testing.assert_array_equal(np.asarray(model.first_layer_weights(p)), np.asarray(p["w"])[:, None])


@pytest.mark.parametrize("name", ["polynet", "parity-machine"])
def test_polynet_with_unit_vectors_computes_chi_s_exactly(name):
    x = cube(N)
    model = build(name, N, degree=K)
    p = model.init(jax.random.key(0))
    assert set(p) == {"w"} and p["w"].shape == (N, K)
    apply = jax.jit(model.apply)
    for support in itertools.combinations(range(N), K):
        w = jnp.zeros((N, K)).at[jnp.asarray(support), jnp.arange(K)].set(1.0)  # w_i = e_{s_i}
        np.testing.assert_array_equal(np.asarray(apply({"w": w}, x)), chi(x, support))
    assert model.first_layer_weights(p).shape == (N, K)


def test_polynet_bias_is_optional():
    model = build("polynet", N, degree=K, bias=True)
    p = model.init(jax.random.key(0))
    assert p["b"].shape == (K,)
    x = cube(N)
    w = jnp.zeros((N, K)).at[jnp.arange(K), jnp.arange(K)].set(1.0)
    out = model.apply({"w": w, "b": jnp.array([1.0, 0.0, -1.0])}, x)
    np.testing.assert_array_equal(np.asarray(out), np.asarray((x[:, 0] + 1) * x[:, 1] * (x[:, 2] - 1)))


def test_disjoint_polynet_with_one_index_per_block_computes_chi_s_exactly():
    x = cube(N)
    model = build("disjoint-polynet", N, degree=K)
    p = model.init(jax.random.key(0))
    block = N // K
    assert set(p) == {"w"} and p["w"].shape == (1, K, block)
    assert set(np.unique(np.asarray(p["w"]))) <= {-1.0, 1.0}  # sign init
    apply = jax.jit(model.apply)
    for offsets in itertools.product(range(block), repeat=K):
        support = [i * block + o for i, o in enumerate(offsets)]
        w = jnp.zeros((1, K, block)).at[0, jnp.arange(K), jnp.asarray(offsets)].set(1.0)
        np.testing.assert_array_equal(np.asarray(apply({"w": w}, x)), chi(x, support))
    # first_layer_weights embeds w_i into column i on the rows of block P_i, zero elsewhere.
    dense = np.asarray(model.first_layer_weights(p))
    assert dense.shape == (N, K)
    wb = np.asarray(p["w"])[0]
    for i in range(K):
        expected = np.zeros(N)
        expected[i * block:(i + 1) * block] = wb[i]
        np.testing.assert_array_equal(dense[:, i], expected)
    # the embedding makes the disjoint net a polynet with that weight matrix
    polynet = build("polynet", N, degree=K)
    np.testing.assert_array_equal(np.asarray(polynet.apply({"w": jnp.asarray(dense)}, x)), np.asarray(apply(p, x)))


def test_disjoint_polynet_ones_init_and_validation():
    p = build("disjoint-polynet", 12, degree=3, init="ones").init(jax.random.key(0))
    np.testing.assert_array_equal(np.asarray(p["w"]), np.ones((1, 3, 4)))
    with pytest.raises(ValueError, match="divisible"):
        build("disjoint-polynet", 10, degree=3)


def test_trainable_output_false_keeps_u_fixed_at_one():
    x = cube(N)
    y = jnp.asarray(chi(x, [0, 1, 2]))
    for activation in ACTIVATIONS:
        fixed = build("single-neuron", N, activation=activation, degree=K, trainable_output=False)
        p = fixed.init(jax.random.key(3))
        assert "u" not in p  # u is no parameter, so no gradient can reach it
        grads = jax.grad(lambda q: jnp.mean((fixed.apply(q, x) - y) ** 2))(p)
        assert set(grads) == {"w", "b"}
        # f = 1 * sigma(w.x + b): the same as a trainable neuron with u = 1
        free = build("single-neuron", N, activation=activation, degree=K)
        np.testing.assert_array_equal(np.asarray(fixed.apply(p, x)), np.asarray(free.apply({**p, "u": jnp.float32(1)}, x)))
        # after an SGD step u is still 1 (it cannot move)
        p2 = jax.tree.map(lambda a, g: a - 0.1 * g, p, grads)
        assert "u" not in p2


def test_input_scale_multiplies_the_preactivation():
    x = cube(N)
    a = build("single-neuron", N, activation="sinusoidal", input_scale=0.25)
    p = a.init(jax.random.key(0))
    z = x @ p["w"] + p["b"]
    np.testing.assert_allclose(np.asarray(a.apply(p, x)), np.asarray(p["u"] * jnp.cos(jnp.pi * 0.25 * z / 2)),
                               rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------- real training through the engine

def converged_fraction(task: dict, model: dict, lr: float, batch: int, max_steps: int) -> tuple[float, np.ndarray]:
    config = groklab.make_config({"name": "parity", **task}, model, optimizer={"name": "sgd", "lr": lr},
                                 train={"batch_size": batch, "max_steps": max_steps, "eval_every": 100})
    result = train_chunk(config, 0, range(8))
    converged = result.status == CONVERGED
    assert np.all(result.final_metrics["val_accuracy"][converged] == 1.0)
    return converged.mean(), result.convergence_step


def test_polynet_learns_20_3_parity():
    # Claim-14 spirit: B = 16, lr = 0.1, hinge loss, Xavier-uniform init, no biases.
    frac, steps = converged_fraction({"n": 20, "k": 3}, {"name": "polynet", "degree": 3}, 0.1, 16, 2000)
    assert frac >= 0.75, steps


def test_disjoint_polynet_learns_disjoint_parity():
    frac, steps = converged_fraction({"n": 30, "k": 3, "disjoint": True}, {"name": "disjoint-polynet", "degree": 3},
                                     0.03, 16, 3000)
    assert frac >= 0.75, steps


def test_single_sinusoidal_neuron_without_second_layer_learns_a_small_parity():
    # (xiv): u = 1 fixed, trainable bias.
    model = {"name": "single-neuron", "activation": "sinusoidal", "trainable_output": False, "bias": True}
    frac, steps = converged_fraction({"n": 8, "k": 3}, model, 0.1, 16, 2000)
    assert frac >= 0.75, steps
