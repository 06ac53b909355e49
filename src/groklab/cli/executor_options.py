"""The executor options every command that trains takes (`run NAME`, `sweep`, `check`):
`--executor local|ray|slurm` and the options of each, validated before any work.

Every flag defaults to None ("not given"): the defaults live once, in executors.ExecutorOptions,
and `sweep` can tell the flags given from the sweep file's [executor] table, which they override."""
from __future__ import annotations

import functools
import inspect
from typing import Optional

import typer

EXECUTOR_PARAMETERS = [
    ("executor", Optional[str], typer.Option(None, "--executor",
                                             help="local (processes on this machine; default) | ray | slurm")),
    ("ray_address", Optional[str], typer.Option(None, "--ray-address",
                                                help="ray: an existing cluster ('auto' or host:port); "
                                                     "default: start a local Ray instance")),
    ("slurm_partition", Optional[str], typer.Option(None, "--slurm-partition", help="slurm: partition (-p)")),
    ("slurm_time_min", Optional[int], typer.Option(None, "--slurm-time", help="slurm: minutes per array task "
                                                                              "(default 60)")),
    ("slurm_mem_gb", Optional[float], typer.Option(None, "--slurm-mem-gb", help="slurm: memory per array task, GB "
                                                                                "(default 4)")),
    ("slurm_parallelism", Optional[int], typer.Option(None, "--slurm-parallelism",
                                                      help="slurm: array tasks running at once (default 64)")),
    ("slurm_cluster", Optional[str], typer.Option(None, "--slurm-cluster",
                                                  help="slurm: 'local' runs the same job array through submitit's "
                                                       "local executor on this machine (to try the path without a "
                                                       "cluster)")),
]
NAMES = [name for name, _, _ in EXECUTOR_PARAMETERS]
FILE_FIELDS = "executor_file_fields"  # the parameter through which `sweep` receives the flags given


def with_executor_options(command, from_file: bool = False):
    """`command` with the executor options added to its signature. It runs inside
    `executors.using(...)` when the flags name a non-local executor. With `from_file` (sweep) the
    command instead receives the flags given as `executor_file_fields` (a dict), to merge them over
    its file's [executor] table, and gets `--no-wait` (slurm: submit the array and return)."""
    extra = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation)
             for name, annotation, default in EXECUTOR_PARAMETERS]
    if from_file:
        extra.append(inspect.Parameter("no_wait", inspect.Parameter.KEYWORD_ONLY, annotation=bool,
                                       default=typer.Option(False, "--no-wait", help="slurm: submit the job array "
                                                            "and return; `groklab status` shows progress")))
    signature = inspect.signature(command, eval_str=True)  # real types: typer reads the wrapper's hints

    @functools.wraps(command)
    def wrapper(**kwargs):
        from groklab.executors import executor_options, make_executor, using

        given = {name: value for name in NAMES if (value := kwargs.pop(name)) is not None}
        if from_file:
            if kwargs.pop("no_wait"):
                given["wait"] = False
            return command(**kwargs, **{FILE_FIELDS: given})
        options = executor_options(workers=kwargs.get("workers"), **given)
        if options.executor == "local":
            return command(**kwargs)
        with using(make_executor(options)):
            return command(**kwargs)

    own = [p for p in signature.parameters.values() if p.name != FILE_FIELDS]
    parameters = [*own, *extra]
    wrapper.__signature__ = signature.replace(parameters=parameters)
    wrapper.__annotations__ = {p.name: p.annotation for p in parameters}
    del wrapper.__wrapped__  # typer reads __signature__, not the wrapped function's
    return wrapper
