"""`groklab run NAME`: one command per recipe, its options built from the recipe's options class:
scalars and Literals as they are, tuples as comma-separated lists, Optional fields as optional."""
from __future__ import annotations

import inspect
import types
import typing
from pathlib import Path
from typing import Optional

import typer

from groklab.cli.app import (
    DEFAULT_STORE,
    VERDICT_STYLE,
    WORKERS_HELP,
    emit,
    out,
    run_app,
)
from groklab.cli.executor_options import with_executor_options
from groklab.errors import GroklabInputError


def _parse_list(field_name: str, text: str, item_type: type) -> tuple:
    try:
        return tuple(item_type(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise GroklabInputError(f"{field_name}: expected comma-separated {item_type.__name__} values "
                                f"(got {text!r})") from None


def _option_parameters(options_class) -> tuple[list[inspect.Parameter], dict[str, type]]:
    params, list_fields = [], {}
    for field_name, field in options_class.model_fields.items():
        annotation, default = field.annotation, field.default
        flag = "--" + field_name.replace("_", "-")
        origin = typing.get_origin(annotation)
        if origin is tuple:
            item_type = typing.get_args(annotation)[0]
            list_fields[field_name] = item_type
            annotation, default = str, ",".join(str(v) for v in default)
        elif origin is typing.Literal:
            annotation = str
        elif origin in (typing.Union, types.UnionType):
            annotation = Optional[next(a for a in typing.get_args(annotation) if a is not type(None))]
        option = typer.Option(default, flag, help=field.description or "")
        params.append(inspect.Parameter(field_name, inspect.Parameter.KEYWORD_ONLY, default=option,
                                        annotation=annotation))
    return params, list_fields


def recipe_command(entry):
    """A typer command running recipe `entry` with its options, --workers, --store and --json."""
    params, list_fields = _option_parameters(entry.spec_class)
    common = [
        ("workers", Optional[int], typer.Option(None, "--workers", help=WORKERS_HELP)),
        ("store", Path, typer.Option(DEFAULT_STORE / entry.name, "--store", help="results directory")),
        ("as_json", bool, typer.Option(False, "--json", help="print one JSON object")),
    ]
    params += [inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, default=d, annotation=a) for n, a, d in common]

    def command(**kwargs) -> None:
        from groklab.catalog import run_experiment

        workers, store, as_json = kwargs.pop("workers"), kwargs.pop("store"), kwargs.pop("as_json")
        if workers is not None and workers < 0:
            raise GroklabInputError(f"workers: must be >= 0 (got {workers})")
        for field_name, item_type in list_fields.items():
            kwargs[field_name] = _parse_list(field_name, kwargs[field_name], item_type)
        summary = run_experiment(entry.name, store, workers, quiet=as_json, **kwargs)
        emit(summary, as_json, f"{entry.name}: {summary.get('claim', '')}")
        if not as_json:
            verdict = summary.get("verdict", "INFO")
            out.print(f"verdict: [{VERDICT_STYLE.get(verdict, 'yellow')}]{verdict}[/]  ({summary.get('claim', '')})")

    command.__signature__ = inspect.Signature(params)
    command.__doc__ = entry.description
    return with_executor_options(command)


_added = False


def add_recipe_commands() -> None:
    """One `groklab run NAME` per recipe (after configure_process: loading recipes imports JAX)."""
    global _added
    if _added:
        return
    from groklab.catalog import recipe_experiments

    for entry in recipe_experiments():
        run_app.command(entry.name, help=entry.description)(recipe_command(entry))
    _added = True
