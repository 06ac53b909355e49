"""What was asked of a store: each plan run into it leaves a small manifest (experiment, seed, trials
per config, config hashes), so a report can show trials that are still running or missing, not only
the ones that finished. One JSON file per distinct plan, written atomically; re-running the same
plan rewrites the same file."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from groklab.store.layout import write_json_atomic

PLANS_DIR = "plans"


def record_plan(root: Path, experiment: str, seed: int, trials: int, config_hashes: list[str],
                run_keys: dict[str, str] | None = None) -> Path:
    """Record a plan; `run_keys` (config hash -> run key) are the keys its latest run trains under,
    so progress counts only trials that this run would count as done (not rows of an older version)."""
    manifest = {"experiment": experiment, "seed": seed, "trials": trials, "config_hashes": sorted(set(config_hashes))}
    name = hashlib.sha256(json.dumps(manifest, sort_keys=True).encode()).hexdigest()[:12]  # one file per plan
    if run_keys is not None:
        manifest["run_keys"] = {h: run_keys[h] for h in manifest["config_hashes"]}
    path = Path(root) / PLANS_DIR / f"{experiment}-{name}.json"
    write_json_atomic(manifest, path)
    return path


def planned(root: Path) -> list[dict]:
    """Every recorded plan of the store at `root`, oldest file name first."""
    folder = Path(root) / PLANS_DIR
    return [json.loads(path.read_text()) for path in sorted(folder.glob("*.json"))] if folder.exists() else []


def plan_progress(root: Path, connection=None) -> list[dict]:
    """Per recorded plan: experiment, seed, trials expected (configs x trials) and done (distinct
    trials of its configs in the store under the run keys of its latest run; any run key for plans
    recorded before run keys were). `connection`: the store's, if already open."""
    from groklab.store import Store

    plans = planned(root)
    if plans and connection is None and Store(root).trial_files():
        connection = Store(root).connect()
    rows = []
    for plan in plans:
        done = 0
        if connection is not None and plan.get("run_keys"):  # trials done under the run's own keys
            keys = [f"{h}:{k}" for h, k in plan["run_keys"].items()]
            done = connection.execute("SELECT count(DISTINCT (config_hash, trial_index)) FROM all_trials WHERE seed = ? "
                                      "AND trial_index < ? AND list_contains(?, config_hash || ':' || run_key)",
                                      [plan["seed"], plan["trials"], keys]).fetchone()[0]
        elif connection is not None and plan["config_hashes"]:  # a manifest from before run keys were recorded
            marks = ", ".join("?" * len(plan["config_hashes"]))
            done = connection.execute(f"SELECT count(DISTINCT (config_hash, trial_index)) FROM trials WHERE seed = ? "
                                      f"AND trial_index < ? AND config_hash IN ({marks})",
                                      [plan["seed"], plan["trials"], *plan["config_hashes"]]).fetchone()[0]
        rows.append({"experiment": plan["experiment"], "seed": plan["seed"], "configs": len(plan["config_hashes"]),
                     "expected": plan["trials"] * len(plan["config_hashes"]), "done": int(done)})
    return rows
