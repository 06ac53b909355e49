"""Run a paper's claim checks in claim order."""
from __future__ import annotations

from pathlib import Path

from groklab.catalog import load_all
from groklab.checks.base import SUITES, Check, CheckResult, Scale, at_scale
from groklab.errors import GroklabInputError

ALL = "all"  # every suite's claims, in claim order


def selected_checks(suite: str, claims: set[str] | None = None) -> list[tuple[str, Check]]:
    """(suite, check) pairs of `suite` (or of every suite for 'all') in claim order, restricted to
    `claims`; an unknown suite or claim fails before any work."""
    load_all()
    if suite != ALL and suite not in SUITES:
        raise GroklabInputError(f"suite: unknown check suite {suite!r} (known: {', '.join(sorted(SUITES))}, {ALL})")
    pairs = [(name, check) for name in (sorted(SUITES) if suite == ALL else [suite]) for check in SUITES[name]]
    known = {check.claim for _, check in pairs}
    if claims and not claims <= known:
        unknown = sorted(claims - known, key=lambda c: (len(c), c))[0]
        raise GroklabInputError(f"claim: {suite} has no claim {unknown!r} (known: "
                                f"{', '.join(sorted(known, key=int))})")
    pairs.sort(key=lambda pair: int(pair[1].claim))  # registered from several modules
    return [(name, check) for name, check in pairs if not claims or check.claim in claims]


def run_suite(suite: str, scale: Scale, root: Path, workers: int | None = None,
              claims: set[str] | None = None, record: bool = True) -> list[CheckResult]:
    """Run the checks; with `record`, their verdicts are merged into the store's `claim-verdicts` table."""
    at_scale(scale, tiny=None, quick=None, full=None)  # an unknown scale fails before any work
    checks = selected_checks(suite, claims)
    results, suite_of = [], {}
    for name, check in checks:
        suite_of[check.claim] = name
        results.extend(check.run(scale, Path(root), workers))
    if record and results:
        from groklab.checks.verdicts import record_verdicts

        record_verdicts(root, suite_of, results, scale)
    return results
