"""What was asked of a store: each plan run into it leaves a small manifest (experiment, seed, trials
per config, config hashes), so a report can show trials that are still running or missing, not only
the ones that finished. One JSON file per distinct plan, written atomically; re-running the same
plan rewrites the same file."""
from __future__ import annotations

import hashlib
import json
import os
import uuid
from pathlib import Path

PLANS_DIR = "plans"


def record_plan(root: Path, experiment: str, seed: int, trials: int, config_hashes: list[str]) -> Path:
    manifest = {"experiment": experiment, "seed": seed, "trials": trials, "config_hashes": sorted(set(config_hashes))}
    blob = json.dumps(manifest, sort_keys=True)
    folder = Path(root) / PLANS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{experiment}-{hashlib.sha256(blob.encode()).hexdigest()[:12]}.json"
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    tmp.write_text(blob)
    os.replace(tmp, path)
    return path


def planned(root: Path) -> list[dict]:
    """Every recorded plan of the store at `root`, oldest file name first."""
    folder = Path(root) / PLANS_DIR
    return [json.loads(path.read_text()) for path in sorted(folder.glob("*.json"))] if folder.exists() else []


def plan_progress(root: Path, connection=None) -> list[dict]:
    """Per recorded plan: experiment, seed, trials expected (configs x trials) and done (distinct
    trials of its configs in the store, any run key). `connection`: the store's, if already open."""
    from groklab.store import Store

    plans = planned(root)
    if plans and connection is None and Store(root).trial_files():
        connection = Store(root).connect()
    rows = []
    for plan in plans:
        done = 0
        if connection is not None and plan["config_hashes"]:
            marks = ", ".join("?" * len(plan["config_hashes"]))
            done = connection.execute(f"SELECT count(DISTINCT (config_hash, trial_index)) FROM trials WHERE seed = ? "
                                      f"AND trial_index < ? AND config_hash IN ({marks})",
                                      [plan["seed"], plan["trials"], *plan["config_hashes"]]).fetchone()[0]
        rows.append({"experiment": plan["experiment"], "seed": plan["seed"], "configs": len(plan["config_hashes"]),
                     "expected": plan["trials"] * len(plan["config_hashes"]), "done": int(done)})
    return rows
