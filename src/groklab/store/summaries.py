"""What each recipe concluded: its summary (numbers, verdict, claim) as one JSON file per recipe in
STORE/summaries/, rewritten atomically by every run of the recipe, so that a report can show a
recipe's numbers and verdict without re-running it."""
from __future__ import annotations

import json
from pathlib import Path

from groklab.store.layout import write_json_atomic

SUMMARIES_DIR = "summaries"


def record_summary(root: Path, recipe: str, summary: dict) -> Path:
    path = Path(root) / SUMMARIES_DIR / f"{recipe}.json"
    write_json_atomic({"recipe": recipe, **summary}, path)
    return path


def recorded_summaries(root: Path) -> list[dict]:
    folder = Path(root) / SUMMARIES_DIR
    return [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))] if folder.exists() else []
