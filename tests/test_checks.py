"""`groklab check hidden-progress` at quick scale (the claims implemented so far)."""
from __future__ import annotations

import pytest

from groklab import GroklabInputError
from groklab.checks.base import SUITES
from groklab.checks.suite import run_suite


def test_quick_checks_pass_with_their_measured_numbers(tmp_path):
    results = run_suite("hidden-progress", "quick", tmp_path, workers=0, claims={"9", "11"})
    assert {r.claim for r in results} == {"9", "11"}
    for r in results:
        assert r.passed, r
        assert any(ch.isdigit() for ch in r.measured)  # a number, not just a verdict


def test_suite_lists_claims_in_order_and_rejects_unknown_suites(tmp_path):
    claims = {check.claim for check in SUITES["hidden-progress"]}
    assert {"1", "2", "9", "11"} <= claims
    with pytest.raises(GroklabInputError, match="suite"):
        run_suite("no-such-paper", "quick", tmp_path)
