"""The rows a finished chunk or a measurement table is written as.

Status columns are consistent by construction: `converged` is exactly (status == "converged"),
`convergence_step` is set only for converged trials and `divergence_step` only for diverged ones
(a trial that converged and later diverged, possible with `train.stop_on_convergence = false`, is
diverged: its curves keep the history).
"""
from __future__ import annotations

import json
from datetime import datetime, timezone

import jax
import numpy as np
import pyarrow as pa

from groklab.engine.train import CONVERGED, DIVERGED, ChunkResult
from groklab.store.provenance import (
    component_versions,
    environment_versions,
    experiment_version,
    probe_versions,
    run_key,
)


def timestamp() -> str:
    """UTC with microseconds: the order of commits, which decides which copy of a trial is current."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _step_where(mask: np.ndarray, steps: np.ndarray) -> pa.Array:
    return pa.array(np.where(mask, steps, 0).astype(np.int64), mask=~mask)


def fit_steps(result: ChunkResult) -> np.ndarray:
    """t_train per trial: the first evaluation at 100% training accuracy; -1 where never reached or
    where the task has no training set (no `train_accuracy` curve) or no accuracy (regression: NaN)."""
    out = np.full(len(result.trial_indices), -1, dtype=np.int64)
    if "train_accuracy" not in result.curves:
        return out
    index, step = result.curves["trial_index"], result.curves["step"]
    fitted = np.asarray(result.curves["train_accuracy"]) >= 1.0
    for i, trial in enumerate(result.trial_indices):
        steps = step[(index == trial) & fitted]
        if len(steps):
            out[i] = steps.min()
    return out


def chunk_tables(result: ChunkResult, chunk_id: str, experiment: str,
                 declared_version: str | None = None) -> tuple[pa.Table, pa.Table]:
    """(trials, curves) of one finished chunk."""
    config = result.config
    config_hash = config.config_hash()
    n = len(result.trial_indices)
    rows = len(result.curves["step"])
    curves = {"config_hash": np.full(rows, config_hash), "seed": np.full(rows, result.seed, dtype=np.int64),
              **result.curves, "chunk_id": np.full(rows, chunk_id)}

    status = np.asarray(result.status).astype(str)
    converged, diverged = status == CONVERGED, status == DIVERGED
    fit = fit_steps(result)
    columns: dict[str, object] = {
        "experiment": [experiment] * n,
        "experiment_version": [experiment_version(experiment, declared_version)] * n,
        "config_hash": [config_hash] * n,
        "seed": np.full(n, result.seed, dtype=np.int64),
        "trial_index": np.asarray(result.trial_indices, dtype=np.int64),
        "status": status.tolist(),
        "converged": converged,
        "convergence_step": _step_where(converged, result.convergence_step),
        "divergence_step": _step_where(diverged, result.divergence_step),
        # t_train and the grokking gap t_test - t_train (t_test = convergence_step), where reached
        "fit_step": _step_where(fit >= 0, fit),
        "grokking_gap": _step_where(converged & (fit >= 0), result.convergence_step - fit),
        "steps_run": np.asarray(result.steps_run, dtype=np.int64),
    }
    columns.update({f"final_{name}": values for name, values in result.final_metrics.items()})
    for key, value in config.flat().items():
        columns[key] = [value] * n
    columns["config_json"] = [json.dumps(config.as_dict(), sort_keys=True)] * n
    for key, value in {**component_versions(config), **environment_versions()}.items():
        columns[key] = [value] * n
    columns["probe_versions"] = [probe_versions(config.probes)] * n
    backend = jax.default_backend()
    columns["backend"] = [backend] * n
    columns["device"] = [result.device] * n
    columns["lanes"] = np.full(n, result.lanes, dtype=np.int64)
    columns["precision"] = [config.train.precision] * n  # also for float32, whose config hash omits it
    columns["run_key"] = [run_key(config, result.lanes, backend, result.device)] * n
    columns["chunk_id"] = [chunk_id] * n
    columns["chunk_trials"] = np.full(n, n, dtype=np.int64)
    columns["chunk_wall_seconds"] = np.full(n, result.wall_seconds)
    columns["created_at"] = [timestamp()] * n
    return pa.table(columns), pa.table(curves)


def without_trials(table: pa.Table, skip: set[int]) -> pa.Table:
    """A chunk's trials or curves table without the rows of trials in `skip` (their chunk size
    column, where present, counts the trials kept)."""
    import pyarrow.compute as pc

    kept = table.filter(pc.invert(pc.is_in(table.column("trial_index"), pa.array(sorted(skip), pa.int64()))))
    if "chunk_trials" in kept.column_names:
        count = pa.array(np.full(kept.num_rows, kept.num_rows, dtype=np.int64))
        kept = kept.set_column(kept.column_names.index("chunk_trials"), "chunk_trials", count)
    return kept


def table_rows(rows: list[dict], experiment: str, probes=()) -> pa.Table:
    """A measurement table's rows with the provenance every result row carries."""
    provenance = {**environment_versions(), "experiment": experiment,
                  "experiment_version": experiment_version(experiment),
                  "probe_versions": probe_versions(probes), "created_at": timestamp()}
    return pa.Table.from_pylist([{**row, **provenance} for row in rows])
