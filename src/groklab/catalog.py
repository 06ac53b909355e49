"""Everything that registers itself, loaded on demand: components, recipes (generic ones in
`groklab.experiments`, each paper's in `groklab.papers.<paper>.recipes`) and claim checks
(`groklab.papers.<paper>.checks`). A new file in one of those packages registers itself.

The top of the import graph: nothing imports this module at import time except the CLI, so the
packages it walks never form a cycle with it.
"""
from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

from groklab import registry
from groklab.components import ensure_registered
from groklab.experiments.base import ExperimentOptions
from groklab.specs import build_spec
from groklab.store import Store

PACKAGES = ("groklab.experiments", "groklab.papers")
_loaded = False


def load_all() -> None:
    """Import every module of the recipe and check packages (once per process)."""
    global _loaded
    if _loaded:
        return
    ensure_registered()
    for name in PACKAGES:
        package = importlib.import_module(name)
        for module in pkgutil.walk_packages(package.__path__, prefix=f"{name}."):
            importlib.import_module(module.name)
    _loaded = True


def recipe_experiments() -> list:
    """Registered experiments driven by an options class (the CLI makes a command for each)."""
    load_all()
    return [e for e in registry.experiments if issubclass(e.spec_class, ExperimentOptions)]


def build_options(name: str, values: dict) -> ExperimentOptions:
    """Validate `values` into experiment `name`'s options; bad input is one line naming the field."""
    load_all()
    return build_spec(name, registry.experiments.get(name).spec_class, values)


def run_experiment(name: str, store: Store | Path | str, workers: int | None = None, quiet: bool = True,
                   **values) -> dict:
    """Run a registered recipe from plain option values (the Python API of `groklab run NAME`)."""
    options = build_options(name, values)
    store = store if isinstance(store, Store) else Store(store)
    entry = registry.experiments.get(name)
    summary = entry.build(options, store, workers, quiet)
    summary.setdefault("experiment", name)
    summary.setdefault("experiment_version", entry.version)
    summary.setdefault("options", options.model_dump(mode="json"))
    summary.setdefault("store", str(store.root))
    from groklab.store.summaries import record_summary

    record_summary(store.root, name, summary)  # for `groklab report`
    return summary
