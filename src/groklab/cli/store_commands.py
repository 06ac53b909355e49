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


@app.command("status")
def status_cmd(store: Path = typer.Option(..., "--store", help="results directory"),
               as_json: bool = typer.Option(False, "--json", help="print one JSON object")) -> None:
    """Progress of every run recorded in a store (trials done of those planned, per experiment and
    seed), who is writing it, and the SLURM job arrays submitted to it: works while they run and
    after the submitting command has exited."""
    import json

    from rich.table import Table

    from groklab.cli.app import out
    from groklab.errors import GroklabInputError
    from groklab.executors.slurm import recorded_arrays
    from groklab.store.lock import in_use
    from groklab.store.plans import plan_progress

    if not store.is_dir():
        raise GroklabInputError(f"store: {store} is not a directory")
    status = {"store": str(store), "writer": in_use(store), "plans": plan_progress(store),
              "slurm_arrays": recorded_arrays(store)}
    if as_json:
        print(json.dumps(status))
        return
    table = Table(title=f"{store}: {'written by ' + status['writer'] if status['writer'] else 'no writer now'}")
    for column in ("experiment", "seed", "configs", "done", "planned", "missing"):
        table.add_column(column)
    for plan in status["plans"]:
        table.add_row(plan["experiment"], str(plan["seed"]), str(plan["configs"]), str(plan["done"]),
                      str(plan["expected"]), str(plan["expected"] - plan["done"]))
    out.print(table)
    for array in status["slurm_arrays"]:
        out.print(f"job array {array['array']} ({array['cluster']}): {array['experiment']}, {array['chunks']} chunks, "
                  f"{array['trials']} trials, submitted {array['submitted_at']}")
