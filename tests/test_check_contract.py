"""The contract of every registered claim check, in both suites (scikit-learn's check_estimator idea:
a check is tested by being registered).

Each check runs at the `tiny` scale (minimal seeds and budgets) and at `starved` (tiny with every
training budget cut to one evaluation interval, so nothing converges). Every run returns at least
one CheckResult whose verdict is PASS, FAIL or INFO, INFO exactly when there is no threshold, whose
measured text has a number and whose setting names what ran; a starved run of a check that trains
gives FAIL rows, never an exception, and its setting differs from the tiny one (it is built from the
options that ran, not from the spec's text). One store is shared by all checks.
"""
from __future__ import annotations

import json
import re

import pytest

from groklab.catalog import load_all
from groklab.checks.base import SUITES, VERDICTS, Check, CheckResult

load_all()
CHECKS = [pytest.param(check, id=f"{suite}-{check.claim}")
          for suite, checks in sorted(SUITES.items()) for check in sorted(checks, key=lambda c: int(c.claim))]
TRAINING = [param for param in CHECKS if param.values[0].trains]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """(check, scale) -> rows, filled as the tests run; one store for every check."""
    root = tmp_path_factory.mktemp("checks")
    cache: dict[tuple[int, str], list[CheckResult]] = {}

    def run(check: Check, scale: str) -> list[CheckResult]:
        key = (id(check), scale)
        if key not in cache:
            cache[key] = check.run(scale, root, 0)
        return cache[key]

    return run


def assert_contract(check: Check, rows: list[CheckResult]) -> None:
    assert rows, f"claim {check.claim} returned no rows"
    for row in rows:
        assert isinstance(row, CheckResult) and row.claim == check.claim
        assert row.verdict in VERDICTS
        assert (row.threshold is None) == (row.verdict == "INFO") == (row.passed is None)
        assert re.search(r"\d", row.measured), row  # a measured number, not just words
        assert re.search(r"\d", row.setting), row  # sizes, seeds, budgets: what ran
        as_dict = json.loads(json.dumps(row.as_dict()))
        assert as_dict["verdict"] == row.verdict and set(as_dict) == {"claim", "setting", "measured", "threshold",
                                                                      "verdict"}


@pytest.mark.parametrize("check", CHECKS)
def test_every_check_at_the_tiny_scale(check, runs):
    assert_contract(check, runs(check, "tiny"))


@pytest.mark.parametrize("check", TRAINING)
def test_a_run_where_nothing_converges_gives_fail_rows(check, runs):
    starved = runs(check, "starved")
    assert_contract(check, starved)
    assert any(row.verdict == "FAIL" for row in starved), [row.measured for row in starved]
    assert {row.setting for row in starved} != {row.setting for row in runs(check, "tiny")}


def test_both_suites_are_registered_with_their_claims():
    claims = {suite: {check.claim for check in checks} for suite, checks in SUITES.items()}
    assert claims["hidden-progress"] == {str(c) for c in range(1, 20)}
    assert claims["barren-plateau"] == {"32", "33", "34", "35", "36"}
    assert claims["why-grok"] == {str(c) for c in range(20, 32)}
    assert len(TRAINING) < len(CHECKS)  # the theory checks train nothing (starved = tiny there)
