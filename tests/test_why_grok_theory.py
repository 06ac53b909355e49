"""Theory tools of Mohamadi et al. 2024: the exact m-summand spectra of App D.5 (claim 22), Prop
E.7's error bound on trained and crafted predictors (claim 24) and Thm 3.1's width thresholds
(claim 20, [cal2] numbers)."""
from __future__ import annotations

import math

import numpy as np
import pytest

from groklab.errors import GroklabInputError
from groklab.papers.why_grok.bounds import (
    interpolation_width,
    largest_singular_width,
    paper_singular_width,
    singular_width,
    zero_one_error_bound,
)
from groklab.papers.why_grok.spectra import (
    compare_spectra,
    correlation_by_enumeration,
    correlation_closed_form,
    summand_class,
)


@pytest.mark.parametrize("m", [2, 3])
def test_exact_spectra_at_p5_match_the_closed_forms(m):
    r = compare_spectra(5, m, "class")
    assert r.functions == {2: 120, 3: 17280}[m]
    assert r.entry_error <= 1e-12  # Lemma D.10, entry by entry
    assert r.top_eigenvalue == pytest.approx(5 ** (m - 2), abs=1e-9)
    assert r.trace == pytest.approx(5 ** (m - 1), abs=1e-9)
    assert r.decomposition_error <= 1e-12  # eq. D.10: Sigma = J/p^2 + (I-P) Sigma (I-P)
    # Lemma D.9's bound e^((m-1)/(p-1))/p vs the exact (1/p)(p/(p-1))^(m-1): 0.2568 vs 0.25, 0.3297 vs 0.3125
    assert r.complement_max == pytest.approx(0.2 * 1.25 ** (m - 1), abs=1e-12)
    assert r.complement_max < r.complement_bound
    assert r.top_slack >= 0 and r.tail_slack >= 0  # Lemma D.7 and Cor D.8 at every n
    assert 0.9 < r.top_ratio < 1  # D.7 is nearly attained: a bound off by 10% would show
    assert r.vacuous_from == {2: 16, 3: 61}[m]


def test_correlations_by_enumeration_are_lemma_d10():
    assert [correlation_by_enumeration(5, 3, d) for d in range(4)] == pytest.approx(
        [correlation_closed_form(5, d) for d in range(4)], abs=1e-15)
    assert correlation_closed_form(5, 1) == 0  # one differing coordinate: never both on the solution set
    assert correlation_closed_form(5, 2) == pytest.approx(1 / 20)  # 1 / (p (p - 1))
    assert compare_spectra(5, 3, "entries").entry_error <= 1e-12


def test_the_class_is_the_relabelled_addition_table():
    functions = summand_class(3, 3)
    assert functions.shape == (12, 27)
    assert np.all(functions.reshape(-1, 3, 3, 3).sum(axis=3) == 1)  # one c per (a, b): a Latin square
    identity = ((np.arange(3)[:, None, None] + np.arange(3)[None, :, None]) % 3 == np.arange(3)).ravel()
    assert any(np.array_equal(f, identity) for f in functions)


def test_spectra_reject_bad_input_before_any_work():
    with pytest.raises(GroklabInputError, match="^p:"):
        compare_spectra(4, 2)
    with pytest.raises(GroklabInputError, match="^m:"):
        summand_class(7, 3)  # 4e8 functions: too many to list
    with pytest.raises(GroklabInputError, match="^m:"):
        compare_spectra(11, 4, "entries")  # 14641^2 dense entries
    with pytest.raises(GroklabInputError, match="^method:"):
        compare_spectra(3, 2, "sampled")


def _exact(p: int) -> tuple[np.ndarray, np.ndarray]:
    labels = (np.arange(p * p) // p + np.arange(p * p) % p) % p
    return p * np.eye(p)[labels], labels


def test_e7_is_attained_by_half_way_ties_and_ties_count_as_errors():
    p = 7
    scores, labels = _exact(p)
    wrong = np.arange(0, p * p, 5)  # 10 of the 49 pairs
    scores[wrong, labels[wrong]] = p / 2
    scores[wrong, (labels[wrong] + 1) % p] = p / 2  # the cheapest misclassification: p^2/2 per pair
    r = zero_one_error_bound(scores, labels)
    assert r.error == pytest.approx(10 / 49) and r.l2_loss == pytest.approx(10 * p**2 / 2 / p**3)
    assert r.bound == pytest.approx(r.error, rel=1e-12) and r.holds  # equality: E.7 is tight
    scores[wrong, labels[wrong]] += 1e-6  # the label now wins by a hair: no errors, the same bound
    untied = zero_one_error_bound(scores, labels)
    assert untied.error == 0 and untied.bound == pytest.approx(r.bound)


def test_e7_needs_the_p_scaled_target():
    """A predictor fitted to the unit target 1(a+b=c) with half-way ties violates 2L/p when L is
    measured against its own scale: the bound is 2 p L / s^2 for a target of scale s."""
    p = 7
    scores, labels = _exact(p)
    scores /= p
    wrong = np.arange(0, p * p, 3)
    scores[wrong, labels[wrong]] = scores[wrong, (labels[wrong] + 2) % p] = 0.5
    unit = zero_one_error_bound(scores, labels, target_scale=1)
    assert unit.bound == pytest.approx(unit.error, rel=1e-12)
    assert unit.error > 2 * unit.l2_loss / p  # the paper's formula, misapplied, fails by a factor p^2
    assert zero_one_error_bound(scores, labels).holds  # against the p-scaled target it holds (vacuously)


def test_e7_on_the_construction_is_zero():
    from groklab.papers.why_grok.construction import all_pairs, fourier_construction

    p = 7
    params = fourier_construction(p)
    x, labels = all_pairs(p)
    r = zero_one_error_bound(((x @ params["w"]) ** 2) @ params["v"], labels, target_scale=4 * p)
    assert r.error == 0 and r.bound < 1e-20


def test_e7_holds_on_a_trained_net_at_every_checkpoint():
    from groklab.papers.why_grok.regression_checkpoints import all_pair_labels, train_with_checkpoints

    # the claim-24 check's tiny setting (p = 7, lr 1e-2, eval every 25): its compiled steps are shared
    checkpoints = train_with_checkpoints(7, round(0.8 * 7**3), 100, 25, lr=1e-2)
    bounds = [zero_one_error_bound(c.scores, all_pair_labels(7)) for c in checkpoints]
    assert [c.step for c in checkpoints] == [0, 25, 50, 75, 100]
    assert all(b.holds for b in bounds)
    assert bounds[0].bound > 1.5 and bounds[-1].bound < 0.8  # vacuous at init, informative after training
    assert checkpoints[-1].train_loss < 0.1 * checkpoints[0].train_loss


def test_e7_rejects_bad_outputs():
    scores, labels = _exact(5)
    with pytest.raises(GroklabInputError, match="^labels:"):
        zero_one_error_bound(scores, labels[:-1])
    scores[0, 0] = np.nan
    with pytest.raises(GroklabInputError, match="^scores:"):
        zero_one_error_bound(scores, labels)


def test_thm_3_1_width_thresholds_match_cal2():
    assert largest_singular_width(441, 11) == 14  # [cal2]: singular up to h = 14, positive definite from 15
    assert largest_singular_width(642, 13) == 17  # up to 17, from 18
    assert singular_width(441, 11) == pytest.approx(441 / 31)
    assert paper_singular_width(441, 11) == pytest.approx(441 / 33)  # the paper's n/(3p): 13.4, looser
    assert paper_singular_width(642, 13) < singular_width(642, 13)
    assert interpolation_width(50, 642, 0.1) == pytest.approx(36 * 50 * math.log(6420))
    with pytest.raises(GroklabInputError, match="^delta:"):
        interpolation_width(50, 642, 1.5)
    with pytest.raises(GroklabInputError, match="^n:"):
        singular_width(0, 11)
