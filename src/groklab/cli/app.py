"""The `groklab` Typer application and what its commands share: output, common options."""
from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from groklab.store.layout import jsonable

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Run, measure and report many-trial experiments on hard algorithmic targets.")
run_app = typer.Typer(no_args_is_help=True, help="Run a registered experiment (one command per recipe).")
store_app = typer.Typer(no_args_is_help=True, help="Inspect a results store.")
app.add_typer(run_app, name="run")
app.add_typer(store_app, name="store")
out = Console()

DEFAULT_STORE = Path("results")
WORKERS_HELP = "worker processes, one pinned single-threaded process per core (default: all cores; 0 = in-process)"
VERDICT_STYLE = {"PASS": "green", "FAIL": "red", "INFO": "yellow"}  # only PASS is green


def emit(summary: dict, as_json: bool, title: str) -> None:
    """A summary as one JSON object, or as a key/value table."""
    if as_json:
        print(json.dumps(summary, default=jsonable))
        return
    table = Table(title=title, show_header=False)
    for key, value in summary.items():
        if isinstance(value, list) and len(value) > 12:
            value = f"[{', '.join(map(str, value[:12]))}, ...] ({len(value)} values)"
        elif isinstance(value, dict):
            value = json.dumps(value, default=jsonable)
        elif isinstance(value, float):
            value = f"{value:.4g}"
        table.add_row(key, str(value))
    out.print(table)
