"""`groklab` command line. Bad input exits 2 with one line naming the field, before any work."""
from __future__ import annotations

import sys

from groklab.errors import GroklabInputError


def main() -> None:
    from groklab.runtime import configure_process

    configure_process()  # before JAX loads: single-threaded XLA, persistent compile cache
    try:
        from groklab.cli import (  # noqa: F401  (their commands register on import)
            checks,
            data,
            store_commands,
        )
        from groklab.cli.app import app
        from groklab.cli.recipes import add_recipe_commands

        add_recipe_commands()
        app()
    except GroklabInputError as err:
        print(f"error: {err}", file=sys.stderr)
        raise SystemExit(2) from None
