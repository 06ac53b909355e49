"""Claim checks: each runs a real experiment at some scale and compares measured numbers with the
claim's threshold (spec/paper-claims.md). A failing claim is reported with its number, never tuned
away; a number without a threshold is INFO, never PASS.

Scales. `full` runs exactly the setting of the claim in the spec (seeds, n, k, widths, batch sizes,
budgets); `quick` may use fewer seeds, a smaller budget or a smaller n (and says so in its setting
column, which is built from the options that actually ran). The CLI offers these two. `tiny` and
`starved` are for tests: `tiny` runs every check with minimal seeds and budgets (a few hundred
steps on n <= 12), `starved` is `tiny` with every training budget cut to one evaluation interval,
so that nothing converges: the degenerate case, which must give FAIL rows, never an exception.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Literal, TypeVar

Scale = Literal["tiny", "starved", "quick", "full"]
CLI_SCALES: tuple[Scale, ...] = ("quick", "full")  # what `groklab check` offers
TEST_SCALES: tuple[Scale, ...] = ("tiny", "starved")  # for the contract tests
Verdict = Literal["PASS", "FAIL", "INFO"]
VERDICTS: tuple[Verdict, ...] = ("PASS", "FAIL", "INFO")
T = TypeVar("T")


def at_scale(scale: Scale, *, tiny: T, quick: T, full: T) -> T:
    """The value of a per-scale setting; `starved` runs `tiny`'s (only its budgets differ, see `budget`)."""
    if scale not in ("tiny", "starved", "quick", "full"):
        raise ValueError(f"unknown check scale {scale!r}")
    return {"tiny": tiny, "starved": tiny, "quick": quick, "full": full}[scale]


def budget(scale: Scale, *, tiny: int, quick: int, full: int, eval_every: int) -> int:
    """A training budget in steps; `starved` gets one evaluation interval, too short to converge."""
    return eval_every if scale == "starved" else at_scale(scale, tiny=tiny, quick=quick, full=full)


def plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


@dataclass(frozen=True)
class CheckResult:
    claim: str  # the spec's claim number, e.g. "1" or "11"
    setting: str  # what actually ran (never the spec's text when the quick scale differs)
    measured: str
    threshold: str | None  # the spec's threshold; None: the number is reported only (INFO)
    passed: bool | None  # None exactly when there is no threshold

    def __post_init__(self) -> None:
        if (self.threshold is None) != (self.passed is None):
            raise ValueError(f"claim {self.claim}: a threshold needs a pass/fail outcome and a reported-only "
                             "number (threshold None) must not have one")
        if self.passed is not None:
            object.__setattr__(self, "passed", bool(self.passed))  # numpy bools are not JSON-serializable

    @classmethod
    def info(cls, claim: str, setting: str, measured: str) -> "CheckResult":
        """A number reported without a threshold."""
        return cls(claim, setting, measured, None, None)

    @property
    def verdict(self) -> Verdict:
        if self.passed is None:
            return "INFO"
        return "PASS" if self.passed else "FAIL"

    def as_dict(self) -> dict:
        return {"claim": self.claim, "setting": self.setting, "measured": self.measured,
                "threshold": self.threshold, "verdict": self.verdict}


@dataclass(frozen=True)
class Check:
    claim: str
    title: str
    run: Callable[[Scale, Path, int | None], list[CheckResult]]  # (scale, store root, workers)
    trains: bool = True  # False: nothing is trained, so `starved` is the same run as `tiny`


SUITES: dict[str, list[Check]] = {}


def register(suite: str, claim: str, title: str, trains: bool = True):
    def decorate(run):
        SUITES.setdefault(suite, []).append(Check(claim, title, run, trains))
        return run

    return decorate
