"""Where a store keeps what, and the one way files get into it (write to a temporary name, rename).

    STORE/.lock                                           held by the one process writing (lock.py)
    STORE/chunks/<config_hash>/<chunk_id>.curves.parquet   one row per (trial, evaluation)
    STORE/chunks/<config_hash>/<chunk_id>.trials.parquet   one row per trial: spec, seed, outcome, versions
    STORE/tables/<name>.parquet                            measurements that are not trials (write_table)

Curves are renamed into place before trials: a trials file is the commit marker of its chunk.
"""
from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

TRIALS_SUFFIX = ".trials.parquet"
CURVES_SUFFIX = ".curves.parquet"
TEMP_GLOB = ".*.tmp"  # what write_atomic leaves behind when killed between write and rename
LOCK_NAME = ".lock"


def write_atomic(table: pa.Table, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    pq.write_table(table, tmp)
    os.replace(tmp, path)


def jsonable(value):
    """JSON for numpy scalars (their Python value) and anything else (its text)."""
    try:
        return value.item()
    except AttributeError:
        return str(value)


def write_json_atomic(data, path: Path) -> None:
    """A small JSON record (plan manifest, recipe summary, job array) written like every file of a
    store: to a temporary name, then renamed into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    tmp.write_text(json.dumps(data, sort_keys=True, default=jsonable))
    os.replace(tmp, path)


def chunk_id_of(path: Path) -> str:
    """The chunk a trials or curves file belongs to, by its name on disk."""
    for suffix in (TRIALS_SUFFIX, CURVES_SUFFIX):
        if path.name.endswith(suffix):
            return path.name[: -len(suffix)]
    raise ValueError(f"{path} is neither a trials nor a curves file")


def curves_path_of(trials: Path) -> Path:
    return trials.with_name(chunk_id_of(trials) + CURVES_SUFFIX)


def trials_path_of(curves: Path) -> Path:
    return curves.with_name(chunk_id_of(curves) + TRIALS_SUFFIX)


def trial_files(chunks_dir: Path, config_hashes=None) -> list[Path]:
    """Committed chunks' trials files, of the given configs only if `config_hashes` is given."""
    if not chunks_dir.exists():
        return []
    if config_hashes is None:
        return sorted(chunks_dir.glob(f"*/*{TRIALS_SUFFIX}"))
    return sorted(p for h in sorted(set(config_hashes)) for p in (chunks_dir / h).glob(f"*{TRIALS_SUFFIX}"))
