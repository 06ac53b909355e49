"""Claim checks: each runs a real experiment at a quick or full scale and compares one measured
number with the claim's threshold (spec/paper-claims.md). A failing claim is reported with its
number, never tuned away."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Literal

Scale = Literal["quick", "full"]


@dataclass(frozen=True)
class CheckResult:
    claim: str  # the spec's claim number, e.g. "1" or "11"
    setting: str
    measured: str
    threshold: str
    passed: bool

    def __post_init__(self) -> None:
        object.__setattr__(self, "passed", bool(self.passed))  # numpy bools are not JSON-serializable

    def as_dict(self) -> dict:
        return asdict(self)


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
