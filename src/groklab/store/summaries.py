"""What each recipe concluded: its summary (numbers, verdict, claim) as one JSON file per recipe in
STORE/summaries/, rewritten atomically by every run of the recipe, so that a report can show a
recipe's numbers and verdict without re-running it."""
from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

SUMMARIES_DIR = "summaries"


def _plain(value):
    """JSON for numpy scalars and anything else a summary may hold (as text when not a number)."""
    try:
        return value.item()
    except AttributeError:
        return str(value)


def record_summary(root: Path, recipe: str, summary: dict) -> Path:
    folder = Path(root) / SUMMARIES_DIR
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{recipe}.json"
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    tmp.write_text(json.dumps({"recipe": recipe, **summary}, default=_plain, sort_keys=True))
    os.replace(tmp, path)
    return path


def recorded_summaries(root: Path) -> list[dict]:
    folder = Path(root) / SUMMARIES_DIR
    return [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))] if folder.exists() else []
