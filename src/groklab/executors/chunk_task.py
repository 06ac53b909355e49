"""What a worker of any executor does with one chunk job: train it and commit it, exactly once.

Runs in the worker's process (a Ray task, a SLURM array task): it sets the process up for numerics
before JAX touches a device, skips a chunk whose trials are already committed under their run key
(a task Ray retries after its worker died just after the commit), and commits either under the
lock its driver holds (`own_lock=False`) or under a lock of its own (`own_lock=True`, SLURM), in
which case rows of trials that another writer committed meanwhile are dropped, never doubled.
"""
from __future__ import annotations

from groklab.plan import ChunkJob


def run_chunk_job(store_root: str, job: ChunkJob, own_lock: bool,
                  expected_run_key: str | None = None) -> tuple[int, int]:
    """Train and commit `job`; returns (trials finished, trial-steps trained): a chunk found already
    committed counts as finished with no steps trained. `expected_run_key`: the key the submitter
    planned with; a node that would give another (another backend or version) refuses the chunk,
    since its rows would never count as done for that plan."""
    from groklab.runtime import configure_process

    configure_process()  # single-threaded XLA and the compile cache, before the backend starts
    from groklab.engine import train_chunk
    from groklab.errors import GroklabRunError
    from groklab.store import Store, current_run_key

    store = Store(store_root)
    config_hash, key = job.config.config_hash(), current_run_key(job.config)
    if expected_run_key is not None and key != expected_run_key:
        raise GroklabRunError(f"run key {key} on this node differs from the submitter's {expected_run_key} (another "
                              "backend, device kind or groklab/JAX version): submit from a machine like the nodes")
    if set(job.trial_indices) <= store.done_trials(config_hash, job.seed, key):
        return len(job.trial_indices), 0
    result = train_chunk(job.config, job.seed, job.trial_indices)
    if not own_lock:
        store.write_chunk(result, job.experiment, job.experiment_version)
        return len(job.trial_indices), result.trial_steps
    with store.writing():
        already = store.done_trials(config_hash, job.seed, key)
        store.write_chunk(result, job.experiment, job.experiment_version, skip=already)
    return len(job.trial_indices), result.trial_steps


def run_keys_here(plan_configs) -> dict[str, str]:
    """The run keys a worker of this kind gives `plan_configs` (asked of a remote worker, whose
    backend and device may differ from the driver's)."""
    from groklab.runtime import configure_process

    configure_process()
    from groklab.store import current_run_key

    return {config.config_hash(): current_run_key(config) for config in plan_configs}
