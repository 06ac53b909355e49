"""`groklab report`: one self-contained static HTML page for a store — the claim verdicts, then per
experiment its figures (inlined as PNG data URIs), trial counts and outcomes, configs, seeds and the
versions that produced them. No network and no JavaScript: the file can be mailed as it is. The
page is a Jinja2 template (`templates/report.html.j2`); this module only gathers what it shows.
Each recipe run leaves its summary in the store (store/summaries.py): the page shows its numbers
and verdict beside the experiments."""
from __future__ import annotations

import base64
import json
from datetime import datetime, timezone
from pathlib import Path

from groklab.errors import GroklabInputError

MAX_CONFIGS_SHOWN = 12  # per experiment; the rest are counted
MAX_LIST_SHOWN = 12  # a summary's list value longer than this is shown by its length and first items
# Summary keys the recipe section shows elsewhere or that say nothing about the result.
SUMMARY_CONTEXT = {"recipe", "experiment", "experiment_version", "options", "store", "claim", "verdict", "figures"}

EXPERIMENTS_SQL = """
SELECT experiment, string_agg(DISTINCT experiment_version, ', ') AS experiment_version, count(*) AS trials, count(DISTINCT config_hash) AS configs,
       sum(CASE WHEN status = 'converged' THEN 1 ELSE 0 END) AS converged,
       sum(CASE WHEN status = 'diverged' THEN 1 ELSE 0 END) AS diverged,
       sum(CASE WHEN status = 'budget' THEN 1 ELSE 0 END) AS budget,
       median(convergence_step) AS median_convergence_step, list(DISTINCT seed ORDER BY seed) AS seeds,
       string_agg(DISTINCT groklab_version, ', ') AS groklab_version, string_agg(DISTINCT jax_version, ', ') AS jax,
       string_agg(DISTINCT device, ', ') AS device, string_agg(DISTINCT git_commit, ', ') AS git_commit,
       min(created_at) AS first, max(created_at) AS last
FROM trials GROUP BY experiment ORDER BY experiment"""


def _figure(path: Path) -> dict:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return {"name": path.name, "src": f"data:image/png;base64,{data}"}


def _summary(summary: dict) -> dict:
    """A recipe's recorded summary as the page shows it: claim, verdict, options, and one row per
    number (long lists shortened)."""
    rows = []
    for key, value in sorted(summary.items()):
        if key in SUMMARY_CONTEXT:
            continue
        if isinstance(value, list) and len(value) > MAX_LIST_SHOWN:
            value = f"{len(value)} values: {json.dumps(value[:MAX_LIST_SHOWN])[:-1]}, ...]"
        elif not isinstance(value, str):
            value = json.dumps(value, sort_keys=True)
        rows.append({"key": key, "value": value})
    return {"recipe": summary.get("recipe", "?"), "claim": summary.get("claim", ""),
            "verdict": summary.get("verdict", "INFO"), "rows": rows,
            "options": json.dumps(summary.get("options", {}), sort_keys=True)}


def _owner(figure: Path, experiments: list[str]) -> str | None:
    """The experiment a figure belongs to: the longest experiment name its file name starts with
    (`parity-scaling-k3.png` is parity-scaling's, not parity's); None if no name fits."""
    stem = figure.stem.replace("-", "_")
    names = [name for name in experiments if stem.startswith(name.replace("-", "_"))]
    return max(names, key=len) if names else None


def _rows(connection, sql: str, params=None) -> list[dict]:
    cursor = connection.execute(sql, params or [])
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def _add_progress(root: Path, experiments: list[dict], connection) -> None:
    """Per experiment, the trials its recorded plans asked for that the store does not hold: still
    running while another process holds the store's writer lock, else missing (with the SLURM job
    arrays submitted for the experiment, which run without holding the lock)."""
    from groklab.executors.slurm import recorded_arrays
    from groklab.store.lock import in_use
    from groklab.store.plans import plan_progress

    by_name = {e["experiment"]: e for e in experiments}
    running = in_use(root) is not None
    arrays: dict[str, list[str]] = {}  # SLURM arrays run without the store's lock: submitted, maybe running
    for array in recorded_arrays(root):
        arrays.setdefault(array["experiment"], []).append(array["array"])
    for plan in plan_progress(root, connection):
        entry = by_name.setdefault(plan["experiment"], {"experiment": plan["experiment"], "experiment_version": "-",
                                                        "trials": 0, "configs": 0, "config_list": [], "seeds": [],
                                                        "figures": []})
        entry.setdefault("pending", []).append({"seed": plan["seed"], "expected": plan["expected"],
                                                "done": plan["done"], "state": "running" if running else "missing",
                                                "arrays": arrays.get(plan["experiment"], [])})
    experiments[:] = sorted(by_name.values(), key=lambda e: e["experiment"])


def gather(root: Path) -> dict:
    """Everything the page shows, read from the store (nothing is re-run)."""
    from groklab.store import Store

    store = Store(root)
    from groklab.store.summaries import recorded_summaries

    figures = sorted((root / "figures").glob("*.png")) if (root / "figures").exists() else []
    summaries = [_summary(s) for s in recorded_summaries(root)]
    has_trials = bool(store.trial_files(None))
    tables = sorted(p.stem for p in store.tables_dir.glob("*.parquet")) if store.tables_dir.exists() else []
    if not has_trials and not tables and not figures and not summaries:
        raise GroklabInputError(f"store: no results in {root}")
    experiments, verdicts = [], []
    if has_trials or tables:
        connection = store.connect()
        if has_trials:
            experiments = _rows(connection, EXPERIMENTS_SQL)
            for experiment in experiments:
                configs = _rows(connection, "SELECT config_json, count(*) AS trials FROM trials WHERE experiment = ? "
                                "GROUP BY config_json ORDER BY config_json", [experiment["experiment"]])
                experiment["config_list"] = [{"trials": c["trials"], "json": json.dumps(json.loads(c["config_json"]),
                                                                                    sort_keys=True)}
                                         for c in configs[:MAX_CONFIGS_SHOWN]]
                experiment["more_configs"] = max(0, len(configs) - MAX_CONFIGS_SHOWN)
        if "claim-verdicts" in tables:
            verdicts = _rows(connection, "SELECT suite, claim, scale, setting, measured, threshold, verdict, "
                             "groklab_version, git_commit, created_at FROM claim_verdicts "
                             "ORDER BY CAST(claim AS INTEGER), scale")
    _add_progress(root, experiments, connection if has_trials else None)
    owner = {f: _owner(f, [e["experiment"] for e in experiments]) for f in figures}
    for experiment in experiments:
        experiment["figures"] = [_figure(f) for f in figures if owner[f] == experiment["experiment"]]
    other = [_figure(f) for f in figures if owner[f] is None]
    counts = {v: sum(row["verdict"] == v for row in verdicts) for v in ("PASS", "FAIL", "INFO")}
    return {"store": str(root), "experiments": experiments, "verdicts": verdicts, "verdict_counts": counts,
            "other_figures": other, "tables": tables, "summaries": summaries,
            "generated": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}


def build_report(root: Path | str, out: Path | str | None = None) -> Path:
    """Write the report of store `root` to `out` (default ROOT/report.html) and return its path."""
    from jinja2 import Environment, PackageLoader

    root = Path(root)
    if not root.is_dir():
        raise GroklabInputError(f"store: {root} is not a directory")
    page = gather(root)
    environment = Environment(loader=PackageLoader("groklab.report", "templates"), autoescape=True)
    out = Path(out) if out is not None else root / "report.html"
    out.write_text(environment.get_template("report.html.j2").render(**page), encoding="utf-8")
    return out
