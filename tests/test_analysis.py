"""Known-answer tests for groklab.analysis and smoke tests for groklab.figures (no JAX needed)."""
from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pytest

from groklab.analysis import (
    PowerLawFit,
    accuracy_at,
    bootstrap_ci,
    censored_steps,
    convergence_summary,
    fit_power_law,
    plateau_accuracy,
)
from groklab.figures import (
    plot_convergence_histogram,
    plot_scaling,
    plot_training_curves,
)

NS = [10, 20, 40, 80, 160]


# ---------------------------------------------------------------- censored steps and summaries

def test_censored_steps_marks_none_minus_one_nan_and_over_budget_as_inf():
    values = censored_steps([5, None, -1, float("nan"), 200, 100], budget=100)
    assert values.tolist() == [5, math.inf, math.inf, math.inf, math.inf, 100]


def test_censored_steps_rejects_other_negative_steps():
    with pytest.raises(ValueError, match=">= 0"):
        censored_steps([3, -2], budget=10)


def test_summary_all_solved_has_exact_median_and_counts():
    summary = convergence_summary([100, 300, 200, 500, 400], budget=1000, n_boot=500)
    assert summary["trials"] == 5 and summary["solved"] == 5 and summary["success_rate"] == 1.0
    assert summary["median_convergence_step"] == 300.0
    assert 100 <= summary["median_ci_low"] <= 300 <= summary["median_ci_high"] <= 500
    assert summary["mean_log_steps"] == pytest.approx(np.mean(np.log([100, 200, 300, 400, 500])))
    json.dumps(summary)  # plain Python values only
    assert all(type(v) in (int, float, type(None)) for v in summary.values())


def test_summary_counts_unsolved_as_infinite_in_the_median():
    two_of_five_unsolved = convergence_summary([100, 200, 300, None, -1], budget=1000, n_boot=200)
    assert two_of_five_unsolved["median_convergence_step"] == 300.0  # 3rd of [100, 200, 300, inf, inf]
    assert two_of_five_unsolved["success_rate"] == pytest.approx(0.6)

    three_of_five_unsolved = convergence_summary([100, 200, None, -1, None], budget=1000, n_boot=200)
    assert three_of_five_unsolved["median_convergence_step"] is None
    assert three_of_five_unsolved["median_ci_high"] is None  # upper bootstrap quantile is infinite

    half_of_four_unsolved = convergence_summary([100, 200, None, None], budget=1000, n_boot=200)
    assert half_of_four_unsolved["median_convergence_step"] is None  # (200 + inf) / 2


def test_summary_with_nothing_solved():
    summary = convergence_summary([None, -1, 5000], budget=1000, n_boot=100)
    assert summary["solved"] == 0 and summary["unsolved"] == 3 and summary["success_rate"] == 0.0
    assert summary["median_convergence_step"] is None
    assert summary["median_ci_low"] is None and summary["median_ci_high"] is None
    assert summary["mean_log_steps"] is None


def test_summary_is_deterministic_given_seed():
    steps = [120, 80, 400, None, 260, 90, 310]
    assert convergence_summary(steps, 1000, seed=3) == convergence_summary(steps, 1000, seed=3)


# ---------------------------------------------------------------- bootstrap

def test_bootstrap_ci_is_ordered_and_brackets_the_statistic():
    values = np.random.default_rng(1).normal(10.0, 2.0, size=200)
    low, high = bootstrap_ci(values, np.median, n_boot=1000, seed=0)
    assert low < np.median(values) < high
    narrow_low, narrow_high = bootstrap_ci(values, np.mean, n_boot=1000, seed=0, level=0.5)
    assert low < narrow_low < narrow_high < high


def test_bootstrap_ci_of_mean_matches_normal_theory():
    values = np.random.default_rng(2).normal(0.0, 1.0, size=400)
    low, high = bootstrap_ci(values, np.mean, n_boot=4000, seed=0)
    assert high - low == pytest.approx(2 * 1.96 / math.sqrt(400), rel=0.15)


def test_bootstrap_ci_of_constant_is_that_constant_and_inf_gives_inf_without_warnings():
    assert bootstrap_ci([7.0] * 9, n_boot=50) == (7.0, 7.0)
    assert bootstrap_ci([math.inf] * 3, n_boot=50) == (math.inf, math.inf)


def test_bootstrap_ci_rejects_bad_arguments():
    with pytest.raises(ValueError):
        bootstrap_ci([], n_boot=10)
    with pytest.raises(ValueError):
        bootstrap_ci([1.0, 2.0], level=1.5)


# ---------------------------------------------------------------- power-law fit

def test_exact_power_law_is_recovered():
    steps_by_n = {n: [3 * n**2] * 5 for n in NS}
    fit = fit_power_law(NS, steps_by_n, budget=10**6, n_boot=200)
    assert fit.exponent == pytest.approx(2.0, abs=1e-9)
    assert fit.prefactor == pytest.approx(3.0, rel=1e-9)
    assert fit.ci_low - 1e-9 <= 2.0 <= fit.ci_high + 1e-9
    assert fit.local_slopes == pytest.approx([2.0] * 4, abs=1e-9)
    assert fit.ns == tuple(NS) and fit.excluded_ns == () and fit.n_boot_used == 200
    assert float(fit.predict(50)) == pytest.approx(3 * 50**2)


def test_noisy_power_law_ci_contains_true_exponent():
    rng = np.random.default_rng(12345)
    true_exponent, true_prefactor = 2.3, 5.0
    steps_by_n = {n: np.round(true_prefactor * n**true_exponent * rng.lognormal(0.0, 0.4, size=40)).astype(int)
                  for n in NS}
    fit = fit_power_law(NS, steps_by_n, budget=10**9, n_boot=1000, seed=0)
    assert fit.ci_low < true_exponent < fit.ci_high
    assert fit.ci_low < fit.exponent < fit.ci_high
    assert fit.ci_high - fit.ci_low < 0.3
    assert abs(fit.exponent - true_exponent) < 0.1


def test_fit_excludes_sizes_whose_median_is_unsolved():
    steps_by_n = {n: [2 * n**3] * 5 for n in NS[:3]}
    steps_by_n[NS[3]] = [2 * NS[3] ** 3, None, None, -1, None]  # 1 solved of 5 -> median inf
    fit = fit_power_law(NS[:4], steps_by_n, budget=10**8, n_boot=100)
    assert fit.excluded_ns == (NS[3],)
    assert fit.ns == tuple(NS[:3])
    assert fit.exponent == pytest.approx(3.0, abs=1e-9)


def test_fit_censors_steps_beyond_budget():
    steps_by_n = {n: [n**2] * 3 for n in NS}
    fit = fit_power_law(NS, steps_by_n, budget=80**2)  # n = 160 needs 25600 > budget
    assert fit.excluded_ns == (160,)


def test_fit_drops_resamples_whose_median_becomes_infinite():
    steps_by_n = {10: [100, 110, 120, 130, 140], 20: [400, 410, 420, None, None]}  # 2 of 5 unsolved
    fit = fit_power_law([10, 20], steps_by_n, budget=10_000, n_boot=500)
    assert 0 < fit.n_boot_used < 500
    assert fit.ci_low <= fit.exponent <= fit.ci_high


def test_fit_needs_two_usable_sizes():
    steps_by_n = {10: [100, 120, 130], 20: [None, None, 400]}
    with pytest.raises(ValueError, match="at least 2 sizes"):
        fit_power_law([10, 20], steps_by_n, budget=1000)
    with pytest.raises(ValueError, match="no trials for n"):
        fit_power_law([10, 30], steps_by_n, budget=1000)


def test_fit_as_dict_is_json_serialisable():
    fit = fit_power_law(NS, {n: [n**2, 2 * n**2] for n in NS}, budget=10**6, n_boot=50)
    restored = json.loads(json.dumps(fit.as_dict()))
    assert restored["ns"] == NS and restored["exponent"] == pytest.approx(2.0)
    assert isinstance(fit, PowerLawFit)


# ---------------------------------------------------------------- curves

def test_accuracy_at_takes_last_evaluation_at_or_before_step():
    steps, accuracy = [0, 100, 200, 300], [0.5, 0.6, 0.7, 1.0]
    assert accuracy_at(steps, accuracy, 0) == 0.5
    assert accuracy_at(steps, accuracy, 150) == 0.6
    assert accuracy_at(steps, accuracy, 200) == 0.7
    assert accuracy_at(steps, accuracy, 10_000) == 1.0
    assert accuracy_at([300, 0, 200, 100], [1.0, 0.5, 0.7, 0.6], 250) == 0.7  # unsorted input
    with pytest.raises(ValueError, match="no evaluation"):
        accuracy_at([100, 200], [0.5, 0.6], 50)


def _hand_built_curves() -> dict[str, np.ndarray]:
    """Trial 0 converges at 400, trial 1 at 200, trial 2 never; evals every 100 steps."""
    accuracy = {0: [0.50, 0.52, 0.55, 0.70, 1.00], 1: [0.50, 0.80, 1.00, 1.00, 1.00], 2: [0.5, 0.5, 0.5, 0.5, 0.5]}
    trial_index = np.repeat([0, 1, 2], 5)
    step = np.tile(np.arange(0, 500, 100), 3)
    val_accuracy = np.concatenate([accuracy[t] for t in (0, 1, 2)])
    train_loss = np.where(step == 0, np.nan, 1.0 / (1 + step))
    return {"trial_index": trial_index, "step": step, "val_accuracy": val_accuracy, "train_loss": train_loss}


def test_plateau_accuracy_on_hand_built_curves():
    curves = _hand_built_curves()
    # t_c/2: trial 0 -> step 200 (0.55), trial 1 -> step 100 (0.80); trial 2 skipped.
    assert plateau_accuracy(curves, {0: 400, 1: 200, 2: -1}) == pytest.approx((0.55 + 0.80) / 2)
    # fraction 0.3: trial 0 -> 120 -> step 100 (0.52); trial 1 -> 60 -> step 0 (0.50).
    assert plateau_accuracy(curves, {0: 400, 1: 200, 2: None}, fraction=0.3) == pytest.approx(0.51)
    assert plateau_accuracy(curves, {2: -1}) is None
    with pytest.raises(ValueError, match="no rows"):
        plateau_accuracy(curves, {7: 100})


# ---------------------------------------------------------------- figures

def _assert_png(path) -> None:
    assert path.exists() and path.stat().st_size > 1000
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_figures_write_png_files(tmp_path):
    curves = _hand_built_curves()
    _assert_png(plot_training_curves(curves, tmp_path / "curves.png", title="parity"))
    without_loss = {k: v for k, v in curves.items() if k != "train_loss"}
    _assert_png(plot_training_curves(without_loss, tmp_path / "sub" / "curves_no_loss.png", max_trials=2))

    rng = np.random.default_rng(0)
    steps_by_n = {n: list((n**2 * rng.lognormal(0, 0.3, 6)).astype(int)) for n in NS}
    steps_by_n[320] = [None] * 6  # excluded from the fit, named in the legend
    fit = fit_power_law(NS + [320], steps_by_n, budget=10**6, n_boot=100)
    _assert_png(plot_scaling(fit, steps_by_n, tmp_path / "scaling.png", title="t_c vs n"))

    _assert_png(plot_convergence_histogram([100, 200, 200, None, -1, 5000], tmp_path / "hist.png", budget=1000))
    _assert_png(plot_convergence_histogram([None, -1], tmp_path / "hist_empty.png"))


def test_analysis_and_figures_do_not_import_jax():
    code = "import sys, groklab.analysis, groklab.figures; sys.exit('jax' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 0
