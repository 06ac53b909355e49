"""Recipe experiments: `groklab run NAME` for every registered experiment with an options class.

An experiment is a function `run(options, store, workers, quiet) -> dict` registered with
`@experiment(name, OptionsClass, description)`. Its options are a frozen pydantic model whose
defaults are the quick CPU recipe (paper scale through larger values); the CLI builds one command
per experiment from those fields, so a new experiment needs no CLI code. The returned summary is
JSON-serializable and holds at least:

- "claim": what the experiment tests (spec claim numbers),
- "verdict": "PASS", "FAIL" or "n/a",
- "figures": the paths of the figures it wrote,

plus its measured numbers.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from groklab import registry
from groklab.errors import GroklabInputError
from groklab.store import Store

ExperimentFn = Callable[..., dict]


class ExperimentOptions(BaseModel):
    """Base of every experiment's options: frozen, unknown fields rejected."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    seed: int = Field(0, ge=0, description="base seed; trial i of a config uses keys from (seed, i)")


def experiment(name: str, options: type[ExperimentOptions], description: str, version: str = "1"):
    """Register `run(options, store, workers, quiet) -> summary` as experiment `name`."""

    def decorate(run: ExperimentFn) -> ExperimentFn:
        return registry.experiments.register(name, version=version, spec_class=options,
                                             description=description)(run)

    return decorate


def recipe_experiments() -> list:
    """Registered experiments driven by an options class (the CLI makes a command for each)."""
    from groklab.components import ensure_registered

    ensure_registered()
    return [e for e in registry.experiments if isinstance(e.spec_class, type)
            and issubclass(e.spec_class, ExperimentOptions)]


def build_options(name: str, values: dict) -> ExperimentOptions:
    """Validate `values` into experiment `name`'s options; bad input is one line naming the field."""
    from groklab.specs import build_spec

    entry = registry.experiments.get(name)
    return build_spec(name, entry.spec_class, values)


def run_experiment(name: str, store: Store | Path | str, workers: int | None = None, quiet: bool = True,
                   **values) -> dict:
    """Run a registered recipe experiment from plain option values (the Python API of `groklab run`)."""
    options = build_options(name, values)
    store = store if isinstance(store, Store) else Store(store)
    summary = registry.experiments.get(name).build(options, store, workers, quiet)
    summary.setdefault("experiment", name)
    summary.setdefault("options", options.model_dump(mode="json"))
    summary.setdefault("store", str(store.root))
    return summary


def figure_dir(store: Store) -> Path:
    path = store.root / "figures"
    path.mkdir(parents=True, exist_ok=True)
    return path


__all__ = ["ExperimentOptions", "experiment", "recipe_experiments", "build_options", "run_experiment",
           "figure_dir", "ValidationError", "GroklabInputError"]
