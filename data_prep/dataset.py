"""One split of a prepared file as a torch Dataset that also exposes the whole split as tensors.

Trainers sample index batches straight from the uint8 tensors (`batch`, `float_images`), with
no per-item Python; `__getitem__` serves DataLoader users and the notebooks.
"""
from __future__ import annotations

import os

import torch
from torch import Tensor
from torch.utils.data import Dataset

from .errors import DataError
from .fileformat import Prepared, read


class PartDataset(Dataset):
    """Items are dicts: `image` float32 (3, S, S) in [-1, 1] and, when the file has them,
    `landmarks` float32 (L, 2) as (x, y) in [-1, 1], `visible` bool (L,), `fg_mask` bool (S, S),
    `part_labels` int64 (S, S) with 0 = background."""

    def __init__(self, data: Prepared, split: str | None = "train", path: str = ""):
        if split is None:
            index = torch.arange(len(data))
        else:
            if split not in data.split_names:
                raise DataError(f"{path or 'data'}: no split {split!r}; it has {', '.join(data.split_names)}")
            index = torch.nonzero(data.split == data.split_names.index(split)).view(-1)
            if index.numel() == 0:
                raise DataError(f"{path or 'data'}: split {split!r} is empty; re-create the file with more images")
        self.path = path
        self.split = split
        self.meta = data.meta
        self.size = data.size
        take = _selector(index)
        self.images = take(data.images)  # (N, 3, S, S) uint8
        self.files = [data.files[i] for i in index.tolist()] if data.files else []
        self.landmarks = take(data.landmarks) if data.landmarks is not None else None  # (N, L, 2) float32
        self.visible = take(data.visible) if data.visible is not None else None  # (N, L) bool
        self.fg_masks = self.has_mask = None
        if data.fg_masks is not None:
            has = take(data.has_mask)
            if bool(has.any()):
                self.fg_masks = take(data.fg_masks)  # (N, S, S) bool
                self.has_mask = has  # (N,) bool, False where an item has no mask
        self.part_labels = take(data.part_labels) if data.part_labels is not None else None  # (N, S, S) uint8

    @property
    def landmark_names(self) -> list[str] | None:
        return self.meta.get("landmark_names")

    @property
    def landmark_protocol(self) -> str | None:
        return self.meta.get("landmark_protocol")

    @property
    def part_names(self) -> list[str] | None:
        return self.meta.get("part_names")

    def __len__(self) -> int:
        return self.images.shape[0]

    def __getitem__(self, i: int) -> dict[str, Tensor]:
        item = {"image": self.images[i].float().mul_(2.0 / 255.0).sub_(1.0)}
        if self.landmarks is not None:
            item["landmarks"] = self.landmarks[i]
            item["visible"] = self.visible[i]
        if self.fg_masks is not None and bool(self.has_mask[i]):
            item["fg_mask"] = self.fg_masks[i]
        if self.part_labels is not None:
            item["part_labels"] = self.part_labels[i].long()
        return item

    def float_images(self, index: Tensor | None = None) -> Tensor:
        """(B, 3, S, S) float32 in [-1, 1] for an index tensor (all items if None)."""
        x = self.images if index is None else self.images.index_select(0, index)
        return x.float().mul_(2.0 / 255.0).sub_(1.0)

    def batch(self, index: Tensor) -> dict[str, Tensor]:
        """The items at `index` stacked: the keys of `__getitem__`, with a leading batch dim
        (`fg_mask` only when every item of the split has a mask)."""
        out = {"image": self.float_images(index)}
        if self.landmarks is not None:
            out["landmarks"] = self.landmarks.index_select(0, index)
            out["visible"] = self.visible.index_select(0, index)
        if self.fg_masks is not None and bool(self.has_mask.all()):
            out["fg_mask"] = self.fg_masks.index_select(0, index)
        if self.part_labels is not None:
            out["part_labels"] = self.part_labels.index_select(0, index).long()
        return out

    def sample(self, batch_size: int, generator: torch.Generator | None = None) -> Tensor:
        """Float images (B, 3, S, S) in [-1, 1] of a uniformly random index batch."""
        return self.float_images(torch.randint(0, len(self), (batch_size,), generator=generator))


def _selector(index: Tensor):
    """Rows `index` of a tensor: a view when they are one contiguous run (splits usually are,
    so a large training split is not copied), a contiguous copy otherwise."""
    first, n = int(index[0]), index.numel()
    if bool((index == torch.arange(first, first + n)).all()):
        return lambda t: t[first:first + n]
    return lambda t: t[index].contiguous()


def load(path: str | os.PathLike, split: str | None = "train") -> PartDataset:
    """Open one split of a prepared data file (split=None: every item)."""
    return PartDataset(read(path), split, str(path))
