"""Barak et al. claims 1 and 2 at the issue's scale: real runs, thresholds from the spec."""
from __future__ import annotations

import pytest

from groklab.experiments.parity import run_parity
from groklab.experiments.parity_scaling import (
    EXPONENT_RANGE,
    run_parity_scaling,
    scaling_configs,
)
from groklab.store import Store

TRIALS = 32


@pytest.fixture(scope="module")
def scaling(tmp_path_factory):
    store = Store(tmp_path_factory.mktemp("claims"))
    configs = scaling_configs([20, 30, 40, 50], k=3, width=100, batch=32, lr=0.1, max_steps=20_000)
    summary = run_parity_scaling(configs, seed=0, trials=TRIALS, store=store, workers=2, quiet=True)
    return store, configs, summary


def test_claim1_50_3_converges_after_a_plateau(scaling):
    store, configs, _ = scaling
    summary = run_parity(configs[-1], seed=0, trials=TRIALS, store=store, workers=2, quiet=True)
    assert summary["trials_run_now"] == 0  # already trained by the scaling run: same config, same store
    assert summary["solved"] >= 0.9 * TRIALS
    assert 4200 / 2 <= summary["median_convergence_step"] <= 4200 * 2  # [cal] median 4.2k
    assert summary["plateau_accuracy_at_half_tc"] <= 0.55  # the plateau: chance accuracy at t_c / 2
    assert all(step is None or step % 100 == 0 for step in summary["convergence_steps"])


def test_claim2_tc_grows_as_a_power_of_n_with_a_ci(scaling):
    _, _, summary = scaling
    medians = [summary["per_n"][n]["median_convergence_step"] for n in (20, 30, 40, 50)]
    assert medians == sorted(medians) and medians[0] < medians[-1]  # monotone in n
    fit = summary["fit"]
    low, high = EXPONENT_RANGE
    assert low <= fit["exponent"] <= high  # [cal] about 2.1
    assert fit["ci_low"] < fit["exponent"] < fit["ci_high"]
    assert fit["ci_high"] - fit["ci_low"] < 1.0
    assert summary["verdict"] == "PASS"
