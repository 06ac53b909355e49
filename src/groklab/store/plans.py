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
