"""Probes: named measurements of (model, task, params, initial params, task state) for one trial,
computed at every evaluation inside the compiled evaluation and recorded as curve columns."""
from __future__ import annotations

from typing import Literal

from groklab.specs import Spec


class ProbeSpec(Spec):
    name: Literal["hidden-progress"]
