"""The local executor (the default): worker processes on this machine.

Workers write under the writer lock their caller holds (runner.execute_plan): worker processes do
not lock the store themselves.

`LocalExecutor` runs one single-threaded worker process per core, each pinned to its
own core (design.md's CPU rule); with workers=0 it runs in the calling process. A trial's result
does not depend on which worker or chunk ran it (see engine.train).
"""
from __future__ import annotations

import multiprocessing as mp
import os
import queue
import time
from dataclasses import dataclass

from groklab.executors.base import Progress
from groklab.plan import ChunkJob, Plan
from groklab.store import Store


def available_cores() -> list[int]:
    if hasattr(os, "sched_getaffinity"):
        return sorted(os.sched_getaffinity(0))
    return list(range(os.cpu_count() or 1))


@dataclass
class _Worker:
    store_root: str
    progress_queue: object | None

    def __call__(self, job: ChunkJob) -> int:
        from groklab.engine import train_chunk

        def on_block(finished: int, trial_steps: int) -> None:
            if self.progress_queue is not None:
                self.progress_queue.put((finished, trial_steps))

        result = train_chunk(job.config, job.seed, job.trial_indices, on_block=on_block)
        Store(self.store_root).write_chunk(result, job.experiment, job.experiment_version)
        return len(job.trial_indices)


def _die_with_parent(parent_pid: int) -> None:
    """Have the kernel kill this worker when the process that holds the store's lock dies (Linux
    prctl PR_SET_PDEATHSIG): a worker must never keep writing chunks after its lock is gone, or a
    second writer could commit the same trials. Elsewhere workers end when the pool is torn down."""
    import ctypes
    import signal
    import sys

    if not sys.platform.startswith("linux"):
        return
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent_pid:  # the parent died before the request took effect
        os._exit(1)


def _init_worker(cores, parent_pid: int) -> None:
    """Pin this worker to the next free core and configure XLA before JAX is imported."""
    from groklab.runtime import configure_process

    _die_with_parent(parent_pid)
    core = cores.get()
    configure_process(core)


def default_workers(cores: list[int]) -> int:
    """One worker per core on a CPU backend; one worker on an accelerator, which the engine fills
    with large groups of lanes (several processes would each claim the device's memory)."""
    import jax

    return len(cores) if jax.default_backend() == "cpu" else 1


class LocalExecutor:
    """`workers` pinned processes on this machine (None: default_workers; 0: in the calling process)."""

    name = "local"
    holds_lock = True  # workers commit under the caller's lock and die with it (_die_with_parent)

    def __init__(self, workers: int | None = None):
        cores = available_cores()
        self.workers = default_workers(cores) if workers is None else workers
        self.cores = cores

    def run_keys(self, plan: Plan) -> dict[str, str]:
        return plan.run_keys()  # the workers share this process's machine, backend and versions

    def run(self, jobs: list[ChunkJob], store: Store, progress: Progress | None = None) -> bool:
        if self.workers == 0:
            self._run_inline(jobs, store, progress)
        elif jobs:
            self._run_pool(jobs, store, progress)
        return True

    def _run_inline(self, jobs, store, progress) -> None:
        from groklab.engine import train_chunk

        for job in jobs:
            on_block = (lambda f, s: progress(f, s)) if progress else None
            result = train_chunk(job.config, job.seed, job.trial_indices, on_block=on_block)
            store.write_chunk(result, job.experiment, job.experiment_version)

    def _run_pool(self, jobs, store, progress) -> None:
        ctx = mp.get_context("spawn")  # fresh interpreters: XLA flags must be set before JAX loads
        manager = ctx.Manager()
        progress_queue = manager.Queue()
        cores = manager.Queue()
        workers = min(self.workers, len(jobs))
        for i in range(workers):
            cores.put(self.cores[i % len(self.cores)])
        worker = _Worker(str(store.root), progress_queue)
        try:
            with ctx.Pool(workers, initializer=_init_worker, initargs=(cores, os.getpid())) as pool:
                pending = pool.map_async(worker, jobs, chunksize=1)
                while True:
                    self._drain(progress_queue, progress)
                    if pending.ready():
                        break
                    time.sleep(0.1)
                pending.get()  # re-raises a worker's exception
                self._drain(progress_queue, progress)
        finally:
            manager.shutdown()

    @staticmethod
    def _drain(progress_queue, progress) -> None:
        while True:
            try:
                finished, steps = progress_queue.get_nowait()
            except queue.Empty:
                return
            if progress:
                progress(finished, steps)
