"""Executors run a plan's chunk jobs; every finished chunk is committed to the store by the process
that trained it (the driver only plans and tracks progress).

Three sit side by side behind one protocol, chosen with `--executor` (CLI) or `ExecutorOptions`:

- `local` (default): one pinned single-threaded process per core (`local.LocalExecutor`);
- `ray`: chunks become Ray tasks on a local or existing Ray cluster (`ray_executor`, extra `groklab[ray]`);
- `slurm`: one SLURM job array per run through submitit (`slurm`, extra `groklab[slurm]`).

Exactly-once: local and Ray workers commit under the writer lock their driver holds for the whole
run (`holds_lock`); a retried Ray task whose chunk already committed writes nothing. SLURM array
tasks outlive the submitting command, so each takes the store's lock for its own commit and drops
rows of trials already committed (`chunk_task`). Either way every trial lands exactly once, and a
trial's numbers do not depend on the executor (same lanes and backend).

A run uses the executor passed to `runner.execute_plan`, else the one made current by `using()`
(the CLI wraps a whole command, recipes and checks included, in it), else a local one.
"""
from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from typing import Iterator

from groklab.executors.base import (
    SLURM_MEM_GB,
    SLURM_PARALLELISM,
    SLURM_TIME_MIN,
    Executor,
    ExecutorOptions,
    Progress,
    executor_options,
    require_extra,
)

__all__ = ["Executor", "ExecutorOptions", "Progress", "executor_options", "make_executor", "require_extra",
           "using", "current", "SLURM_MEM_GB", "SLURM_PARALLELISM", "SLURM_TIME_MIN"]


def make_executor(options: ExecutorOptions) -> Executor:
    """The executor `options` name; Ray and submitit are imported only here, and a missing extra
    fails with one line saying what to install."""
    if options.executor == "ray":
        from groklab.executors.ray_executor import RayExecutor

        return RayExecutor(address=options.ray_address, cpus=options.workers)
    if options.executor == "slurm":
        from groklab.executors.slurm import SlurmExecutor

        return SlurmExecutor(options)
    from groklab.executors.local import LocalExecutor

    return LocalExecutor(options.workers)


_current: ContextVar[Executor | None] = ContextVar("groklab_executor", default=None)


@contextmanager
def using(executor: Executor) -> Iterator[Executor]:
    """Run every plan inside the block (recipes and checks included) with `executor`."""
    token = _current.set(executor)
    try:
        yield executor
    finally:
        _current.reset(token)


def current() -> Executor | None:
    return _current.get()
