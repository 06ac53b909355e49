"""The Ray executor: every chunk is a Ray task (one CPU; one GPU too where the cluster has GPUs).

`RayExecutor(address)` connects to an existing cluster ('auto', or the head's host:port); without an
address it starts a local Ray instance with one CPU per core (or `cpus`). Each task trains its chunk
and commits it to the store directory itself (on a cluster that directory must be a shared file
system, and groklab must be installed on every node); the driver holds the store's writer lock,
waits on the tasks and advances the progress bar. A task whose worker process or node dies is
re-run by Ray (RAY_TASK_RETRIES); a re-run finds a chunk that committed before the death and writes
nothing (chunk_task). When a chunk fails for good or the run is interrupted, the driver cancels the
tasks still pending before it lets the lock go; when the driver dies, Ray ends its job's tasks (a
local instance shares its driver's fate; on an existing cluster after Ray's driver-death timeout).
"""
from __future__ import annotations

from groklab.errors import GroklabInputError, GroklabRunError, one_line
from groklab.executors.base import Progress, require_extra
from groklab.executors.chunk_task import run_chunk_job, run_keys_here
from groklab.executors.local import available_cores
from groklab.plan import ChunkJob, Plan

RAY_TASK_RETRIES = 3  # re-runs of a chunk whose worker process or node died (Ray's default for tasks)
POLL_SECONDS = 0.5  # how often the driver looks for finished tasks


class RayExecutor:
    name = "ray"
    holds_lock = True  # tasks commit under the driver's lock, which it holds until every task ended

    def __init__(self, address: str | None = None, cpus: int | None = None):
        self.address = address
        self.cpus = cpus
        self._ray = None
        self._connect()  # before any work: a missing extra or an unreachable cluster fails in one line

    def _connect(self):
        """Ray, initialised once per process (an initialised Ray is reused as it is)."""
        if self._ray is None:
            ray = require_extra("ray", "ray")
            if not ray.is_initialized():
                import logging
                import warnings

                where = {"address": self.address} if self.address else {
                    "num_cpus": self.cpus or len(available_cores())}
                with warnings.catch_warnings():
                    # Ray starts its processes with fork+exec, which JAX warns about; exec follows at once.
                    warnings.filterwarnings("ignore", message=r"os\.fork\(\) was called", category=RuntimeWarning)
                    try:
                        ray.init(**where, include_dashboard=False, log_to_driver=False,
                                 logging_level=logging.WARNING)
                    except (ConnectionError, RuntimeError, ValueError) as err:
                        raise GroklabInputError(f"ray_address: cannot start or reach Ray at "
                                                f"{self.address or 'a local instance'} ({one_line(err)})") from None
            self._ray = ray
        return self._ray

    @property
    def workers(self) -> int:
        return max(1, int(self._connect().cluster_resources().get("CPU", 1)))

    def _remote(self, function):
        ray = self._connect()
        gpus = 1 if ray.cluster_resources().get("GPU", 0) >= 1 else 0
        return ray.remote(function).options(num_cpus=1, num_gpus=gpus, max_retries=RAY_TASK_RETRIES,
                                            retry_exceptions=False)

    def run_keys(self, plan: Plan) -> dict[str, str]:
        """Asked of a worker: the cluster's backend and device decide the run key, not the driver's."""
        return self._connect().get(self._remote(run_keys_here).remote(list(plan.configs)))

    def run(self, jobs: list[ChunkJob], store, progress: Progress | None = None) -> bool:
        ray = self._connect()
        task = self._remote(run_chunk_job)
        pending = [task.remote(str(store.root), job, False) for job in jobs]
        try:
            while pending:
                finished, pending = ray.wait(pending, num_returns=len(pending), timeout=POLL_SECONDS)
                for ref in finished:
                    try:
                        trials, trial_steps = ray.get(ref)
                    except ray.exceptions.RayError as err:
                        raise GroklabRunError(f"ray: a chunk failed ({one_line(err)})") from None
                    if progress:
                        progress(trials, trial_steps)
        finally:
            # A failure or an interrupt ends the run: no task may commit once the driver's lock is gone.
            for ref in pending:
                ray.cancel(ref, force=True)
        return True
