"""Theory of Hidden Progress: Thm 7 closed form, exact disjoint-PolyNet error, kernel baseline, Thm 4, checks."""
from pathlib import Path

import jax
import numpy as np
import pytest

from groklab.papers.hidden_progress import theory as T
from groklab.probes.kernel_baseline import random_feature_accuracy


@pytest.mark.parametrize("k", [3, 4, 5])
def test_closed_form_matches_ode(k):
    ts = np.linspace(0.0, 0.9 / (k - 2), 12)
    w = T.integrate_disjoint_polynet(ts, k, 5)
    assert np.abs(w[:, :, 0] - T.disjoint_polynet_relevant_weight(ts, k)[:, None]).max() < 1e-6
    assert np.abs(w[:, :, 1:] - 1.0).max() == 0.0  # irrelevant weights stay exactly at 1
    v = T.disjoint_polynet_relevant_weight(ts, k)
    assert np.allclose(T.disjoint_polynet_time_to_weight(v, k), ts, atol=1e-12)


def test_error_at_zero_and_monotone():
    for n_prime in (1, 2, 7, 10, 31):
        for k in (3, 4):
            assert T.disjoint_polynet_error(0.0, n_prime, k) == 0.5
            errs = [T.disjoint_polynet_error(v, n_prime, k) for v in np.linspace(0, n_prime + 1, 57)]
            assert np.all(np.diff(errs) <= 1e-15)
            assert errs[-1] == 0.0


def test_error_by_hand():
    # n' = 1: the block is v x_1, correct for any v > 0, a coin flip at v = 0.
    assert T.disjoint_polynet_error(0.3, 1, 3) == 0.0
    # n' = 2, k = 3, v = 1: block 1*x1 + x2 ties (coin flip) w.p. 1/2, so q = 1/4 and
    # err = P[odd number of 3 blocks disagree] = (1 - (1/2)^3)/2 = 7/16.
    assert T.disjoint_polynet_error(1.0, 2, 3) == pytest.approx(7 / 16, abs=1e-15)
    # n' = 3, v = 0.5: s in {-2, 0, 2} w.p. 1/4, 1/2, 1/4; disagree iff s = -2, q = 1/4; k = 3 -> 7/16.
    assert T.disjoint_polynet_error(0.5, 3, 3) == pytest.approx(7 / 16, abs=1e-15)


def test_time_ratio_grows():
    r3 = [T.time_ratio(m, 3) for m in (100, 300, 1000)]
    assert r3 == sorted(r3) and 0 < r3[0] < r3[-1] < 1
    assert T.time_ratio(10, 3) == 0.0  # all-ones init already below 0.49 error: no plateau at n' = 10
    assert T.weight_reaching_error(0.0, 50, 3) == 49.0


def test_majority_coefficient_matches_table():
    assert T.majority_relu_coefficient(11, 1) == pytest.approx(0.1230, abs=5e-5)
    assert T.majority_relu_coefficient(13, 3) == pytest.approx(0.01025, abs=5e-6)


def test_kernel_baseline_fails_on_hard_parity_but_fits_easy_one():
    assert random_feature_accuracy(20, 4, 500, 5000, 4000, seed=0) <= 0.6
    assert random_feature_accuracy(10, 2, 2000, 4000, 4000, seed=0) >= 0.95


def test_one_step_features_recover_support():
    assert T.one_step_features(11, 2, 16 * 11**2, jax.random.key(0), support=(3, 7)) >= 0.9
    with pytest.raises(ValueError):
        T.one_step_features(11, 3, 100, jax.random.key(0))


def test_registered_checks_quick(tmp_path: Path):
    import groklab.papers.hidden_progress.checks.claims_12_13_19_theory  # noqa: F401
    from groklab.checks.base import SUITES

    checks = {c.claim: c for c in SUITES["hidden-progress"] if c.claim in ("12", "13", "19")}
    assert set(checks) == {"12", "13", "19"}
    r12 = checks["12"].run("quick", tmp_path, None)
    assert all(r.passed for r in r12), r12
    r13 = checks["13"].run("quick", tmp_path, None)
    assert all(r.passed for r in r13), r13
    r19 = checks["19"].run("quick", tmp_path, None)
    # Claim 19 does NOT reproduce with B = n^k exactly: the batch noise (~1/sqrt(B)) beats the gap
    # between relevant and irrelevant gradients for many rows (measured ~0.5 of rows at (15,2), ~0.08 at
    # (13,4)). With B = 16 n^k every row recovers S. Assert both, honestly.
    assert not r19[0].passed and "B = 1*n^k" in r19[0].setting
    assert r19[1].passed and "B = 16*n^k" in r19[1].setting
