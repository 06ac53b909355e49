"""`groklab check SUITE`: every claim of a paper as a PASS/FAIL check with its measured number.
Every module in this package is imported, so a new check module registers itself."""
import importlib
import pkgutil

from groklab.checks.base import SUITES, CheckResult

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["SUITES", "CheckResult", "run_suite"]


def run_suite(suite: str, scale, root, workers=None, claims=None):
    from groklab.errors import GroklabInputError

    if suite not in SUITES:
        raise GroklabInputError(f"suite: unknown check suite {suite!r} (known: {', '.join(sorted(SUITES))})")
    results = []
    for check in sorted(SUITES[suite], key=lambda c: int(c.claim)):  # registered from several modules
        if claims and check.claim not in claims:
            continue
        results.extend(check.run(scale, root, workers))
    return results
