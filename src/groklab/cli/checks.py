"""`check` (claim checks with verdicts) and `list` (registered components)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from groklab.cli.app import VERDICT_STYLE, WORKERS_HELP, app, out
from groklab.cli.executor_options import with_executor_options


def check_cmd(
    suite: str = typer.Argument(..., help="hidden-progress | barren-plateau | why-grok | all (every claim)"),
    full: bool = typer.Option(False, "--full", help="exactly the spec's setting of every claim (seeds, n, budgets; "
                              "some are GPU-scale) instead of the quick scale, which may use fewer seeds, a smaller "
                              "budget or a smaller n and says so in its setting column"),
    claim: list[str] = typer.Option([], "--claim", help="only these claim numbers (repeatable)"),
    store: Path = typer.Option(Path("results/checks"), "--store"),
    workers: Optional[int] = typer.Option(None, "--workers", help=WORKERS_HELP),
    as_json: bool = typer.Option(False, "--json"),
    list_only: bool = typer.Option(False, "--list", help="name the claims that would run, without running them"),
) -> None:
    """Run a paper's claim checks (or every claim: `all`): claim, setting (what ran), measured value,
    threshold, verdict. PASS / FAIL against the spec's threshold; INFO for a number reported without
    one. Only PASS is green; the exit code is 1 if any row FAILs (INFO rows never fail a run). The
    verdicts are also written to the store's `claim-verdicts` table."""
    from groklab.checks.suite import run_suite, selected_checks

    if list_only:
        checks = selected_checks(suite, set(claim) or None)
        if as_json:
            print(json.dumps([{"suite": name, "claim": c.claim, "title": c.title} for name, c in checks]))
            return
        table = Table(title=f"{suite} claims")
        for column in ("claim", "suite", "title"):
            table.add_column(column)
        for name, c in checks:
            table.add_row(c.claim, name, c.title)
        out.print(table)
        return
    results = run_suite(suite, "full" if full else "quick", store, workers, set(claim) or None)
    if as_json:
        print(json.dumps([r.as_dict() for r in results]))
    else:
        table = Table(title=f"{suite} checks ({'full' if full else 'quick'} scale)")
        for column in ("claim", "setting", "measured", "threshold", "verdict"):
            table.add_column(column)
        for r in results:
            table.add_row(r.claim, r.setting, r.measured, r.threshold or "none (reported only)",
                          f"[{VERDICT_STYLE[r.verdict]}]{r.verdict}")
        out.print(table)
    if any(r.verdict == "FAIL" for r in results):  # INFO rows never fail a run
        raise typer.Exit(1)


app.command("check")(with_executor_options(check_cmd))


@app.command("list")
def list_cmd() -> None:
    """Registered tasks, models, losses, optimizers and experiments, with versions."""
    from groklab import registry
    from groklab.catalog import load_all

    load_all()
    table = Table(title="groklab components")
    for column in ("kind", "name", "version", "description"):
        table.add_column(column)
    for kind, reg in registry.ALL.items():
        for entry in reg:
            table.add_row(kind, entry.name, entry.version, entry.description)
    out.print(table)
