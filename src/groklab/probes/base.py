"""Probes: named measurements of (model, task, params, initial params, task state) for one trial,
computed at every evaluation inside the compiled evaluation and recorded as curve columns."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from groklab.protocols import Measure, Model, Task
from groklab.specs import Spec


class ProbeSpec(Spec):
    """A probe has no hyper-parameters yet: its spec is its registered name (checked against the
    registry by make_config)."""


def accepts_any(task: Task, model: Model) -> None:
    """The default `check`: the probe measures every task and model."""


@dataclass(frozen=True)
class MeasurementProbe:
    """A `Probe` made of a measurement and the check of what it can measure."""

    measure: Measure
    check: Callable[[Task, Model], None] = accepts_any

    def __call__(self, model: Model, task: Task, params: Any, init_params: Any, task_state: Any) -> dict:
        return self.measure(model, task, params, init_params, task_state)
