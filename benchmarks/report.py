"""Where a benchmark's report goes: one JSON file, written whole or not at all."""
from __future__ import annotations

import json
from pathlib import Path

from ganseg_lib.checkpoint import atomic_write_text


def write_report(path: str | Path, report) -> Path:
    """Write `report` as indented JSON to `path` (its folder made if needed, via a temp file and a
    rename, so that an interrupted run leaves no half-written report) and say where."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps(report, indent=2) + "\n")
    print(f"wrote {path}")
    return path
