"""`groklab store verify`: check a store's files against what a writer commits.

Per committed chunk (a trials file): the schema (required columns with their types), the row
count (chunk_trials), consistent statuses, the chunk's curves file (same trial set; per trial one
row per evaluation, the last at steps_run); over all chunks: each (config_hash, seed, trial_index,
run_key) exactly once; and leftovers: curves without trials, temporary files, unknown files.
Each problem is one line naming the file and what is wrong. A store being written is not checked
(its writer's unfinished files would read as problems): verify says who is writing it.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from groklab.store.layout import (
    CURVES_SUFFIX,
    TRIALS_SUFFIX,
    chunk_id_of,
    curves_path_of,
)
from groklab.store.lock import in_use

STRING, INTEGER, BOOLEAN = "string", "integer", "boolean"
TRIALS_COLUMNS = {"experiment": STRING, "config_hash": STRING, "seed": INTEGER, "trial_index": INTEGER,
                  "status": STRING, "converged": BOOLEAN, "convergence_step": INTEGER, "steps_run": INTEGER,
                  "train_eval_every": INTEGER, "run_key": STRING, "lanes": INTEGER, "chunk_id": STRING,
                  "chunk_trials": INTEGER, "created_at": STRING}
CURVES_COLUMNS = {"config_hash": STRING, "seed": INTEGER, "trial_index": INTEGER, "step": INTEGER}
STATUSES = {"converged", "diverged", "budget"}
_TYPE_CHECKS = {STRING: pa.types.is_string, INTEGER: pa.types.is_integer, BOOLEAN: pa.types.is_boolean}


@dataclass
class Report:
    problems: list[str] = field(default_factory=list)
    chunks: int = 0
    trials: int = 0
    distinct_trials: int = 0
    tables: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def _schema_problems(table: pa.Table, required: dict[str, str]) -> list[str]:
    problems = []
    for name, kind in required.items():
        if name not in table.column_names:
            problems.append(f"missing column {name}")
        elif not _TYPE_CHECKS[kind](table.schema.field(name).type):
            problems.append(f"column {name} is {table.schema.field(name).type}, not {kind}")
    return problems


def _read(path: Path, report: Report, root: Path) -> pa.Table | None:
    try:
        return pq.read_table(path)
    except (OSError, pa.ArrowException) as err:
        report.problems.append(f"{path.relative_to(root)}: unreadable ({str(err).splitlines()[0]})")
        return None


def _status_problems(trials: pa.Table) -> list[str]:
    status = np.asarray(trials.column("status").to_pylist(), dtype=object)
    converged = np.asarray(trials.column("converged").fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)
    has_step = np.asarray(pc.is_valid(trials.column("convergence_step")).to_numpy(zero_copy_only=False), dtype=bool)
    problems = []
    if unknown := sorted({str(s) for s in status} - STATUSES):
        problems.append(f"unknown status {unknown[0]!r}")
    if np.any(converged != (status == "converged")):
        problems.append("converged disagrees with status for "
                        f"{int(np.sum(converged != (status == 'converged')))} trials")
    if np.any(has_step != converged):
        problems.append("convergence_step set for a trial that did not converge or missing for one that did")
    return problems


def _curves_problems(trials: pa.Table, curves: pa.Table) -> list[str]:
    """Same trial set, and per trial one row per evaluation (steps 0, eval_every, ..., steps_run)."""
    expected = {int(i): (int(s), int(e)) for i, s, e in zip(trials.column("trial_index").to_pylist(),
                                                             trials.column("steps_run").to_pylist(),
                                                             trials.column("train_eval_every").to_pylist())}
    steps: dict[int, list[int]] = defaultdict(list)
    for i, step in zip(curves.column("trial_index").to_pylist(), curves.column("step").to_pylist()):
        steps[int(i)].append(int(step))
    problems = []
    if extra := sorted(set(steps) - set(expected)):
        problems.append(f"curves of {len(extra)} trials not in the trials file (e.g. trial {extra[0]})")
    if missing := sorted(set(expected) - set(steps)):
        problems.append(f"no curves for {len(missing)} trials (e.g. trial {missing[0]})")
    for i in sorted(set(expected) & set(steps)):
        steps_run, every = expected[i]
        got = sorted(steps[i])
        if len(got) != steps_run // every + 1 or len(set(got)) != len(got):
            problems.append(f"trial {i}: {len(got)} curve rows for {steps_run // every + 1} evaluations")
        elif got[-1] != steps_run:
            problems.append(f"trial {i}: last curve step {got[-1]} but steps_run {steps_run}")
    return problems


def _check_chunk(path: Path, root: Path, report: Report, seen: dict[tuple, list[str]]) -> None:
    name = str(path.relative_to(root))
    trials = _read(path, report, root)
    if trials is None:
        return
    report.chunks += 1
    report.trials += trials.num_rows
    schema = _schema_problems(trials, TRIALS_COLUMNS)
    report.problems += [f"{name}: {p}" for p in schema]
    if schema:
        return
    chunk_id = chunk_id_of(path)
    problems = []
    if set(trials.column("chunk_id").to_pylist()) != {chunk_id}:
        problems.append(f"chunk_id column {trials.column('chunk_id')[0].as_py()} differs from the file name "
                        "(a copied or renamed chunk)")
    if set(trials.column("config_hash").to_pylist()) != {path.parent.name}:
        problems.append(f"config_hash column differs from its folder {path.parent.name}")
    declared = set(trials.column("chunk_trials").to_pylist())
    if declared != {trials.num_rows}:
        problems.append(f"{trials.num_rows} rows but chunk_trials says {sorted(declared)[0]}")
    indices = trials.column("trial_index").to_pylist()
    if len(set(zip(trials.column("seed").to_pylist(), indices))) != len(indices):
        problems.append("a trial appears twice in the chunk")
    problems += _status_problems(trials)
    curves_path = curves_path_of(path)
    if not curves_path.exists():
        problems.append("no curves file")
    elif (curves := _read(curves_path, report, root)) is not None:
        curve_schema = _schema_problems(curves, CURVES_COLUMNS)
        problems += [f"curves: {p}" for p in curve_schema] or [f"curves: {p}" for p in _curves_problems(trials, curves)]
    report.problems += [f"{name}: {p}" for p in problems]
    for key in zip(trials.column("config_hash").to_pylist(), trials.column("seed").to_pylist(), indices,
                   trials.column("run_key").to_pylist()):
        seen[key].append(name)


def verify_store(root: str | Path) -> Report:
    root = Path(root)
    report = Report()
    if not root.is_dir():
        report.problems.append(f"{root}: not a store directory")
        return report
    if writer := in_use(root):
        # Its half-written files would read as problems: check the store once the run is over.
        report.problems.append(f"{root}: being written by {writer}; verify it when that run has finished")
        return report
    seen: dict[tuple, list[str]] = defaultdict(list)
    chunks = root / "chunks"
    for folder in sorted(p for p in chunks.iterdir()) if chunks.is_dir() else []:
        if not folder.is_dir():
            report.problems.append(f"{folder.relative_to(root)}: unexpected file (chunks/ holds config folders)")
            continue
        for path in sorted(folder.iterdir()):
            rel = path.relative_to(root)
            if path.name.endswith(TRIALS_SUFFIX):
                _check_chunk(path, root, report, seen)
            elif path.name.endswith(CURVES_SUFFIX):
                if not path.with_name(chunk_id_of(path) + TRIALS_SUFFIX).exists():
                    report.problems.append(f"{rel}: orphan curves file (no trials file: an unfinished write)")
            elif path.name.startswith(".") and path.name.endswith(".tmp"):
                report.problems.append(f"{rel}: temporary file left by an interrupted write")
            else:
                report.problems.append(f"{rel}: unexpected file")
    # Duplicates are reported per group of files holding them (a copied chunk: one line, not one per trial).
    duplicated: dict[tuple[str, ...], list[tuple]] = defaultdict(list)
    for key, files in seen.items():
        if len(files) > 1:
            duplicated[tuple(files)].append(key)
    for files, keys in duplicated.items():
        config_hash, seed, index, key = keys[0]
        report.problems.append(f"{len(keys)} trials committed {len(files)} times, in {' and '.join(files)} "
                               f"(e.g. config {config_hash}, seed {seed}, trial {index}, run key {key})")
    report.distinct_trials = len({k[:3] for k in seen})
    tables = root / "tables"
    for path in sorted(tables.iterdir()) if tables.is_dir() else []:
        if path.name.endswith(".parquet"):
            report.tables += _read(path, report, root) is not None
        elif path.name.startswith(".") and path.name.endswith(".tmp"):
            report.problems.append(f"{path.relative_to(root)}: temporary file left by an interrupted write")
    return report


def summary_line(root: Path, report: Report) -> str:
    return (f"store {root}: {report.chunks} chunks, {report.trials} trial rows ({report.distinct_trials} distinct "
            f"trials), {report.tables} tables; no problems")
