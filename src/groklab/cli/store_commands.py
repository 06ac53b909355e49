"""`groklab store ...`: commands over a results store as files."""
from __future__ import annotations

from pathlib import Path

import typer

from groklab.cli.app import store_app


@store_app.command("verify")
def verify_cmd(store: Path = typer.Argument(..., help="results directory to check")) -> None:
    """Check every chunk (schema, row counts, curves vs trials, each trial once per run key) and
    leftovers (orphan curves, temporary files): one line per problem and exit 1, else a summary."""
    from groklab.store.verify import summary_line, verify_store

    report = verify_store(store)
    for problem in report.problems:
        print(problem)
    if not report.ok:
        raise typer.Exit(1)
    print(summary_line(store, report))
