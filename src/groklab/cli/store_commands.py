"""`groklab store ...`: commands over a results store as files."""
from __future__ import annotations

from pathlib import Path

import typer

from groklab.cli.app import app, store_app


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


@app.command("report")
def report_cmd(store: Path = typer.Option(..., "--store", help="results directory"),
               out: Path = typer.Option(None, "--out", help="HTML file to write (default STORE/report.html)")) -> None:
    """One self-contained HTML page (no network, no JavaScript) for a store: the claim verdicts,
    then every experiment's figures, outcomes, configs, seeds and versions."""
    from groklab.report import build_report

    print(build_report(store, out))
