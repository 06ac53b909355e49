"""Imports every module that registers a component (task, model, loss, optimizer, probe), so the
component registries are complete. Recipes and checks are loaded by `groklab.catalog`."""
from __future__ import annotations

_done = False


def ensure_registered() -> None:
    global _done
    if _done:
        return
    import groklab.losses  # noqa: F401
    import groklab.models  # noqa: F401
    import groklab.optimizers  # noqa: F401
    import groklab.probes  # noqa: F401
    import groklab.tasks  # noqa: F401

    _done = True
