"""Claim verdicts kept in the store (the `claim-verdicts` table), so a report can show them later
without re-running anything. One row per check result, with the provenance of the run that produced
it; a re-run of a claim at a scale replaces that claim's rows at that scale and keeps every other
row exactly as it was written (its versions and date included)."""
from __future__ import annotations

from pathlib import Path

from groklab.checks.base import CheckResult, Scale

TABLE = "claim-verdicts"


def record_verdicts(root: Path | str, suite_of: dict[str, str], results: list[CheckResult], scale: Scale) -> Path:
    """Merge `results` (claim -> suite given by `suite_of`) into the store's verdicts table."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from groklab.store import Store
    from groklab.store.layout import write_atomic
    from groklab.store.writer import table_rows

    store = Store(root)
    path = store.tables_dir / f"{TABLE}.parquet"
    rerun = {r.claim for r in results}
    new = table_rows([{"suite": suite_of[r.claim], **r.as_dict(), "scale": scale} for r in results], "check")
    with store.writing():
        rows = new.to_pylist()
        if path.exists():
            rows += [row for row in pq.read_table(path).to_pylist()
                     if not (row["claim"] in rerun and row["scale"] == scale)]
        rows.sort(key=lambda row: (int(row["claim"]), row["scale"], row["created_at"]))
        store.tables_dir.mkdir(parents=True, exist_ok=True)
        write_atomic(pa.Table.from_pylist(rows), path)
    return path
