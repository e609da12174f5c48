"""Data files on disk (written by `python -m data_prep.prepare`) as the library's inputs.

The one place where the library reads data_prep's files; every failure becomes one `CLIError`
line for the command line.
"""
from __future__ import annotations

import os
from pathlib import Path

import data_prep
import torch
from data_prep import PartDataset
from data_prep.errors import DataError
from data_prep.synthetic import render

from ..config import GANSegConfig
from ..evaluation.evaluate import LabelledImages


class CLIError(Exception):
    """Bad input found by the command line itself; printed as one line."""


def read_data(path: str | os.PathLike):
    """The whole data file (`data_prep.read`), every failure turned into one line."""
    path = Path(path)
    if not path.is_file():
        raise CLIError(f"data file {path} not found; make one with e.g. "
                       f"`python -m data_prep.prepare synthetic:faces --size 32 --out {path}`")
    try:
        return data_prep.read(path)
    except DataError as err:
        raise CLIError(str(err)) from None
    except Exception as err:  # a file of another kind
        raise CLIError(f"{path} is not a data file written by data_prep.prepare ({type(err).__name__}: "
                       f"{str(err).splitlines()[0][:120] if str(err) else ''})") from None


def split_of(data, split: str | None, path: str | os.PathLike):
    """One split of a read data file as a data_prep dataset (None: every item)."""
    try:
        return PartDataset(data, split, str(path))
    except DataError as err:
        raise CLIError(str(err)) from None


def load_split(path: str | os.PathLike, split: str | None):
    """`data_prep.load(path, split)` with every failure turned into one line."""
    return split_of(read_data(path), split, path)


def check_size(images: torch.Tensor, size: int, path, preset: str) -> None:
    """Images of the preset's size, or one line saying how to get them."""
    if images.shape[-1] != size or images.shape[-2] != size:
        raise CLIError(f"{path} holds {images.shape[-1]} px images but preset {preset!r} makes {size} px ones; "
                       f"prepare the data with --size {size} or choose a preset of that size")


def evaluation_splits(path: str | os.PathLike, cfg: GANSegConfig,
                      max_test: int | None = None) -> tuple[LabelledImages, LabelledImages]:
    """The data file's fit and test splits (named in its meta, default train / test) as labelled images."""
    data = read_data(path)
    splits = data.meta.get("eval_splits") or {}
    fit_split, test_split = splits.get("fit", "train"), splits.get("test", "test")
    test_ds = split_of(data, test_split, path)
    # the regression's fit split is only needed (and may only exist) when there are landmarks
    train_ds = split_of(data, fit_split, path) if test_ds.landmarks is not None else test_ds
    del data
    check_size(test_ds.images, cfg.generator.image_size, path, cfg.name)
    train, test = LabelledImages.from_dataset(train_ds), LabelledImages.from_dataset(test_ds)
    if max_test is not None:
        test = test.head(max_test)
    return train, test


def synthetic_images(domain: str, n: int, size: int, seed: int = 0) -> torch.Tensor:
    """n procedurally rendered images of `domain` (e.g. "faces"), uint8 (n, 3, size, size)."""
    return render(domain, n, size, seed=seed).images
