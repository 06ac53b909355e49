"""`groklab` command line. Bad input exits 2 with one line naming the field, before any work."""
from __future__ import annotations

import json
import sys
from enum import Enum
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from groklab.errors import GroklabInputError

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Run, measure and report many-trial experiments on hard algorithmic targets.")
run_app = typer.Typer(no_args_is_help=True, help="Run a registered experiment.")
app.add_typer(run_app, name="run")
out = Console()

DEFAULT_STORE = Path("results")
WORKERS_HELP = "worker processes, one pinned single-threaded process per core (default: all cores; 0 = in-process)"


class OutputFormat(str, Enum):
    table = "table"
    csv = "csv"
    json = "json"


def _emit(summary: dict, as_json: bool, title: str) -> None:
    if as_json:
        print(json.dumps(summary, default=_jsonable))
        return
    table = Table(title=title, show_header=False)
    for key, value in summary.items():
        if isinstance(value, list) and len(value) > 12:
            value = f"[{', '.join(map(str, value[:12]))}, ...] ({len(value)} values)"
        elif isinstance(value, dict):
            value = json.dumps(value, default=_jsonable)
        elif isinstance(value, float):
            value = f"{value:.4g}"
        table.add_row(key, str(value))
    out.print(table)


def _jsonable(value):
    try:
        return value.item()
    except AttributeError:
        return str(value)


@run_app.command("parity")
def run_parity_cmd(
    n: int = typer.Option(50, "--n", help="input dimension"),
    k: int = typer.Option(3, "--k", help="parity degree |S|"),
    width: int = typer.Option(100, "--width", help="hidden units r"),
    batch: int = typer.Option(32, "--batch", help="batch size B"),
    lr: float = typer.Option(0.1, "--lr", help="learning rate"),
    trials: int = typer.Option(32, "--trials", help="number of trials E (trial indices 0..E-1)"),
    max_steps: int = typer.Option(20_000, "--max-steps", help="step budget per trial"),
    seed: int = typer.Option(0, "--seed"),
    workers: Optional[int] = typer.Option(None, "--workers", help=WORKERS_HELP),
    store: Path = typer.Option(DEFAULT_STORE, "--store", help="results directory"),
    loss: str = typer.Option("hinge", "--loss", help="hinge | square | logistic | correlation"),
    optimizer: str = typer.Option("sgd", "--optimizer", help="sgd | adam | adamw"),
    weight_decay: float = typer.Option(0.0, "--weight-decay"),
    activation: str = typer.Option("relu", "--activation", help="relu | power (z^degree)"),
    degree: int = typer.Option(2, "--degree", help="k of the z^k activation"),
    init: str = typer.Option("uniform", "--init", help="uniform | gaussian | bernoulli | sign"),
    init_scale: float = typer.Option(1.0, "--init-scale"),
    samples: Optional[int] = typer.Option(None, "--samples", help="finite training set size m (default: online)"),
    label_noise: float = typer.Option(0.0, "--label-noise", help="probability q a training label is flipped"),
    disjoint: bool = typer.Option(False, "--disjoint", help="one support coordinate per block of n/k"),
    eval_every: int = typer.Option(100, "--eval-every"),
    chunk_size: Optional[int] = typer.Option(None, "--chunk-size", help="trials per chunk (default 64)"),
    probe: list[str] = typer.Option([], "--probe", help="record a registered probe at every evaluation "
                                                         "(repeatable), e.g. hidden-progress"),
    as_json: bool = typer.Option(False, "--json", help="print one JSON object"),
) -> None:
    """E independent trials of one (n,k)-sparse-parity config: t_c statistics and figures."""
    from groklab.experiments.parity import run_parity
    from groklab.specs import make_config
    from groklab.store import Store

    _check_run_args(trials, seed, workers, chunk_size)
    config = make_config(
        {"name": "parity", "n": n, "k": k, "samples": samples, "label_noise": label_noise, "disjoint": disjoint},
        {"name": "mlp", "width": width, "activation": activation, "degree": degree, "init": init,
         "init_scale": init_scale},
        loss={"name": loss}, optimizer={"name": optimizer, "lr": lr, "weight_decay": weight_decay},
        train={"batch_size": batch, "max_steps": max_steps, "eval_every": eval_every}, probes=probe)
    summary = run_parity(config, seed, trials, Store(store), workers, chunk_size, quiet=False)
    _emit(summary, as_json, f"({n},{k})-parity, {trials} trials")


@run_app.command("parity-scaling")
def run_parity_scaling_cmd(
    ns: str = typer.Option("20,30,40,50", "--ns", help="comma-separated input dimensions"),
    k: int = typer.Option(3, "--k"),
    width: int = typer.Option(100, "--width"),
    batch: int = typer.Option(32, "--batch"),
    lr: float = typer.Option(0.1, "--lr"),
    trials: int = typer.Option(32, "--trials", help="trials per n"),
    max_steps: int = typer.Option(20_000, "--max-steps"),
    seed: int = typer.Option(0, "--seed"),
    workers: Optional[int] = typer.Option(None, "--workers", help=WORKERS_HELP),
    store: Path = typer.Option(DEFAULT_STORE, "--store"),
    chunk_size: Optional[int] = typer.Option(None, "--chunk-size"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """t_c vs n at fixed k, with a power-law fit, bootstrap CI on the exponent, and its figure."""
    from groklab.experiments.parity_scaling import run_parity_scaling, scaling_configs
    from groklab.store import Store

    try:
        n_values = sorted({int(v) for v in ns.split(",") if v.strip()})
    except ValueError:
        raise GroklabInputError(f"ns: expected comma-separated integers (got {ns!r})") from None
    if len(n_values) < 2:
        raise GroklabInputError("ns: a power-law fit needs at least two values of n")
    _check_run_args(trials, seed, workers, chunk_size)
    configs = scaling_configs(n_values, k, width, batch, lr, max_steps)
    summary = run_parity_scaling(configs, seed, trials, Store(store), workers, chunk_size)
    if as_json:
        _emit(summary, True, "")
        return
    table = Table(title=f"t_c vs n, k={k} ({trials} trials per n)")
    for column in ("n", "solved", "median t_c", "95% CI"):
        table.add_column(column)
    for n, row in summary["per_n"].items():
        ci = f"[{row['median_ci_low']}, {row['median_ci_high']}]"
        table.add_row(str(n), f"{row['solved']}/{row['trials']}", str(row["median_convergence_step"]), ci)
    out.print(table)
    fit = summary["fit"]
    out.print(f"fit: t_c ~ {fit['prefactor']:.3g} * n^{fit['exponent']:.2f}, exponent 95% CI "
              f"[{fit['ci_low']:.2f}, {fit['ci_high']:.2f}]  ->  {summary['verdict']} ({summary['claim']})")
    out.print(f"figure: {summary['figure']}\nstore:  {summary['store']}")


@run_app.command("modular-addition")
def run_modular_addition_cmd(
    p: int = typer.Option(23, "--p", help="prime modulus"),
    train_fraction: float = typer.Option(0.5, "--train-fraction"),
    width: int = typer.Option(256, "--width"),
    lr: float = typer.Option(5e-3, "--lr"),
    weight_decay: float = typer.Option(3.0, "--weight-decay", help="AdamW decoupled weight decay"),
    b2: float = typer.Option(0.98, "--b2", help="AdamW second-moment decay (0.999 stalls generalization)"),
    trials: int = typer.Option(8, "--trials"),
    max_steps: int = typer.Option(2000, "--max-steps"),
    seed: int = typer.Option(0, "--seed"),
    workers: Optional[int] = typer.Option(None, "--workers", help=WORKERS_HELP),
    store: Path = typer.Option(DEFAULT_STORE, "--store"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """(a+b) mod p as p-way classification with full-batch AdamW, through the same engine."""
    from groklab.experiments.modular_addition import modular_addition_config, run_modular_addition
    from groklab.store import Store

    _check_run_args(trials, seed, workers, None)
    config = modular_addition_config(p, train_fraction, width, lr, weight_decay, b2, max_steps)
    summary = run_modular_addition(config, seed, trials, Store(store), workers)
    _emit(summary, as_json, f"(a+b) mod {p}, {trials} trials")


@app.command("sweep")
def sweep_cmd(
    file: Path = typer.Argument(..., help="sweep file (TOML): list-valued fields are grid axes"),
    store: Path = typer.Option(DEFAULT_STORE, "--store"),
    workers: Optional[int] = typer.Option(None, "--workers", help=WORKERS_HELP),
    chunk_size: Optional[int] = typer.Option(None, "--chunk-size"),
) -> None:
    """Run every grid point x trial of a sweep file; finished trials are never recomputed."""
    from groklab.plan import load_sweep
    from groklab.runner import execute_plan
    from groklab.store import Store

    plan, file_chunk_size = load_sweep(file)
    _check_run_args(plan.trials, plan.seed, workers, chunk_size)
    stats = execute_plan(plan, Store(store), workers, chunk_size or file_chunk_size)
    out.print(f"{plan.experiment}: {len(plan.configs)} configs x {plan.trials} trials; ran {stats['trials_run']}, "
              f"already done {stats['trials_skipped']}; {stats['wall_seconds']:.1f} s; store {store}")


@app.command("query")
def query_cmd(
    sql: str = typer.Argument(..., help="SQL over the views `trials` and `curves`"),
    store: Path = typer.Option(DEFAULT_STORE, "--store"),
    fmt: OutputFormat = typer.Option(OutputFormat.table, "--format"),
) -> None:
    """Query a store with DuckDB, e.g. "SELECT task_n, median(convergence_step) FROM trials GROUP BY 1"."""
    import duckdb

    from groklab.store import Store

    con = Store(store).connect()
    try:
        relation = con.sql(sql)
    except duckdb.Error as err:
        raise GroklabInputError(f"sql: {str(err).splitlines()[0]}") from None
    if relation is None:
        raise GroklabInputError("sql: the statement returned no rows (use a SELECT)")
    result = relation.to_arrow_table()
    if fmt is OutputFormat.json:
        print(json.dumps(result.to_pylist(), default=_jsonable))
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
    import duckdb

    from groklab import analysis, figures
    from groklab.store import Store

    con = Store(store).connect()
    try:
        rows = con.sql(f"SELECT config_hash, seed, trial_index, task_n, converged, convergence_step, "
                       f"train_max_steps FROM trials WHERE {where} ORDER BY task_n, trial_index").fetchall()
    except duckdb.Error as err:
        raise GroklabInputError(f"where: {str(err).splitlines()[0]}") from None
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


@app.command("check")
def check_cmd(
    suite: str = typer.Argument(..., help="hidden-progress | barren-plateau"),
    full: bool = typer.Option(False, "--full", help="the full scale (more seeds) instead of the quick one"),
    claim: list[str] = typer.Option([], "--claim", help="only these claim numbers (repeatable)"),
    store: Path = typer.Option(Path("results/checks"), "--store"),
    workers: Optional[int] = typer.Option(None, "--workers", help=WORKERS_HELP),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Run a paper's claim checks and print claim, setting, measured value, threshold, PASS/FAIL.
    Claims not yet implemented are not listed (see the issue notes)."""
    from groklab.checks import run_suite

    results = run_suite(suite, "full" if full else "quick", store, workers, set(claim) or None)
    if as_json:
        print(json.dumps([r.as_dict() for r in results]))
    else:
        table = Table(title=f"{suite} checks ({'full' if full else 'quick'} scale)")
        for column in ("claim", "setting", "measured", "threshold", "verdict"):
            table.add_column(column)
        for r in results:
            table.add_row(r.claim, r.setting, r.measured, r.threshold, "[green]PASS" if r.passed else "[red]FAIL")
        out.print(table)
    if not all(r.passed for r in results):
        raise typer.Exit(1)


@app.command("list")
def list_cmd() -> None:
    """Registered tasks, models, losses, optimizers and experiments, with versions."""
    from groklab import registry
    from groklab.components import ensure_registered

    ensure_registered()
    table = Table(title="groklab components")
    for column in ("kind", "name", "version", "description"):
        table.add_column(column)
    for kind, reg in registry.ALL.items():
        for entry in reg:
            table.add_row(kind, entry.name, entry.version, entry.description)
    out.print(table)


def _check_run_args(trials: int, seed: int, workers: int | None, chunk_size: int | None) -> None:
    if trials <= 0:
        raise GroklabInputError(f"trials: must be a positive integer (got {trials})")
    if seed < 0:
        raise GroklabInputError(f"seed: must be a non-negative integer (got {seed})")
    if workers is not None and workers < 0:
        raise GroklabInputError(f"workers: must be >= 0 (got {workers})")
    if chunk_size is not None and chunk_size <= 0:
        raise GroklabInputError(f"chunk_size: must be a positive integer (got {chunk_size})")


def _recipe_command(entry):
    """A typer command for a recipe experiment, its options built from the options class's fields:
    scalars and Literals as they are, tuples as comma-separated lists."""
    import inspect
    import typing

    def parse_list(field_name: str, text: str, item_type: type):
        try:
            return tuple(item_type(v) for v in text.split(",") if v.strip())
        except ValueError:
            raise GroklabInputError(f"{field_name}: expected comma-separated {item_type.__name__} values "
                                    f"(got {text!r})") from None

    params, list_fields = [], {}
    for field_name, field in entry.spec_class.model_fields.items():
        annotation, default = field.annotation, field.default
        flag = "--" + field_name.replace("_", "-")
        origin = typing.get_origin(annotation)
        if origin is tuple:
            item_type = typing.get_args(annotation)[0]
            list_fields[field_name] = item_type
            annotation, default = str, ",".join(str(v) for v in default)
        elif origin is typing.Literal:
            annotation = str
        elif origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
            annotation = Optional[next(a for a in typing.get_args(annotation) if a is not type(None))]
        option = typer.Option(default, flag, help=field.description or "")
        params.append(inspect.Parameter(field_name, inspect.Parameter.KEYWORD_ONLY, default=option,
                                        annotation=annotation))
    common = [
        ("workers", Optional[int], typer.Option(None, "--workers", help=WORKERS_HELP)),
        ("store", Path, typer.Option(DEFAULT_STORE / entry.name, "--store", help="results directory")),
        ("as_json", bool, typer.Option(False, "--json", help="print one JSON object")),
    ]
    params += [inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, default=d, annotation=a) for n, a, d in common]

    def command(**kwargs) -> None:
        from groklab.experiments.base import run_experiment

        workers, store, as_json = kwargs.pop("workers"), kwargs.pop("store"), kwargs.pop("as_json")
        if workers is not None and workers < 0:
            raise GroklabInputError(f"workers: must be >= 0 (got {workers})")
        for field_name, item_type in list_fields.items():
            kwargs[field_name] = parse_list(field_name, kwargs[field_name], item_type)
        summary = run_experiment(entry.name, store, workers, quiet=as_json, **kwargs)
        _emit(summary, as_json, f"{entry.name}: {summary.get('claim', '')}")
        if not as_json:
            style = {"PASS": "green", "FAIL": "red"}.get(summary.get("verdict"), "yellow")
            out.print(f"verdict: [{style}]{summary.get('verdict', 'n/a')}[/]  ({summary.get('claim', '')})")

    command.__signature__ = inspect.Signature(params)
    command.__doc__ = entry.description
    return command


_recipes_added = False


def add_recipe_commands() -> None:
    """One `groklab run NAME` per recipe experiment (after configure_process: this imports JAX)."""
    global _recipes_added
    if _recipes_added:
        return
    from groklab.experiments.base import recipe_experiments

    for entry in recipe_experiments():
        run_app.command(entry.name, help=entry.description)(_recipe_command(entry))
    _recipes_added = True


def main() -> None:
    from groklab.runtime import configure_process

    configure_process()  # before JAX loads: single-threaded XLA, persistent compile cache
    try:
        add_recipe_commands()
        app()
    except GroklabInputError as err:
        print(f"error: {err}", file=sys.stderr)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
