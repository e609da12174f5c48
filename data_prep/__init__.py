"""Data for GANSeg: procedural domains with exact ground truth, the paper's datasets, any folder.

    python -m data_prep.prepare synthetic:faces --n 10000 --size 64 --out data/faces64.ganseg-data
    ds = data_prep.load("data/faces64.ganseg-data", split="train")   # a torch Dataset over uint8 tensors

Nothing here imports the model.  Coordinates: (x, y), x to the right, y down, both in [-1, 1]
over the image, pixel centres at (col + 0.5) * 2 / S - 1 (rows likewise for y).
"""
from __future__ import annotations

from pathlib import Path

from .dataset import PartDataset, load
from .errors import DataError
from .fileformat import MAFL_NAMES, Prepared, read, save
from .images import to_float, to_uint8
from .synthetic import DOMAINS, SyntheticImages, render, to_prepared


def prepare_synthetic(domain: str, n: int, size: int = 64, seed: int = 0, out: str | Path | None = None,
                      test_fraction: float = 0.1, progress: bool = False, workers: int = 0) -> Prepared:
    """Render n images of a synthetic domain as a dataset (last ~test_fraction = "test"); written
    atomically to `out` when given.  `workers` as in `render`."""
    data = to_prepared(render(domain, n, size, seed, progress=progress, workers=workers), test_fraction)
    if out is not None:
        save(data, out)
    return data


__all__ = ["DOMAINS", "DataError", "MAFL_NAMES", "PartDataset", "Prepared", "SyntheticImages", "load",
           "prepare_synthetic", "read", "render", "save", "to_float", "to_prepared", "to_uint8"]
