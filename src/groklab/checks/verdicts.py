"""Claim verdicts kept in the store (the `claim-verdicts` table), so a report can show them later
without re-running anything. One row per check result; a re-run of a claim at a scale replaces that
claim's rows at that scale and keeps every other claim's."""
from __future__ import annotations

from pathlib import Path

from groklab.checks.base import CheckResult, Scale

TABLE = "claim-verdicts"


def record_verdicts(root: Path | str, suite_of: dict[str, str], results: list[CheckResult], scale: Scale) -> Path:
    """Merge `results` (claim -> suite given by `suite_of`) into the store's verdicts table."""
    import pyarrow.parquet as pq

    from groklab.store import Store

    store = Store(root)
    path = store.tables_dir / f"{TABLE}.parquet"
    rerun = {r.claim for r in results}
    kept = []
    if path.exists():
        kept = [{key: row[key] for key in ("suite", "claim", "scale", "setting", "measured", "threshold", "verdict")}
                for row in pq.read_table(path).to_pylist()
                if not (row["claim"] in rerun and row["scale"] == scale)]
    rows = kept + [{"suite": suite_of[r.claim], **r.as_dict(), "scale": scale} for r in results]
    rows.sort(key=lambda row: (int(row["claim"]), row["scale"]))
    return store.write_table(TABLE, rows, experiment="check")
