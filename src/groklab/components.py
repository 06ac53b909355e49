"""Imports every module that registers a component, so the registries are complete."""
from __future__ import annotations

_done = False


def ensure_registered() -> None:
    global _done
    if _done:
        return
    import groklab.experiments  # noqa: F401
    import groklab.losses  # noqa: F401
    import groklab.models  # noqa: F401
    import groklab.optimizers  # noqa: F401
    import groklab.probes  # noqa: F401
    import groklab.tasks  # noqa: F401

    _done = True
