"""The executor options every command that runs trials takes (`run NAME`, `sweep`, `check`):
`--executor local|ray|slurm` and the options of each, validated before any work."""
from __future__ import annotations

import functools
import inspect
from typing import Optional

import typer

from groklab.executors.base import SLURM_MEM_GB, SLURM_PARALLELISM, SLURM_TIME_MIN

EXECUTOR_PARAMETERS = [
    ("executor", str, typer.Option("local", "--executor", help="local (processes on this machine) | ray | slurm")),
    ("ray_address", Optional[str], typer.Option(None, "--ray-address",
                                                help="ray: an existing cluster ('auto' or host:port); "
                                                     "default: start a local Ray instance")),
    ("slurm_partition", Optional[str], typer.Option(None, "--slurm-partition", help="slurm: partition (-p)")),
    ("slurm_time_min", int, typer.Option(SLURM_TIME_MIN, "--slurm-time", help="slurm: minutes per array task")),
    ("slurm_mem_gb", float, typer.Option(SLURM_MEM_GB, "--slurm-mem-gb", help="slurm: memory per array task, GB")),
    ("slurm_parallelism", int, typer.Option(SLURM_PARALLELISM, "--slurm-parallelism",
                                            help="slurm: array tasks running at once")),
    ("slurm_cluster", str, typer.Option("slurm", "--slurm-cluster",
                                        help="slurm: 'local' runs the same job array through submitit's local "
                                             "executor on this machine (to try the path without a cluster)")),
]
NAMES = [name for name, _, _ in EXECUTOR_PARAMETERS]


def with_executor_options(command, wait_option: bool = False):
    """`command` with the executor options added to its signature; it runs inside
    `executors.using(...)` unless the executor is local (the default, which `workers` sizes).
    `wait_option` adds `--no-wait` (slurm: submit the array and return)."""
    extra = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation)
             for name, annotation, default in EXECUTOR_PARAMETERS]
    if wait_option:
        extra.append(inspect.Parameter("no_wait", inspect.Parameter.KEYWORD_ONLY, annotation=bool,
                                       default=typer.Option(False, "--no-wait", help="slurm: submit the job array "
                                                            "and return; `groklab status` shows progress")))
    signature = inspect.signature(command, eval_str=True)  # real types: typer reads the wrapper's hints

    @functools.wraps(command)
    def wrapper(**kwargs):
        from groklab.executors import executor_options, make_executor, using

        fields = {name: kwargs.pop(name) for name in NAMES}
        if wait_option:
            fields["wait"] = not kwargs.pop("no_wait")
        options = executor_options(workers=kwargs.get("workers"), **fields)
        if options.executor == "local":
            return command(**kwargs)
        with using(make_executor(options)):
            return command(**kwargs)

    parameters = [*signature.parameters.values(), *extra]
    wrapper.__signature__ = signature.replace(parameters=parameters)
    wrapper.__annotations__ = {p.name: p.annotation for p in parameters}
    del wrapper.__wrapped__  # typer reads __signature__, not the wrapped function's
    return wrapper
