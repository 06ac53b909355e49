"""`groklab check`: verdicts PASS / FAIL / INFO, the exit code, --json rows, scales; claim 11 at quick
scale with its real numbers. Every registered check's contract is in test_check_contract.py."""
from __future__ import annotations

import json

import pytest

from groklab import GroklabInputError
from groklab.checks.base import SUITES, Check, CheckResult, at_scale, budget
from groklab.checks.suite import run_suite


def test_quick_check_11_passes_with_its_measured_numbers(tmp_path):
    results = run_suite("hidden-progress", "quick", tmp_path, workers=0, claims={"11"})
    assert [r.claim for r in results] == ["11"] * 4
    for r in results:
        assert r.verdict == "PASS", r
        assert any(ch.isdigit() for ch in r.measured)  # a number, not just a verdict
    assert results[0].measured.startswith("8/8") and results[-1].measured.startswith("100/100")


def test_verdicts_info_iff_no_threshold():
    assert CheckResult("1", "s", "0.5", ">= 0.4", True).verdict == "PASS"
    assert CheckResult("1", "s", "0.5", ">= 0.6", False).verdict == "FAIL"
    info = CheckResult.info("1", "s", "0.5")
    assert info.verdict == "INFO" and info.as_dict()["verdict"] == "INFO" and info.as_dict()["threshold"] is None
    with pytest.raises(ValueError, match="threshold"):
        CheckResult("1", "s", "0.5", None, True)  # a reported-only number cannot pass
    with pytest.raises(ValueError, match="threshold"):
        CheckResult("1", "s", "0.5", ">= 0.6", None)


def test_scales_and_the_starved_budget():
    assert [at_scale(s, tiny=1, quick=2, full=3) for s in ("tiny", "starved", "quick", "full")] == [1, 1, 2, 3]
    assert budget("starved", tiny=500, quick=2000, full=10_000, eval_every=50) == 50  # one evaluation interval
    assert budget("quick", tiny=500, quick=2000, full=10_000, eval_every=50) == 2000
    with pytest.raises(ValueError, match="scale"):
        at_scale("huge", tiny=1, quick=2, full=3)


def test_suite_lists_claims_in_order_and_rejects_unknown_input(tmp_path):
    from groklab.catalog import load_all

    load_all()
    claims = [check.claim for check in SUITES["hidden-progress"]]
    assert {"1", "2", "9", "11"} <= set(claims)
    with pytest.raises(GroklabInputError, match="suite"):
        run_suite("no-such-paper", "quick", tmp_path)
    with pytest.raises(GroklabInputError, match="claim"):
        run_suite("hidden-progress", "quick", tmp_path, claims={"99"})
    with pytest.raises(ValueError, match="scale"):
        run_suite("hidden-progress", "huge", tmp_path, claims={"11"})


@pytest.fixture
def fake_suite(monkeypatch):
    """A suite 'fake' whose checks return fixed rows, so the CLI is tested without training."""

    def install(*rows: CheckResult) -> None:
        checks = [Check(r.claim, f"claim {r.claim}", lambda scale, root, workers, r=r: [r]) for r in rows]
        monkeypatch.setitem(SUITES, "fake", checks)

    return install


def test_cli_exits_1_only_on_fail_and_json_rows_carry_the_verdict(cli, fake_suite, tmp_path):
    from groklab.cli.app import VERDICT_STYLE

    assert [v for v, style in VERDICT_STYLE.items() if "green" in style] == ["PASS"]  # only PASS is green
    fake_suite(CheckResult("1", "(10,2), 2 seeds", "2/2", ">= 1", True), CheckResult.info("2", "p = 7", "0.3"))
    code, out, _ = cli(["check", "fake", "--json", "--store", str(tmp_path)])
    assert code == 0  # INFO rows never fail a run
    rows = json.loads(out)
    assert [(r["claim"], r["verdict"], r["threshold"]) for r in rows] == [("1", "PASS", ">= 1"), ("2", "INFO", None)]
    code, out, _ = cli(["check", "fake", "--store", str(tmp_path)])
    assert code == 0 and "PASS" in out and "INFO" in out and "reported" in out

    fake_suite(CheckResult("1", "(10,2), 2 seeds", "0/2", ">= 1", False), CheckResult.info("2", "p = 7", "0.3"))
    code, out, _ = cli(["check", "fake", "--json", "--store", str(tmp_path)])
    assert code == 1 and [r["verdict"] for r in json.loads(out)] == ["FAIL", "INFO"]


def test_check_all_lists_every_claim_and_verdicts_merge_into_the_store(cli, fake_suite, tmp_path):
    code, out, _ = cli(["check", "all", "--list", "--json"])
    listed = json.loads(out)
    assert code == 0 and [row["claim"] for row in listed] == [str(c) for c in range(1, 37)]
    assert {row["suite"] for row in listed} == {"hidden-progress", "why-grok", "barren-plateau"}
    assert not (tmp_path / "tables").exists()  # --list runs nothing and writes nothing

    from groklab.store import Store

    fake_suite(CheckResult("1", "(10,2)", "2/2", ">= 1", True), CheckResult.info("2", "p = 7", "0.3"))
    cli(["check", "fake", "--json", "--store", str(tmp_path)])
    written = Store(tmp_path).query("SELECT created_at FROM claim_verdicts WHERE claim = '2'").fetchall()
    fake_suite(CheckResult("1", "(10,2)", "0/2", ">= 1", False), CheckResult.info("2", "p = 7", "0.3"))
    code, _, _ = cli(["check", "fake", "--claim", "1", "--json", "--store", str(tmp_path)])
    rows = Store(tmp_path).query("SELECT claim, verdict, scale, suite, groklab_version FROM claim_verdicts "
                                 "ORDER BY claim").fetchall()
    assert code == 1 and [row[:4] for row in rows] == [
        ("1", "FAIL", "quick", "fake"), ("2", "INFO", "quick", "fake")]  # claim 1 replaced, claim 2 kept
    assert Store(tmp_path).query("SELECT created_at FROM claim_verdicts WHERE claim = '2'").fetchall() == written
