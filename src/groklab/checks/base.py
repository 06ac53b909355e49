"""Claim checks: each runs a real experiment at a quick or full scale and compares measured numbers
with the claim's threshold (spec/paper-claims.md). A failing claim is reported with its number,
never tuned away; a number without a threshold is INFO, never PASS."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Literal

Scale = Literal["quick", "full"]
Verdict = Literal["PASS", "FAIL", "INFO"]
VERDICTS: tuple[Verdict, ...] = ("PASS", "FAIL", "INFO")


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


SUITES: dict[str, list[Check]] = {}


def register(suite: str, claim: str, title: str):
    def decorate(run):
        SUITES.setdefault(suite, []).append(Check(claim, title, run))
        return run

    return decorate
