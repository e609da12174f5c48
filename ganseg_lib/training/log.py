"""The run's CSV log: one row every `train.log_every` steps, averaged over those steps."""
from __future__ import annotations

import csv
import io
from pathlib import Path

import torch

from ..checkpoint import atomic_write_text

LOG = "log.csv"  # log file inside a run folder
LOG_FIELDS = ["step", "elapsed_s", "it_per_s", "d_loss", "g_loss", "r1", "con", "area", "real_logit", "fake_logit",
              "real_sign", "aug_p", "alive_parts"]


def log_fields(n_parts: int) -> list[str]:
    """Columns of log.csv: the losses, D's logits, the augmentation strength and each part's mass."""
    return LOG_FIELDS + [f"mass{k}" for k in range(n_parts)]


def _writer(f, fields: list[str]) -> csv.DictWriter:
    return csv.DictWriter(f, fields, restval="", extrasaction="ignore", lineterminator="\n")


def _formatted(row: dict) -> dict[str, str]:
    return {k: str(v) if k == "step" else f"{v:.6g}" for k, v in row.items() if v is not None}


def append_log(path: Path, row: dict, fields: list[str] = LOG_FIELDS) -> None:
    """Append one row (numbers; missing or None fields stay empty), writing the header first."""
    new = not path.exists()
    with open(path, "a", newline="") as f:
        writer = _writer(f, fields)
        if new:
            writer.writeheader()
        writer.writerow(_formatted(row))


def read_log(path: Path) -> list[dict[str, str]]:
    """The rows of a log.csv, as the CSV holds them (strings; empty where a field was not logged)."""
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def trim_log(path: Path, last_step: int, fields: list[str] = LOG_FIELDS) -> None:
    """Drop log rows written after the checkpoint we resume from (they will be written again)."""
    if not path.exists():
        return
    rows = [r for r in read_log(path) if int(r["step"]) <= last_step]
    text = io.StringIO()
    writer = _writer(text, fields)
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_text(path, text.getvalue())


class Averager:
    """Running means of the step statistics between two log rows.

    Tensor statistics are summed where they are (on the GPU, without a host synchronisation);
    `pop` reads them all in one transfer."""

    def __init__(self):
        self.sums: dict[str, torch.Tensor | float] = {}
        self.counts: dict[str, int] = {}

    def add(self, stats: dict[str, torch.Tensor | float]) -> None:
        for k, v in stats.items():
            v = v.detach().float() if isinstance(v, torch.Tensor) else float(v)
            self.sums[k] = self.sums[k] + v if k in self.sums else v
            self.counts[k] = self.counts.get(k, 0) + 1

    def pop(self) -> dict[str, float]:
        tensors = [k for k, v in self.sums.items() if isinstance(v, torch.Tensor)]
        read = dict(zip(tensors, torch.stack([self.sums[k] for k in tensors]).tolist())) if tensors else {}
        out = {k: read.get(k, v) / self.counts[k] for k, v in self.sums.items()}
        self.sums, self.counts = {}, {}
        return out
