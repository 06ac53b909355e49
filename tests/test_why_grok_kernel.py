"""The eNTK (two implementations, finite differences, the closed form of the regression network),
the `entk` probe's input checks, and the kernel regime of Mohamadi et al. App B at small p."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from groklab.config import make_config
from groklab.errors import GroklabInputError
from groklab.papers.why_grok import kernel_regime as kr
from groklab.probes.entk_gram import entk_gram, gram_by_jacobian, gram_by_ntvp, parameter_count

P, WIDTH = 5, 7


@pytest.fixture(scope="module")
def network():
    rng = np.random.default_rng(0)
    w, v = kr.uniform_init(P, WIDTH, rng)
    triples = np.stack(np.unravel_index(rng.permutation(P**3)[:24], (P, P, P)), axis=1)
    return w, v, triples


def g(params, triples):
    """The regression predictor e_c^T V (W[a] + W[p + b])^2 in JAX, for the generic eNTK."""
    h = params["w"][triples[:, 0]] + params["w"][P + triples[:, 1]]
    return jnp.sum(h**2 * params["v"][:, triples[:, 2]].T, axis=1)


def relative(a, b):
    return float(np.linalg.norm(np.asarray(a, np.float64) - b) / np.linalg.norm(b))


def test_the_two_implementations_agree_blocked_or_not(network):
    w, v, triples = network
    params = {"w": jnp.asarray(w, jnp.float32), "v": jnp.asarray(v, jnp.float32)}
    x = jnp.asarray(triples)
    reference = np.asarray(gram_by_jacobian(g, params, x), np.float64)
    tiny_budget = 4 * 3 * parameter_count(params) * 2  # two rows per block: forces 12 row blocks
    for gram in (gram_by_ntvp(g, params, x), gram_by_jacobian(g, params, x, tiny_budget),
                 gram_by_ntvp(g, params, x, tiny_budget), entk_gram(g, params, x)):
        assert relative(gram, reference) < 1e-5
    assert reference.shape == (24, 24) and np.allclose(reference, reference.T, rtol=1e-5)


def test_the_gram_matches_finite_differences_and_the_closed_form(network):
    w, v, triples = network
    theta = np.concatenate([w.ravel(), v.ravel()])

    def outputs(flat):
        return kr.outputs(flat[: w.size].reshape(w.shape), flat[w.size:].reshape(v.shape), triples)

    step = 1e-6
    jacobian = np.stack([(outputs(theta + step * e) - outputs(theta - step * e)) / (2 * step)
                         for e in np.eye(theta.size)], axis=1)
    finite_differences = jacobian @ jacobian.T
    closed_form = kr.ntk(w, v, triples, triples)
    assert relative(closed_form, finite_differences) < 1e-7
    params = {"w": jnp.asarray(w, jnp.float32), "v": jnp.asarray(v, jnp.float32)}
    assert relative(entk_gram(g, params, jnp.asarray(triples), "jacobian"), finite_differences) < 1e-5


def test_rank_is_min_n_3p_minus_2_h_and_full_rank_interpolates():
    n = kr.regression_size(P)  # 75 triples: singular up to h = 5 < 75 / 13
    below, at = kr.kernel_fit_at_init(P, 5, n, seed=1), kr.kernel_fit_at_init(P, 6, n, seed=1)
    assert (below.rank, at.rank) == (kr.rank_bound(P, 5, n), n) == (65, 75)
    assert below.train_mse > 1e-3 and at.train_mse < 1e-20 and at.lambda_min > 0
    assert at.test_mse >= P / 2


def test_expected_kernel_formula_is_the_monte_carlo_limit():
    rng = np.random.default_rng(3)
    triples, _ = kr.split_triples(P, 40, rng)
    bound = 1 / np.sqrt(2 * P)
    average = kr.neuron_kernel(rng.uniform(-bound, bound, (2 * P, 200_000)), triples) / 200_000
    expected = kr.expected_neuron_kernel(triples, bound**2 / 3, kr.UNIFORM_KURTOSIS)
    assert relative(average, expected) < 0.01
    wrong_kurtosis = kr.expected_neuron_kernel(triples, bound**2 / 3, 3.0)  # a Gaussian's: must not match
    assert relative(average, wrong_kurtosis) > 0.05


def _config(**probe):
    return make_config({"name": "modular-addition", "p": 11, "train_fraction": 0.5}, {"name": "wg-quadratic"},
                       optimizer={"name": "normalized-gd"}, train={"batch_size": None},
                       probes=[{"name": "entk", **probe}])


@pytest.mark.parametrize("probe, message", [
    ({"points": 61}, "probes.entk.points: 61 probe points but the training set has 60"),
    ({"output": "scalar"}, "probes.entk.output: 'scalar' needs a one-output model"),
    ({"points": 0}, "probes.entk.points"),
    ({"method": "svd"}, "probes.entk.method"),
])
def test_probe_input_is_checked_before_any_work(probe, message):
    assert _config(points=60).probes[0].points == 60  # the whole training set (round(0.5 * 121) pairs)
    with pytest.raises(GroklabInputError, match=message):
        _config(**probe)


def test_probe_spec_changes_the_hash_and_a_name_only_table_does_not():
    plain = make_config({"name": "modular-addition", "p": 11}, {"name": "wg-quadratic"}, probes=["entk"])
    table = make_config({"name": "modular-addition", "p": 11}, {"name": "wg-quadratic"}, probes=[{"name": "entk"}])
    sized = make_config({"name": "modular-addition", "p": 11}, {"name": "wg-quadratic"},
                        probes=[{"name": "entk", "points": 32}])
    assert plain.config_hash() == table.config_hash() != sized.config_hash()
    assert jax.tree.leaves(sized.flat()["probes_names"]) == ['{"memory_mb": 64.0, "method": "auto", "name": "entk", '
                                                             '"output": "auto", "points": 32}']
    assert make_config({"name": "modular-addition", "p": 11}, {"name": "wg-quadratic"},
                       probes=[{"name": "entk", "points": "all"}]).probes[0].points == "all"


def test_generic_entk_regression_matches_the_exact_one():
    rng = np.random.default_rng(4)
    train, test = kr.split_triples(P, kr.regression_size(P), rng)
    w, v = kr.uniform_init(P, 4 * P, rng)
    exact = kr.ridgeless_regression(kr.ntk(w, v, train, train), kr.ntk(w, v, test, train), kr.targets(train, P),
                                    kr.targets(test, P), kr.outputs(w, v, train), kr.outputs(w, v, test))
    params = {"w": jnp.asarray(w, jnp.float32), "v": jnp.asarray(v, jnp.float32)}
    generic = kr.entk_fit(g, params, train, kr.targets(train, P), test, kr.targets(test, P))
    assert generic.rank == exact.rank == len(train)
    assert abs(generic.test_mse - exact.test_mse) < 1e-3 * exact.test_mse
    assert generic.train_mse < 1e-6 and exact.train_mse < 1e-20


@pytest.mark.parametrize("task, output", [({"name": "modular-addition", "p": P}, "first-logit"),
                                          ({"name": "modular-addition", "p": P}, "pntk"),
                                          ({"name": "modular-regression", "p": P}, "scalar")])
def test_the_closed_form_ntk_of_the_quadratic_network_is_the_generic_one(task, output):
    from groklab.config import build_components
    from groklab.probes.entk import gram, scalar_output

    config = make_config(task, {"name": "wg-quadratic", "width": WIDTH})
    _, model = build_components(config)
    task_object, _ = build_components(config)
    params = model.init(jax.random.key(2))
    x, _ = task_object.train_set(task_object.init_state(jax.random.key(3)))
    x = x[:30]
    exact = np.asarray(gram(model, output, params, x, "exact", 2**26), np.float64)
    generic = gram_by_jacobian(scalar_output(model, output), params, x)
    assert relative(generic, exact) < 1e-5
    assert relative(gram(model, output, params, x, "ntvp", 2**26), exact) < 1e-5


def test_float64_parameters_get_float64_grams_from_both_methods(network):
    w, v, triples = network
    with jax.enable_x64(True):
        params = {"w": jnp.asarray(w, jnp.float64), "v": jnp.asarray(v, jnp.float64)}
        x = jnp.asarray(triples)
        by_products, by_jacobian = gram_by_ntvp(g, params, x), gram_by_jacobian(g, params, x)
        assert by_products.dtype == by_jacobian.dtype == jnp.float64
        assert relative(by_products, kr.ntk(w, v, triples, triples)) < 1e-12
