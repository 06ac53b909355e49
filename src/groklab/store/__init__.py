"""The results directory: per chunk a trials table and a curves table (Parquet), DuckDB views on top.

Files and their commit order: `layout`; one writer at a time: `lock`; what a row records and the
run key resuming is keyed on: `provenance` and `writer`; the read-only, deduplicating views:
`views`; checking a store: `verify`.
"""
from __future__ import annotations

import os
import uuid
from contextlib import AbstractContextManager
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from groklab.engine.train import ChunkResult
from groklab.errors import GroklabInputError
from groklab.store import layout
from groklab.store.layout import (
    CURVES_SUFFIX,
    TEMP_GLOB,
    TRIALS_SUFFIX,
    trials_path_of,
    write_atomic,
)
from groklab.store.lock import writer_lock
from groklab.store.provenance import (
    component_versions,
    current_run_key,
    environment_versions,
    run_key,
)
from groklab.store.writer import chunk_tables, table_rows, without_trials

__all__ = ["Store", "component_versions", "current_run_key", "environment_versions", "run_key",
           "TRIALS_SUFFIX", "CURVES_SUFFIX"]


class Store:
    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        # config hash -> the run key this Store last ran it under (set by execute_plan), so that the
        # readers below report that run's trials, not rows an older lanes/backend/version left.
        self.run_keys: dict[str, str] = {}

    @property
    def chunks_dir(self) -> Path:
        return self.root / "chunks"

    @property
    def tables_dir(self) -> Path:
        return self.root / "tables"

    def check_writable(self) -> None:
        """Fail with one line before any work if the store path cannot be a results directory."""
        if self.root.exists() and not self.root.is_dir():
            raise GroklabInputError(f"store: {self.root} exists and is not a directory")
        parent = self.root if self.root.exists() else self.root.parent
        while not parent.exists():
            parent = parent.parent
        if not os.access(parent, os.W_OK):
            raise GroklabInputError(f"store: {self.root} is not writable")

    def trial_files(self, config_hashes=None) -> list[Path]:
        return layout.trial_files(self.chunks_dir, config_hashes)

    # ---- writing ------------------------------------------------------------------------------
    def writing(self) -> AbstractContextManager[None]:
        """The store's writer lock (see `lock`): hold it to commit chunks or tables."""
        return writer_lock(self.root)

    def recover(self) -> int:
        """Remove leftovers of writes killed midway: temporary files, and curves files whose trials
        file (the commit marker) never came. Runs under the writer lock, and while we hold it no other
        writer is alive, so whatever is half-written belongs to a dead writer, never to a live one."""
        removed = 0
        with self.writing():
            for folder in (self.chunks_dir, self.tables_dir):
                for tmp in folder.glob(f"**/{TEMP_GLOB}") if folder.exists() else []:
                    tmp.unlink(missing_ok=True)
                    removed += 1
            for curves in self.chunks_dir.glob(f"*/*{CURVES_SUFFIX}") if self.chunks_dir.exists() else []:
                if not trials_path_of(curves).exists():
                    curves.unlink(missing_ok=True)
                    removed += 1
        return removed

    def done_trials(self, config_hash: str, seed: int, run_key: str) -> set[int]:
        """Trial indices of (config, seed) committed under `run_key`. Rows of another run key (other
        lanes, backend or component versions) or without one (older stores) are not done: their
        numbers would not be bit-identical to this run's."""
        done: set[int] = set()
        for path in self.trial_files([config_hash]):
            if "run_key" not in pq.read_schema(path).names:
                continue
            table = pq.read_table(path, columns=["seed", "trial_index", "run_key"])
            mine = (table.column("seed").to_numpy() == seed) & (table.column("run_key").to_numpy(zero_copy_only=False)
                                                                == run_key)
            done.update(int(i) for i in table.column("trial_index").to_numpy()[mine])
        return done

    def write_chunk(self, result: ChunkResult, experiment: str, experiment_version: str | None = None,
                    skip: set[int] = frozenset()) -> Path | None:
        """Commit a finished chunk: curves, then trials (the commit marker). Callers hold `writing()`;
        execute_plan's worker processes write under their parent's lock. Trials in `skip` (committed
        by another writer meanwhile) are left out; None when none is left."""
        config_hash = result.config.config_hash()
        folder = self.chunks_dir / config_hash
        folder.mkdir(parents=True, exist_ok=True)
        chunk_id = (f"seed{result.seed}-t{int(result.trial_indices.min()):07d}-{int(result.trial_indices.max()):07d}"
                    f"-{uuid.uuid4().hex[:8]}")
        trials, curves = chunk_tables(result, chunk_id, experiment, experiment_version)
        if skip:
            trials, curves = without_trials(trials, skip), without_trials(curves, skip)
            if trials.num_rows == 0:
                return None
        write_atomic(curves, folder / f"{chunk_id}{CURVES_SUFFIX}")
        path = folder / f"{chunk_id}{TRIALS_SUFFIX}"
        write_atomic(trials, path)
        return path

    def write_table(self, name: str, rows: list[dict], experiment: str | None = None, probes=()) -> Path:
        """Measurements that are not trials (e.g. gradient variances at initialization) as one Parquet
        table, replaced atomically under the writer lock; queryable as the view `name` (dashes become
        underscores). Rows get the provenance columns, with `experiment` defaulting to `name`."""
        with self.writing():
            self.tables_dir.mkdir(parents=True, exist_ok=True)
            path = self.tables_dir / f"{name}.parquet"
            write_atomic(table_rows(rows, experiment or name, probes), path)
        return path

    # ---- reading ------------------------------------------------------------------------------
    def connect(self, config_hashes=None):
        """A read-only DuckDB connection confined to this store, with the views `trials`, `curves`,
        `all_trials` and one per measurement table (see `views`); only the given configs' chunks if
        `config_hashes` is given."""
        tables = sorted(self.tables_dir.glob("*.parquet")) if self.tables_dir.exists() else []
        from groklab.store.views import (
            confined_connection,  # DuckDB and Arrow datasets load on first read
        )

        files = self.trial_files(config_hashes)
        if not files and not tables:
            raise GroklabInputError(f"store: no results in {self.root}")
        return confined_connection(files, [] if config_hashes is not None else tables)

    def query(self, sql: str, params=None, field: str = "sql"):
        """Run a user's SQL over `connect()`'s views; anything but a query fails with one line."""
        from groklab.store.views import run_query

        return run_query(self.connect(), sql, params, field)

    def trials_for(self, config_hash: str, seed: int, trial_indices) -> dict[str, np.ndarray]:
        """Columns of the trials table for these trials, ordered by trial index: each trial's current
        row under the run key this Store last ran the config with, else its latest row."""
        sql, params = self._current_rows(config_hash, seed, trial_indices)
        return self._columns(config_hash, f"{sql} ORDER BY trial_index", params)

    def convergence_steps(self, config_hash: str, seed: int, trial_indices) -> np.ndarray:
        """t_c of these trials ordered by trial index, -1 where a trial did not converge (the
        convention groklab.analysis reads as unsolved)."""
        rows = self.trials_for(config_hash, seed, trial_indices)
        return np.where(rows["converged"].astype(bool), rows["convergence_step"], -1).astype(np.int64)

    def curves_for(self, config_hash: str, seed: int, trial_indices) -> dict[str, np.ndarray]:
        """Columns of the curves of the rows `trials_for` returns, ordered by trial index and step."""
        sql, params = self._current_rows(config_hash, seed, trial_indices)
        return self._columns(config_hash, f"SELECT c.* EXCLUDE (chunk_file) FROM _curve_files c JOIN ({sql}) t "
                                          "ON c.chunk_file = t.chunk_file AND c.trial_index = t.trial_index "
                                          "ORDER BY c.trial_index, c.step", params)

    def _current_rows(self, config_hash: str, seed: int, trial_indices) -> tuple[str, list]:
        from groklab.store.views import CURRENT_ROWS

        params = [config_hash, seed, sorted(int(i) for i in trial_indices)]
        where = "config_hash = $1 AND seed = $2 AND list_contains($3, trial_index)"
        if config_hash in self.run_keys:
            where += " AND run_key = $4"
            params.append(self.run_keys[config_hash])
        return f"SELECT * FROM all_trials WHERE {where} {CURRENT_ROWS}", params

    def _columns(self, config_hash: str, sql: str, params: list) -> dict[str, np.ndarray]:
        if not self.trial_files([config_hash]):
            raise GroklabInputError(f"store: no trials of config {config_hash} in {self.root}")
        table = self.connect([config_hash]).sql(sql, params=params).to_arrow_table()
        return {name: table.column(name).to_numpy(zero_copy_only=False) for name in table.column_names}
