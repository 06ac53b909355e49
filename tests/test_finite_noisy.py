"""Finite-sample grokking (claim 16) and noisy parity (claim 17): real small runs asserting numbers.

Sizes are reduced so the default suite stays fast: (12,3) for the m x lambda split (evaluated
exactly over all 2^12 inputs) and (12,2) for label noise.
"""
from __future__ import annotations

import json

import pytest

from groklab.catalog import run_experiment
from groklab.errors import GroklabInputError
from groklab.papers.hidden_progress.recipes.finite_sample import (
    FAILS_TO_GENERALIZE,
    FAILS_TO_TRAIN,
    GROKKING,
    NO_GAP,
    SMALL_GAP,
    classify,
)
from groklab.papers.hidden_progress.recipes.noisy_parity import noise_amplification
from groklab.store import Store


def test_classify_orders_the_outcomes():
    assert classify(None, None, 5, 2) == FAILS_TO_TRAIN
    assert classify(500, None, 5, 2) == FAILS_TO_GENERALIZE
    assert classify(500, 900, 5, 2) == NO_GAP
    assert classify(None, 900, 5, 2) == NO_GAP  # generalized before fitting every training point
    assert classify(500, 1500, 5, 2) == SMALL_GAP
    assert classify(500, 2500, 5, 2) == GROKKING


def test_noise_amplification_is_one_over_eps_squared():
    assert noise_amplification(0.0) == 1.0
    assert noise_amplification(0.25) == pytest.approx(4.0)
    assert noise_amplification(0.49) == pytest.approx(2500.0)


@pytest.mark.parametrize("name, values, field", [
    ("finite-sample-grokking", {"samples": (0, 100)}, "finite-sample-grokking.samples"),
    ("finite-sample-grokking", {"weight_decays": (-0.1,)}, "finite-sample-grokking.weight_decays"),
    ("finite-sample-grokking", {"max_steps": 1000, "eval_every": 300}, "finite-sample-grokking.max_steps"),
    ("finite-sample-grokking", {"n": 2, "k": 3}, "finite-sample-grokking.k"),
    ("finite-sample-grokking", {"weight_decay_mode": "both"}, "finite-sample-grokking.weight_decay_mode"),
    ("noisy-parity", {"label_noise": (0.1, 0.5)}, "noisy-parity.label_noise"),
    ("noisy-parity", {"batch_sizes": (0,)}, "noisy-parity.batch_sizes"),
])
def test_bad_options_fail_before_work_naming_the_field(tmp_path, name, values, field):
    with pytest.raises(GroklabInputError, match=f"^{field}: "):
        run_experiment(name, tmp_path / "store", workers=0, **values)
    assert not (tmp_path / "store" / "chunks").exists()


@pytest.fixture(scope="module")
def finite_grid(tmp_path_factory):
    """(12,3): m in {100, 1000} x lambda in {0, 0.01}, one seed each, 8k steps (about 25 s)."""
    store = Store(tmp_path_factory.mktemp("finite"))
    summary = run_experiment("finite-sample-grokking", store, workers=0, n=12, k=3, samples=(100, 1000),
                             weight_decays=(0.0, 0.01), max_steps=8000, eval_every=100, check_small_m=100,
                             check_large_m=1000)
    return store, summary


def _point(summary: dict, samples: int, weight_decay: float) -> dict:
    return next(p for p in summary["points"] if p["samples"] == samples and p["weight_decay"] == weight_decay)


def test_small_m_with_weight_decay_groks(finite_grid):
    _, summary = finite_grid
    point = _point(summary, 100, 0.01)
    assert point["outcomes"] == [GROKKING]
    (t_train,), (t_test,) = point["t_train"], point["t_test"]
    assert t_train <= 600 and t_test >= 5 * t_train  # fits in hundreds of steps, generalizes thousands later
    assert point["final_train_accuracy"] == [1.0] and point["final_test_accuracy"][0] >= 0.99


def test_small_m_without_weight_decay_memorizes(finite_grid):
    _, summary = finite_grid
    point = _point(summary, 100, 0.0)
    assert point["outcomes"] == [FAILS_TO_GENERALIZE] and point["t_test"] == [None]
    assert point["final_train_accuracy"] == [1.0]
    assert point["final_test_accuracy"][0] < 0.8  # memorized: far from the 0.99 target


def test_large_m_shows_no_gap_and_the_verdict_passes(finite_grid):
    store, summary = finite_grid
    for weight_decay in (0.0, 0.01):
        point = _point(summary, 1000, weight_decay)
        assert point["outcomes"] == [NO_GAP] and point["t_test"][0] <= 2 * point["t_train"][0]
    assert summary["verdict"] == "PASS"
    assert [c["passed"] for c in summary["checked_points"]] == [True, True, True]
    json.dumps(summary)  # the summary is JSON-serializable
    assert len(summary["figures"]) == 2 and all((store.root / "figures").glob("*.png"))
    again = run_experiment("finite-sample-grokking", store, workers=0, n=12, k=3, samples=(100, 1000),
                           weight_decays=(0.0, 0.01), max_steps=8000, eval_every=100, check_small_m=100,
                           check_large_m=1000)
    assert again["trials_run_now"] == 0 and again["points"] == summary["points"]  # read back from the store


def test_verdict_is_info_when_a_check_point_is_missing(finite_grid):
    store, _ = finite_grid
    summary = run_experiment("finite-sample-grokking", store, workers=0, n=12, k=3, samples=(100, 1000),
                             weight_decays=(0.01,), max_steps=8000, eval_every=100, check_small_m=100)
    assert summary["trials_run_now"] == 0  # same configs as the fixture's
    assert summary["verdict"] == "INFO"  # lambda = 0 is not in the grid


def test_noisy_parity_reaches_95_percent_noiseless_accuracy(tmp_path):
    """(12,2), q in {0, 0.2}, 4 seeds: every seed reaches 0.95 on the exact noiseless population,
    and noise slows learning down."""
    summary = run_experiment("noisy-parity", tmp_path, workers=0, n=12, k=2, label_noise=(0.0, 0.2),
                             batch_sizes=(32,), trials=4, max_steps=20_000)
    clean, noisy = sorted(summary["points"], key=lambda p: p["label_noise"])
    assert clean["success_rate"] == 1.0 and noisy["success_rate"] == 1.0
    assert min(noisy["final_accuracy"]) >= 0.95
    assert noisy["median_steps_to_target"] >= clean["median_steps_to_target"]
    assert summary["verdict"] == "INFO"  # q = 0.1, the claim's check point, was not run
    assert len(summary["figures"]) == 2
    json.dumps(summary)


@pytest.mark.slow
def test_quick_checks_for_claims_16_and_17_pass(tmp_path):
    """The spec's own check points at quick scale (about 2 minutes on 2 cores)."""
    from groklab.checks.suite import run_suite

    results = run_suite("hidden-progress", "quick", tmp_path, workers=0, claims={"16", "17"})
    assert [r.claim for r in results] == ["16", "16", "16", "17", "17", "17"]  # claim 17: B = 16, 32, 128
    for r in results:
        assert r.passed, r
        assert any(ch.isdigit() for ch in r.measured)
