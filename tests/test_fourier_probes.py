"""Exact-value tests for groklab.probes.fourier and groklab.probes.population_gradient (spec section 1.6, claims 10-11)."""
from __future__ import annotations

import itertools
import math
from decimal import Decimal

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from groklab.probes.fourier import (
    character_values,
    coefficient,
    fourier_coefficients,
    fourier_gap,
    index_to_subset,
    majority_coefficients,
    majority_level_coefficient,
    sign_vectors,
    subset_levels,
    subset_to_index,
    walsh_hadamard,
    walsh_hadamard_jax,
)
from groklab.probes.population_gradient import (
    activation_derivative_coefficients,
    get_activation,
    monte_carlo_population_gradient,
    population_gradient_single_neuron,
    population_gradient_single_neuron_jax,
    prop5_threshold_mask,
    prop5_threshold_support,
    recover_support,
)
from groklab.tasks.bits import all_sign_vectors


def brute_force_coefficients(values: np.ndarray, n: int) -> np.ndarray:
    """f_hat(T) = mean_x f(x) prod_{j in T} x_j, straight from the definition (O(4^n))."""
    x = sign_vectors(n)
    out = np.empty(2**n)
    for m in range(2**n):
        chi = np.prod(x[:, list(index_to_subset(m))], axis=1)
        out[m] = np.mean(values * chi)
    return out


# ---------------------------------------------------------------- conventions

def test_sign_vectors_match_tasks_bits_ordering():
    np.testing.assert_array_equal(sign_vectors(5), np.asarray(all_sign_vectors(5), dtype=np.float64))
    assert sign_vectors(3)[0b101].tolist() == [-1.0, 1.0, -1.0]  # bit j set <-> x_j = -1


def test_subset_index_round_trip_and_levels():
    assert subset_to_index((0, 2, 5)) == 0b100101
    assert index_to_subset(0b100101) == (0, 2, 5)
    assert subset_to_index(()) == 0 and index_to_subset(0) == ()
    np.testing.assert_array_equal(subset_levels(3), [0, 1, 1, 2, 1, 2, 2, 3])
    with pytest.raises(ValueError):
        subset_to_index((1, 1))


# ---------------------------------------------------------------- Walsh-Hadamard transform

def test_wht_equals_brute_force_on_random_function_n6():
    values = np.random.default_rng(0).normal(size=2**6)
    np.testing.assert_allclose(walsh_hadamard(values), brute_force_coefficients(values, 6), rtol=0, atol=1e-14)


def test_wht_of_character_is_indicator_of_its_subset():
    n = 7
    for subset in [(), (3,), (0, 2), (1, 4, 6), tuple(range(n))]:
        expected = np.zeros(2**n)
        expected[subset_to_index(subset)] = 1.0
        np.testing.assert_array_equal(walsh_hadamard(character_values(n, subset)), expected)


def test_wht_parseval_and_inverse():
    values = np.random.default_rng(1).normal(size=2**8)
    coeffs = walsh_hadamard(values)
    assert np.sum(coeffs**2) == pytest.approx(np.mean(values**2), rel=1e-13)
    # Applying the transform twice gives f / 2^n (H^2 = 2^n I); f = sum_T f_hat(T) chi_T.
    np.testing.assert_allclose(walsh_hadamard(coeffs) * 2**8, values, atol=1e-12)


def test_wht_keeps_batch_axes_and_rejects_non_power_of_two():
    batch = np.random.default_rng(2).normal(size=(3, 2, 2**5))
    out = walsh_hadamard(batch)
    assert out.shape == batch.shape
    np.testing.assert_allclose(out[2, 1], walsh_hadamard(batch[2, 1]))
    with pytest.raises(ValueError, match="power of two"):
        walsh_hadamard(np.ones(12))


def test_jax_wht_matches_numpy_under_jit_and_vmap():
    rng = np.random.default_rng(3)
    batch = rng.choice([-1.0, 1.0], size=(5, 2**9)).astype(np.float32)  # +-1 data: float32 is exact
    expected = walsh_hadamard(batch)
    np.testing.assert_array_equal(np.asarray(jax.jit(walsh_hadamard_jax)(batch[0])), expected[0])
    np.testing.assert_array_equal(np.asarray(jax.vmap(walsh_hadamard_jax)(jnp.asarray(batch))), expected)
    real = rng.normal(size=2**9).astype(np.float32)
    np.testing.assert_allclose(np.asarray(walsh_hadamard_jax(real)), walsh_hadamard(real), atol=1e-6)


def test_fourier_coefficients_of_callables_and_coefficient_lookup():
    n = 6
    coeffs = fourier_coefficients(lambda x: 3.0 * x[:, 1] * x[:, 4] - 0.5 + x[:, 2], n)
    assert coefficient(coeffs, (1, 4)) == 3.0 and coefficient(coeffs, (4, 1)) == 3.0
    assert coefficient(coeffs, ()) == -0.5 and coefficient(coeffs, (2,)) == 1.0
    assert np.count_nonzero(coeffs) == 3
    jax_coeffs = fourier_coefficients(lambda x: jnp.prod(jnp.asarray(x)[:, :3], axis=1), n)  # JAX callable
    assert coefficient(jax_coeffs, (0, 1, 2)) == 1.0 and np.count_nonzero(jax_coeffs) == 1


# ---------------------------------------------------------------- majority

@pytest.mark.parametrize("n", [7, 9, 11])
def test_majority_coefficients_closed_form_and_parseval(n):
    coeffs = majority_coefficients(n)
    levels = subset_levels(n)
    level1 = math.comb(n - 1, (n - 1) // 2) / 2 ** (n - 1)
    np.testing.assert_array_equal(coeffs[levels == 1], level1)
    np.testing.assert_allclose(coeffs[levels == 3], -level1 / (n - 2), rtol=1e-15)
    assert np.all(coeffs[levels % 2 == 0] == 0.0)  # Maj is odd
    for level in range(n + 1):  # every level is constant and equals O'Donnell Thm 5.19
        np.testing.assert_array_equal(coeffs[levels == level], float(majority_level_coefficient(n, level)))
    assert np.sum(coeffs**2) == pytest.approx(1.0, abs=1e-14)
    exact_total = sum(math.comb(n, j) * majority_level_coefficient(n, j) ** 2 for j in range(n + 1))
    assert exact_total == 1


# ---------------------------------------------------------------- exact population gradient (Prop 5 table)

# Spec section 1.6 table, as printed: (n, k) -> (relevant, largest irrelevant).
SPEC_TABLE = {
    (11, 2): ("0.1230", "0.01367"),
    (15, 2): ("0.1047", "0.00806"),
    (15, 4): ("0.00806", "0.00220"),
    (13, 4): ("0.01025", "0.00342"),
}


def matches_printed(value: float, printed: str) -> bool:
    """True when value rounds to the printed decimal (tolerance half a unit in its last printed place)."""
    half_unit = Decimal(1).scaleb(Decimal(printed).as_tuple().exponent) / 2
    return abs(Decimal(repr(value)) - Decimal(printed)) <= half_unit


@pytest.mark.parametrize(("n", "k"), list(SPEC_TABLE))
def test_exact_relu_gradient_matches_spec_table(n, k):
    support = tuple(range(1, 2 * k, 2))  # a non-prefix S, to exercise indexing
    grad = population_gradient_single_neuron(n, support, w=1.0)
    relevant = np.abs(grad[list(support)])
    irrelevant = np.abs(np.delete(grad, support))
    assert np.all(relevant == relevant[0]) and np.all(irrelevant == irrelevant[0])  # symmetric at w = 1
    printed_rel, printed_irr = SPEC_TABLE[(n, k)]
    assert matches_printed(float(relevant[0]), printed_rel), relevant[0]
    assert matches_printed(float(irrelevant.max()), printed_irr), irrelevant.max()
    # Exactly: relevant = |Maj_hat_{k-1}|/2 and irrelevant = |Maj_hat_{k+1}|/2, since sigma' = (1 + Maj)/2.
    assert relevant[0] == abs(float(majority_level_coefficient(n, k - 1))) / 2
    assert irrelevant[0] == abs(float(majority_level_coefficient(n, k + 1))) / 2
    assert relevant[0] / irrelevant[0] == pytest.approx((n - k) / (k - 1), rel=1e-12)
    assert set(np.asarray(recover_support(grad, k)).tolist()) == set(support)


def test_correlation_gradient_is_minus_sigma_prime_coefficient_at_s_xor_i():
    n, support = 9, (0, 3, 7)
    w = np.random.default_rng(4).normal(size=n)
    grad = population_gradient_single_neuron(n, support, w, b=0.3)
    coeffs = activation_derivative_coefficients(n, w, b=0.3)
    s_mask = subset_to_index(support)
    expected = [-coeffs[s_mask ^ (1 << i)] for i in range(n)]
    np.testing.assert_allclose(grad, expected, rtol=0, atol=1e-15)


@pytest.mark.parametrize("activation", ["relu", "sin", "square"])
@pytest.mark.parametrize("loss", ["correlation", "hinge", "square", "cross_entropy"])
def test_exact_gradient_equals_brute_force_mean(activation, loss):
    n, support = 8, (2, 5)
    rng = np.random.default_rng(5)
    w, b = 0.4 * rng.normal(size=n), 0.2
    x = sign_vectors(n)
    y = np.prod(x[:, list(support)], axis=1)
    z = x @ w + b
    act = get_activation(activation)
    f = act.value(z, np)
    dl = {
        "correlation": -y,
        "hinge": np.where(y * f < 1, -y, 0.0),
        "square": 2 * (f - y),
        "cross_entropy": -y / (1 + np.exp(y * f)),
    }[loss]
    expected = np.mean((dl * act.derivative(z, np))[:, None] * x, axis=0)
    grad = population_gradient_single_neuron(n, support, w, b, activation=activation, loss=loss)
    np.testing.assert_allclose(grad, expected, rtol=0, atol=1e-14)
    grad_jax = population_gradient_single_neuron_jax(n, support, w, b, activation=activation, loss=loss)
    np.testing.assert_allclose(np.asarray(grad_jax), expected, rtol=0, atol=2e-6)


@pytest.mark.parametrize(("n", "k"), [(11, 3), (15, 3), (13, 5)])
def test_odd_k_without_bias_has_exactly_zero_gradient(n, k):
    grad = population_gradient_single_neuron(n, tuple(range(k)), w=1.0)
    assert np.all(grad == 0.0)  # k-1 and k+1 are even: the even-level coefficients of Maj vanish
    biased = population_gradient_single_neuron(n, tuple(range(k)), w=1.0, b=2.0)
    assert np.all(np.abs(biased[:k]) > 1e-3)  # a bias (shifting the threshold past an odd value) breaks it


@pytest.mark.parametrize(("n", "k"), [(11, 2), (15, 2), (13, 4), (15, 4), (15, 6)])
def test_level_ratio_for_relu_at_all_ones(n, k):
    coeffs = activation_derivative_coefficients(n, 1.0)  # (1 + Maj_n)/2
    np.testing.assert_array_equal(coeffs[1:], majority_coefficients(n)[1:] / 2)
    assert coeffs[0] == 0.5
    levels = subset_levels(n)
    xi_below, xi_above = coeffs[levels == k - 1][0], coeffs[levels == k + 1][0]
    assert abs(xi_below) / abs(xi_above) == pytest.approx((n - k) / (k - 1), rel=1e-12)


# ---------------------------------------------------------------- gamma-Fourier gap (Def 1)

def test_fourier_gap_of_relu_derivative_holds_for_15_2():
    n, support = 15, (4, 9)
    gap = fourier_gap(activation_derivative_coefficients(n, 1.0), support, n)
    assert gap.holds and gap.gamma > 0
    assert gap.gamma == math.comb(14, 7) / 2**15  # |Maj_hat_1| / 2 = 0.1047...
    assert gap.max_outer == gap.gamma / (n - 2)
    assert gap.ratio == pytest.approx(13.0)
    assert gap.weakest_inner in {(4,), (9,)} and len(gap.strongest_outer) == 3
    assert gap.gamma >= 0.03 * (n - 1) ** (-(2 - 1) / 2)  # [dist] lower bound on gamma


@pytest.mark.parametrize(("n", "k", "holds"), [(13, 4, True), (15, 4, True), (7, 4, False), (11, 3, False)])
def test_fourier_gap_boundaries(n, k, holds):
    gap = fourier_gap(activation_derivative_coefficients(n, 1.0), tuple(range(k)), n)
    # Ratio (n-k)/(k-1) must reach 2: (7,4) gives 1 < 2; odd k gives gamma = 0.
    assert gap.holds is holds
    if holds:
        assert gap.gamma >= 0.03 * (n - 1) ** (-(k - 1) / 2)


def test_prop5_threshold_recovers_support_from_exact_gradient():
    n, support = 13, (0, 5, 6, 12)
    gap = fourier_gap(activation_derivative_coefficients(n, 1.0), support, n)
    grad = population_gradient_single_neuron(n, support, w=1.0)
    assert prop5_threshold_support(grad, gap.gamma) == support
    assert np.asarray(prop5_threshold_mask(grad, gap.gamma)).nonzero()[0].tolist() == list(support)


# ---------------------------------------------------------------- claim 11: one big-batch Monte-Carlo step

def test_claim11_monte_carlo_gradient_recovers_support_in_95_of_100_trials():
    n, k, support, samples = 15, 2, (3, 11), 20_000
    keys = jax.random.split(jax.random.PRNGKey(11), 100)
    estimate = jax.vmap(
        lambda key: monte_carlo_population_gradient(n, support, 1.0, samples=samples, key=key)
    )(keys)
    recovered = np.asarray(recover_support(estimate.mean, k))
    successes = int(np.sum(np.all(recovered == np.array(support), axis=1)))
    assert successes >= 95, successes
    # The estimates scatter around the exact gradient as their standard errors say.
    exact = population_gradient_single_neuron(n, support, w=1.0)
    z_scores = (np.asarray(estimate.mean) - exact) / np.asarray(estimate.stderr)
    assert abs(np.mean(z_scores)) < 0.1 and 0.9 < np.std(z_scores) < 1.1
    assert np.all(np.asarray(estimate.stderr) > 0)


def test_monte_carlo_is_deterministic_in_key_and_rejects_bad_input():
    key = jax.random.PRNGKey(0)
    a = monte_carlo_population_gradient(9, (1, 2), 1.0, samples=1000, key=key)
    b = monte_carlo_population_gradient(9, (1, 2), 1.0, samples=1000, key=key)
    np.testing.assert_array_equal(np.asarray(a.mean), np.asarray(b.mean))
    with pytest.raises(ValueError):
        monte_carlo_population_gradient(9, (1, 9), 1.0, samples=1000, key=key)
    with pytest.raises(ValueError):
        population_gradient_single_neuron(9, (0,), 1.0, activation="tanh")


def test_exact_jax_gradient_vmaps_over_weights():
    n, support = 10, (1, 8)
    ws = np.random.default_rng(6).normal(size=(4, n)).astype(np.float32)
    grads = jax.vmap(lambda w: population_gradient_single_neuron_jax(n, support, w, activation="sin"))(ws)
    for w, g in zip(ws, np.asarray(grads)):
        exact = population_gradient_single_neuron(n, support, w.astype(np.float64), activation="sin")
        np.testing.assert_allclose(g, exact, atol=2e-6)


def test_recover_support_batches_and_all_subsets_of_small_cube():
    n, k = 9, 2
    for support in itertools.combinations(range(n), k):  # every S, exact gradient at w = 1
        grad = population_gradient_single_neuron(n, support, w=1.0)
        assert tuple(np.asarray(recover_support(grad, k)).tolist()) == support
