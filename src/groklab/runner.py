"""Run a plan into a store with a live progress bar (trials done, trial-steps/s, ETA)."""
from __future__ import annotations

import time

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from groklab.executors import Executor, current
from groklab.executors.local import LocalExecutor
from groklab.plan import Plan
from groklab.store import Store
from groklab.store.plans import record_plan

MAX_CHUNK_SIZE = 64  # trials per chunk on CPU (design.md: 16-256)
CHUNK_GRANULE = 16  # chunks are multiples of this, so they fill whole groups of CPU lanes (16, 8, 4, ...)


def default_chunk_size(missing_trials: int, workers: int) -> int:
    """Up to 64 trials, but small enough that every worker gets about four chunks (load balance:
    slow configs would otherwise leave the other workers idle at the end)."""
    per_chunk = -(-missing_trials // max(1, 4 * workers))
    return max(CHUNK_GRANULE, min(MAX_CHUNK_SIZE, -(-per_chunk // CHUNK_GRANULE) * CHUNK_GRANULE))


def execute_plan(plan: Plan, store: Store, workers: int | None = None, chunk_size: int | None = None,
                 quiet: bool = False, executor: Executor | None = None) -> dict:
    """Run every trial of `plan` missing from `store` (under its current run key); returns work
    statistics. Runs on `executor`, else the one `executors.using` made current, else a local one
    with `workers` processes. Plans under the store's writer lock: a second run on the same store
    waits for the first and then finds its trials done. The lock is held throughout when the
    executor's workers commit under it (local, Ray); SLURM array tasks lock each commit themselves."""
    store.check_writable()
    executor = executor or current() or LocalExecutor(workers)
    with store.writing():
        jobs, stats = _plan_locked(plan, store, executor, chunk_size)
        if executor.holds_lock:
            _run(plan, store, executor, jobs, stats, quiet)
            if jobs:
                store.recover()  # leftovers of a worker killed mid-commit (a task Ray re-ran)
    if not executor.holds_lock:  # array tasks lock their own commits; the next run's planning recovers
        _run(plan, store, executor, jobs, stats, quiet)
    return stats


def _plan_locked(plan: Plan, store: Store, executor: Executor, chunk_size: int | None) -> tuple[list, dict]:
    store.recover()
    run_keys = executor.run_keys(plan)
    record_plan(store.root, plan.experiment, plan.seed, plan.trials, [c.config_hash() for c in plan.configs],
                run_keys)
    store.run_keys.update(run_keys)  # the store's readers now report this run's trials
    if chunk_size is None:
        missing = sum(len(job.trial_indices) for job in plan.jobs(store, MAX_CHUNK_SIZE, run_keys))
        chunk_size = default_chunk_size(missing, max(1, executor.workers))
    jobs = plan.jobs(store, chunk_size, run_keys)
    total_trials = sum(len(job.trial_indices) for job in jobs)
    stats = {"trials_run": total_trials, "trials_skipped": plan.trials * len(plan.configs) - total_trials,
             "trial_steps": 0, "wall_seconds": 0.0, "executor": executor.name,
             "finished": True}  # False: submitted, still running (slurm without waiting)
    return jobs, stats


def _run(plan: Plan, store: Store, executor: Executor, jobs: list, stats: dict, quiet: bool) -> None:
    if not jobs:
        return
    total_trials = stats["trials_run"]
    console = Console(stderr=True, quiet=quiet)
    started = time.perf_counter()
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("trials  {task.fields[rate]:>9} trial-steps/s"), TimeElapsedColumn(),
                  TextColumn("ETA"), TimeRemainingColumn(), console=console, disable=quiet) as bar:
        task = bar.add_task(plan.experiment, total=total_trials, rate="-")

        def progress(finished: int, trial_steps: int) -> None:
            stats["trial_steps"] += trial_steps
            rate = stats["trial_steps"] / max(time.perf_counter() - started, 1e-9)
            bar.update(task, advance=finished, rate=f"{rate:,.0f}")

        stats["finished"] = executor.run(jobs, store, progress)
        if stats["finished"]:
            bar.update(task, completed=total_trials)
    stats["wall_seconds"] = time.perf_counter() - started
