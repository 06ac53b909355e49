"""Commands over sweeps and stores: `sweep`, `query`, `plot`."""
from __future__ import annotations

import json
import sys
from enum import Enum
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from groklab.cli.app import DEFAULT_STORE, WORKERS_HELP, app, jsonable, out
from groklab.cli.executor_options import with_executor_options
from groklab.errors import GroklabInputError


class OutputFormat(str, Enum):
    table = "table"
    csv = "csv"
    json = "json"


def sweep_cmd(
    file: Path = typer.Argument(..., help="sweep file (TOML): list-valued fields are grid axes"),
    store: Path = typer.Option(DEFAULT_STORE, "--store"),
    workers: Optional[int] = typer.Option(None, "--workers", help=WORKERS_HELP),
    chunk_size: Optional[int] = typer.Option(None, "--chunk-size"),
    executor_file_fields: Optional[dict] = None,
) -> None:
    """Run every grid point x trial of a sweep file; finished trials are never recomputed. The
    file's [executor] table (e.g. executor = "slurm", slurm_partition = "cpu") chooses how; the
    executor flags given on the command line override its fields."""
    from groklab.executors import executor_options, make_executor, using
    from groklab.plan import load_sweep, sweep_executor
    from groklab.runner import execute_plan
    from groklab.store import Store

    plan, file_chunk_size = load_sweep(file)
    if workers is not None and workers < 0:
        raise GroklabInputError(f"workers: must be >= 0 (got {workers})")
    if chunk_size is not None and chunk_size <= 0:
        raise GroklabInputError(f"chunk_size: must be a positive integer (got {chunk_size})")
    table = sweep_executor(file) or {}
    flags = executor_file_fields or {}
    try:
        options = executor_options(**{**table, "workers": workers, **flags})
    except GroklabInputError as err:
        field = str(err).split(":", 1)[0]
        raise GroklabInputError(f"executor.{err}" if field in table and field not in flags else str(err)) from None
    if options.executor == "local":
        stats = execute_plan(plan, Store(store), workers, chunk_size or file_chunk_size)
    else:
        with using(make_executor(options)):
            stats = execute_plan(plan, Store(store), workers, chunk_size or file_chunk_size)
    ran = "ran" if stats["finished"] else "submitted"
    out.print(f"{plan.experiment}: {len(plan.configs)} configs x {plan.trials} trials; {ran} {stats['trials_run']}, "
              f"already done {stats['trials_skipped']}; {stats['wall_seconds']:.1f} s; executor {stats['executor']}; "
              f"store {store}")


app.command("sweep")(with_executor_options(sweep_cmd, from_file=True))


@app.command("query")
def query_cmd(
    sql: str = typer.Argument(..., help="SQL over the views `trials`, `curves` and `all_trials`"),
    store: Path = typer.Option(DEFAULT_STORE, "--store"),
    fmt: OutputFormat = typer.Option(OutputFormat.table, "--format"),
) -> None:
    """Query a store with DuckDB, e.g. "SELECT task_n, median(convergence_step) FROM trials GROUP BY 1".
    Read-only and confined to the store: statements that write, attach, load or read other files fail."""
    from groklab.store import Store

    relation = Store(store).query(sql)
    if relation is None:
        raise GroklabInputError("sql: the statement returned no rows (use a SELECT)")
    result = relation.to_arrow_table()
    if fmt is OutputFormat.json:
        print(json.dumps(result.to_pylist(), default=jsonable))
    elif fmt is OutputFormat.csv:
        import pyarrow.csv as pacsv

        pacsv.write_csv(result, sys.stdout.buffer)
    else:
        table = Table()
        for name in result.column_names:
            table.add_column(name)
        for row in result.to_pylist():
            table.add_row(*(f"{v:.4g}" if isinstance(v, float) else str(v) for v in row.values()))
        out.print(table)


class PlotKind(str, Enum):
    curves = "curves"
    histogram = "histogram"
    scaling = "scaling"


@app.command("plot")
def plot_cmd(
    kind: PlotKind = typer.Argument(..., help="curves | histogram | scaling"),
    store: Path = typer.Option(DEFAULT_STORE, "--store"),
    where: str = typer.Option("TRUE", "--where", help="SQL condition on the trials table, e.g. \"task_n = 50\""),
    output: Path = typer.Option(..., "--out", help="PNG file to write"),
    max_trials: int = typer.Option(8, "--max-trials", help="curves: how many trials to draw"),
) -> None:
    """Figures from a store: training curves, t_c histogram, or t_c vs task_n with a power-law fit."""
    from groklab import analysis, figures
    from groklab.store import Store
    from groklab.store.views import run_query

    con = Store(store).connect()
    rows = run_query(con, f"SELECT config_hash, seed, trial_index, task_n, converged, convergence_step, "
                          f"train_max_steps FROM trials WHERE {where} ORDER BY task_n, trial_index",
                     field="where").fetchall()
    if not rows:
        raise GroklabInputError(f"where: no trials match {where!r}")
    steps = [r[5] if r[4] else None for r in rows]
    budget = max(r[6] for r in rows)
    if kind is PlotKind.histogram:
        path = figures.plot_convergence_histogram(steps, output, budget=budget)
    elif kind is PlotKind.scaling:
        steps_by_n: dict[int, list] = {}
        for r, s in zip(rows, steps):
            steps_by_n.setdefault(int(r[3]), []).append(s)
        fit = analysis.fit_power_law(sorted(steps_by_n), steps_by_n, budget=budget)
        path = figures.plot_scaling(fit, steps_by_n, output)
    else:
        chosen = rows[:max_trials]
        keys = [(r[0], r[1], r[2]) for r in chosen]
        # Number the chosen trials 0..m-1 (they may come from different configs and seeds).
        table = con.sql("SELECT k.pos AS trial_index, c.* EXCLUDE (trial_index) FROM curves c JOIN "
                        "(SELECT unnest($1) AS h, unnest($2) AS s, unnest($3) AS i, unnest(range(len($1))) AS pos) k "
                        "ON c.config_hash = k.h AND c.seed = k.s AND c.trial_index = k.i ORDER BY 1, step",
                        params=[[k[0] for k in keys], [k[1] for k in keys], [k[2] for k in keys]]).to_arrow_table()
        curves = {name: table.column(name).to_numpy(zero_copy_only=False) for name in table.column_names}
        path = figures.plot_training_curves(curves, output, max_trials=max_trials)
    out.print(f"wrote {path}")
