"""The SLURM executor: one job array per run, submitted through submitit.

Each array task trains one chunk and commits it under the store's lock, which it takes for the
commit alone (the submitting command may exit long before the array ends), dropping rows of
trials another writer committed meanwhile (chunk_task): every trial lands exactly once. The store
records each array it was given (STORE/slurm/arrays/<job id>.json) so that `groklab status --store`
can report it later; submitit keeps the tasks' logs and pickles under STORE/slurm/<job id>/.

A run is resumable like any other: running the same command again submits only chunks whose trials
are not in the store. Run keys are the submitting machine's (its backend and device kind): submit
from a machine of the same kind as the nodes, e.g. a CPU login node for CPU partitions; a task whose
node would give another key fails in one line instead of writing rows no plan counts as done.
Failures (a refused submission, a failed task) end the run with one line naming the task's log.
"""
from __future__ import annotations

import json
import shutil
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from groklab.errors import GroklabInputError, GroklabRunError, one_line
from groklab.executors.base import ExecutorOptions, Progress, require_extra
from groklab.executors.chunk_task import run_chunk_job
from groklab.plan import ChunkJob, Plan
from groklab.store.layout import write_json_atomic

ARRAYS_DIR = Path("slurm") / "arrays"
POLL_SECONDS = 1.0  # how often a waiting submitter looks at its tasks (submitit rate-limits sacct itself)


class SlurmExecutor:
    name = "slurm"
    holds_lock = False  # array tasks lock the store for their own commits

    def __init__(self, options: ExecutorOptions):
        require_extra("submitit", "slurm")  # fail before any work when the extra is missing
        if options.slurm_cluster == "slurm" and shutil.which("sbatch") is None:
            raise GroklabInputError("executor: 'slurm' needs SLURM's sbatch on this machine (run on a login node), "
                                    "or slurm_cluster 'local' to run the job array on this machine")
        self.options = options

    @property
    def workers(self) -> int:
        return self.options.slurm_parallelism

    def run_keys(self, plan: Plan) -> dict[str, str]:
        return plan.run_keys()  # each array task checks that its node gives the same key (chunk_task)

    def _submitit_executor(self, store, experiment: str):
        submitit = require_extra("submitit", "slurm")
        o = self.options
        executor = submitit.AutoExecutor(folder=Path(store.root) / "slurm" / "%j", cluster=o.slurm_cluster)
        slurm = {"slurm_array_parallelism": o.slurm_parallelism}
        if o.slurm_partition:
            slurm["slurm_partition"] = o.slurm_partition
        # One single-threaded JAX process per task (design.md's CPU rule).
        executor.update_parameters(name=f"groklab-{experiment}", timeout_min=o.slurm_time_min, mem_gb=o.slurm_mem_gb,
                                   cpus_per_task=1, tasks_per_node=1, nodes=1, **slurm)
        return executor

    def run(self, jobs: list[ChunkJob], store, progress: Progress | None = None) -> bool:
        from groklab.store import current_run_key

        executor = self._submitit_executor(store, jobs[0].experiment)
        root = str(store.root)
        keys = [current_run_key(job.config) for job in jobs]  # this machine's, as the plan's
        try:
            tasks = executor.map_array(run_chunk_job, [root] * len(jobs), jobs, [True] * len(jobs), keys)
        except Exception as err:  # sbatch refused the array (partition, limits): say why in one line
            raise GroklabRunError(f"slurm: submitting the job array failed ({one_line(err)})") from None
        record_array(store.root, tasks, jobs, self.options.slurm_cluster)
        if not self.options.wait:
            print(f"submitted {len(jobs)} chunks ({sum(len(j.trial_indices) for j in jobs)} trials) as job array "
                  f"{array_id(tasks)}; `groklab status --store {root}` shows progress", file=sys.stderr)
            return False
        waiting = list(zip(tasks, jobs))
        while waiting:
            still = []
            for task, job in waiting:
                if not task.done():
                    still.append((task, job))
                    continue
                try:
                    trials, trial_steps = task.result()
                except Exception as err:  # submitit's error carries the task's whole log
                    raise GroklabRunError(f"slurm: array task {task.job_id} failed ({one_line(err)}); "
                                          f"log: {task.paths.stderr}") from None
                if progress:
                    progress(trials, trial_steps)
            waiting = still
            if waiting:
                time.sleep(POLL_SECONDS)
        return True


def array_id(tasks) -> str:
    """The array's job id (SLURM: '1234' of '1234_0'); submitit's local executor has one id per task."""
    return str(tasks[0].job_id).split("_")[0]


def record_array(root: Path, tasks, jobs: list[ChunkJob], cluster: str) -> Path:
    record = {"array": array_id(tasks), "cluster": cluster, "task_ids": [str(t.job_id) for t in tasks],
              "experiment": jobs[0].experiment, "chunks": len(jobs),
              "trials": sum(len(j.trial_indices) for j in jobs),
              "submitted_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}
    path = Path(root) / ARRAYS_DIR / f"{record['array']}.json"
    write_json_atomic(record, path)
    return path


def recorded_arrays(root: Path) -> list[dict]:
    folder = Path(root) / ARRAYS_DIR
    if not folder.exists():
        return []
    return sorted((json.loads(p.read_text()) for p in folder.glob("*.json")), key=lambda r: r["submitted_at"])
