"""The results directory: per chunk a trials table and a curves table (Parquet), DuckDB views on top.

Layout:
    STORE/chunks/<config_hash>/<chunk_id>.curves.parquet   one row per (trial, evaluation)
    STORE/chunks/<config_hash>/<chunk_id>.trials.parquet   one row per trial: spec, seed, outcome, versions

Each file is written to a temporary name and renamed into place, curves first: a trials file is the
commit marker of its chunk. A chunk killed mid-write leaves at most an orphan curves file, which
`Store.recover()` removes before planning, so every trial appears exactly once.
"""
from __future__ import annotations

import json
import os
import platform
import socket
import subprocess
import time
import uuid
from functools import lru_cache
from importlib import metadata
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from groklab import registry
from groklab._version import __version__
from groklab.engine.train import ChunkResult
from groklab.errors import GroklabInputError

TRIALS_SUFFIX = ".trials.parquet"
CURVES_SUFFIX = ".curves.parquet"


@lru_cache(maxsize=1)
def environment_versions() -> dict[str, str]:
    versions = {"groklab_version": __version__, "python_version": platform.python_version()}
    for package in ("jax", "jaxlib", "optax", "numpy"):
        try:
            versions[f"{package}_version"] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[f"{package}_version"] = "unknown"
    try:
        root = Path(__file__).resolve().parents[2]
        versions["git_commit"] = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
                                                capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        versions["git_commit"] = ""
    versions["hostname"] = socket.gethostname()
    return versions


def component_versions(config) -> dict[str, str]:
    return {
        "task_version": registry.tasks.get(config.task.name).version,
        "model_version": registry.models.get(config.model.name).version,
        "loss_version": registry.losses.get(config.loss.name).version,
        "optimizer_version": registry.optimizers.get(config.optimizer.name).version,
    }


def _write_atomic(table: pa.Table, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    pq.write_table(table, tmp)
    os.replace(tmp, path)


class Store:
    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    @property
    def chunks_dir(self) -> Path:
        return self.root / "chunks"

    def check_writable(self) -> None:
        """Fail with one line before any work if the store path cannot be a results directory."""
        if self.root.exists() and not self.root.is_dir():
            raise GroklabInputError(f"store: {self.root} exists and is not a directory")
        parent = self.root if self.root.exists() else self.root.parent
        while not parent.exists():
            parent = parent.parent
        if not os.access(parent, os.W_OK):
            raise GroklabInputError(f"store: {self.root} is not writable")

    def trial_files(self) -> list[Path]:
        return sorted(self.chunks_dir.glob(f"*/*{TRIALS_SUFFIX}")) if self.chunks_dir.exists() else []

    def recover(self) -> int:
        """Remove leftovers of chunks killed mid-write (temp files, curves without trials)."""
        removed = 0
        if not self.chunks_dir.exists():
            return 0
        for tmp in self.chunks_dir.glob("*/.*.tmp"):
            tmp.unlink(missing_ok=True)
            removed += 1
        for curves in self.chunks_dir.glob(f"*/*{CURVES_SUFFIX}"):
            trials = curves.with_name(curves.name[: -len(CURVES_SUFFIX)] + TRIALS_SUFFIX)
            if not trials.exists():
                curves.unlink(missing_ok=True)
                removed += 1
        return removed

    def done_trials(self, config_hash: str, seed: int) -> set[int]:
        """Trial indices of (config, seed) already committed to the store."""
        folder = self.chunks_dir / config_hash
        done: set[int] = set()
        if not folder.exists():
            return done
        for path in folder.glob(f"*{TRIALS_SUFFIX}"):
            table = pq.read_table(path, columns=["seed", "trial_index"])
            seeds = table.column("seed").to_numpy()
            done.update(int(i) for i in table.column("trial_index").to_numpy()[seeds == seed])
        return done

    def write_chunk(self, result: ChunkResult, experiment: str) -> Path:
        config = result.config
        config_hash = config.config_hash()
        folder = self.chunks_dir / config_hash
        folder.mkdir(parents=True, exist_ok=True)
        chunk_id = (f"seed{result.seed}-t{int(result.trial_indices.min()):07d}-{int(result.trial_indices.max()):07d}"
                    f"-{uuid.uuid4().hex[:8]}")
        n = len(result.trial_indices)

        curves = dict(result.curves)
        curves = {"config_hash": np.full(len(curves["step"]), config_hash), "seed": np.full(len(curves["step"]), result.seed),
                  **curves}
        _write_atomic(pa.table(curves), folder / f"{chunk_id}{CURVES_SUFFIX}")

        converged = result.convergence_step >= 0
        columns: dict[str, object] = {
            "experiment": [experiment] * n,
            "config_hash": [config_hash] * n,
            "seed": np.full(n, result.seed, dtype=np.int64),
            "trial_index": result.trial_indices,
            "status": result.status.tolist(),
            "converged": converged,
            "convergence_step": pa.array(np.where(converged, result.convergence_step, 0), mask=~converged),
            "steps_run": result.steps_run,
        }
        columns.update({f"final_{name}": values for name, values in result.final_metrics.items()})
        for key, value in config.flat().items():
            columns[key] = [value] * n
        columns["config_json"] = [json.dumps(config.as_dict(), sort_keys=True)] * n
        for key, value in {**component_versions(config), **environment_versions()}.items():
            columns[key] = [value] * n
        columns["device"] = [result.device] * n
        columns["lanes"] = np.full(n, result.lanes, dtype=np.int64)
        columns["chunk_id"] = [chunk_id] * n
        columns["chunk_trials"] = np.full(n, n, dtype=np.int64)
        columns["chunk_wall_seconds"] = np.full(n, result.wall_seconds)
        columns["created_at"] = [time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())] * n
        path = folder / f"{chunk_id}{TRIALS_SUFFIX}"
        _write_atomic(pa.table(columns), path)
        return path

    # ---- queries ----------------------------------------------------------------------------
    def connect(self):
        """A DuckDB connection with views `trials` and `curves` over every committed chunk, and one
        view per measurement table (`write_table`), named after it."""
        import duckdb

        tables = sorted(self.tables_dir.glob("*.parquet")) if self.tables_dir.exists() else []
        if not self.trial_files() and not tables:
            raise GroklabInputError(f"store: no results in {self.root}")
        con = duckdb.connect()
        if self.trial_files():
            trials_glob = str(self.chunks_dir / "*" / f"*{TRIALS_SUFFIX}")
            curves_glob = str(self.chunks_dir / "*" / f"*{CURVES_SUFFIX}")
            con.execute(f"CREATE VIEW trials AS SELECT * FROM read_parquet('{trials_glob}', union_by_name=true)")
            con.execute(f"CREATE VIEW curves AS SELECT * FROM read_parquet('{curves_glob}', union_by_name=true)")
        for path in tables:
            con.execute(f"CREATE VIEW \"{path.stem.replace('-', '_')}\" AS SELECT * FROM read_parquet('{path}')")
        return con

    @property
    def tables_dir(self) -> Path:
        return self.root / "tables"

    def write_table(self, name: str, rows: list[dict]) -> Path:
        """Measurements that are not trials (e.g. gradient variances at initialization) as one Parquet
        table, replaced atomically; queryable as the view `name` (dashes become underscores)."""
        self.tables_dir.mkdir(parents=True, exist_ok=True)
        path = self.tables_dir / f"{name}.parquet"
        provenance = {**environment_versions(), "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        _write_atomic(pa.Table.from_pylist([{**row, **provenance} for row in rows]), path)
        return path

    def trials_for(self, config_hash: str, seed: int, trial_indices) -> dict[str, np.ndarray]:
        """Columns of the trials table for these trials, ordered by trial index."""
        return self._select("trials", "trial_index", config_hash, seed, trial_indices)

    def convergence_steps(self, config_hash: str, seed: int, trial_indices) -> np.ndarray:
        """t_c of these trials ordered by trial index, -1 where a trial did not converge (the
        convention groklab.analysis reads as unsolved)."""
        rows = self.trials_for(config_hash, seed, trial_indices)
        return np.where(rows["converged"].astype(bool), rows["convergence_step"], -1).astype(np.int64)

    def curves_for(self, config_hash: str, seed: int, trial_indices) -> dict[str, np.ndarray]:
        """Columns of the curves table for these trials, ordered by trial index and step."""
        return self._select("curves", "trial_index, step", config_hash, seed, trial_indices)

    def _select(self, view: str, order: str, config_hash: str, seed: int, trial_indices) -> dict[str, np.ndarray]:
        indices = sorted(int(i) for i in trial_indices)
        table = self.connect().sql(
            f"SELECT * FROM {view} WHERE config_hash = $1 AND seed = $2 AND list_contains($3, trial_index) "
            f"ORDER BY {order}", params=[config_hash, seed, indices]).to_arrow_table()
        return {name: table.column(name).to_numpy(zero_copy_only=False) for name in table.column_names}
