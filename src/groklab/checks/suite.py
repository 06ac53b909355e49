"""Run a paper's claim checks in claim order."""
from __future__ import annotations

from pathlib import Path

from groklab.catalog import load_all
from groklab.checks.base import SUITES, CheckResult, Scale, at_scale
from groklab.errors import GroklabInputError


def run_suite(suite: str, scale: Scale, root: Path, workers: int | None = None,
              claims: set[str] | None = None) -> list[CheckResult]:
    load_all()
    at_scale(scale, tiny=None, quick=None, full=None)  # an unknown scale fails before any work
    if suite not in SUITES:
        raise GroklabInputError(f"suite: unknown check suite {suite!r} (known: {', '.join(sorted(SUITES))})")
    known = {check.claim for check in SUITES[suite]}
    if claims and not claims <= known:
        unknown = sorted(claims - known, key=lambda c: (len(c), c))[0]
        raise GroklabInputError(f"claim: {suite} has no claim {unknown!r} (known: "
                                f"{', '.join(sorted(known, key=int))})")
    results = []
    for check in sorted(SUITES[suite], key=lambda c: int(c.claim)):  # registered from several modules
        if claims and check.claim not in claims:
            continue
        results.extend(check.run(scale, Path(root), workers))
    return results
