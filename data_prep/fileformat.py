"""The prepared-data file: one `torch.save`d dictionary of plain tensors, strings and lists.

It loads with `torch.load(path, weights_only=True)`.  Keys (N items, S x S pixels, L landmarks):

    format        "ganseg-data"                     marks the file as ours
    version       1
    size          S
    images        uint8 (N, 3, S, S)                RGB
    split         uint8 (N,)                        index into split_names, one per item
    split_names   list of str                       e.g. ["train", "test"]
    files         list of N str                     where each item came from ("" if generated)
    landmarks     float32 (N, L, 2), optional       (x, y) in [-1, 1], x right, y down, pixel
                                                    centres at (col + 0.5) * 2 / S - 1
    visible       bool (N, L), with landmarks       False = unknown or occluded point
    fg_masks      bool (N, S, S), optional          foreground
    has_mask      bool (N,), with fg_masks          False = this item has no mask
    part_labels   uint8 (N, S, S), optional         0 = background, k = meta["part_names"][k - 1]
    meta          dict                              see below

meta: "source" (e.g. "synthetic:faces", "celeba-wild", "folder"), "description" (one line),
"eval_splits" ({"fit": split the landmark regressor is fitted on, "test": split scored}),
"landmark_names" and "landmark_protocol" when there are landmarks ("mafl": face points,
regression without bias, error / inter-ocular distance; "keypoints": regression with bias,
invisible points skipped, error in pixels), "landmark_eyes" (mafl, optional: the two 0-based
eye points, default [0, 1]), "part_names" with part_labels, "options" (the
arguments that made the file), "skipped" (files left out by --skip-bad).

Files are written atomically: to a temporary file in the same folder, then renamed.
"""
from __future__ import annotations

import os
import pickle
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import Tensor

from .errors import DataError

FORMAT = "ganseg-data"
VERSION = 1
PROTOCOLS = ("mafl", "keypoints")
MAFL_NAMES = ["left_eye", "right_eye", "nose", "mouth_left", "mouth_right"]


@dataclass
class Prepared:
    """Everything a data file holds, in memory."""

    images: Tensor  # (N, 3, S, S) uint8
    split: Tensor  # (N,) uint8, index into split_names
    split_names: list[str]
    meta: dict
    files: list[str] = field(default_factory=list)  # N source paths ("" when generated)
    landmarks: Tensor | None = None  # (N, L, 2) float32, (x, y) in [-1, 1]
    visible: Tensor | None = None  # (N, L) bool
    fg_masks: Tensor | None = None  # (N, S, S) bool
    has_mask: Tensor | None = None  # (N,) bool
    part_labels: Tensor | None = None  # (N, S, S) uint8

    @property
    def size(self) -> int:
        return int(self.images.shape[-1])

    def __len__(self) -> int:
        return int(self.images.shape[0])

    def split_counts(self) -> dict[str, int]:
        counts = torch.bincount(self.split.long(), minlength=len(self.split_names))
        return {name: int(c) for name, c in zip(self.split_names, counts)}

    def check(self, where: str = "data") -> None:
        """Raise DataError unless every array has the shape and type the format promises."""
        def bad(what: str) -> DataError:
            return DataError(f"{where}: {what}; re-create the file with python -m data_prep.prepare")

        im = self.images
        if not (isinstance(im, Tensor) and im.dtype == torch.uint8 and im.dim() == 4 and im.shape[1] == 3
                and im.shape[2] == im.shape[3]):
            raise bad("'images' must be uint8 (N, 3, S, S)")
        n, s = im.shape[0], im.shape[-1]
        if n == 0:
            raise bad("it holds no images")
        if not (isinstance(self.split, Tensor) and self.split.shape == (n,) and self.split.dtype == torch.uint8):
            raise bad("'split' must be uint8 (N,)")
        if not self.split_names or int(self.split.max()) >= len(self.split_names):
            raise bad("'split' points past 'split_names'")
        if len(self.files) not in (0, n):
            raise bad("'files' must list one entry per image")
        expect = {
            "landmarks": (self.landmarks, torch.float32, None),
            "visible": (self.visible, torch.bool, None),
            "fg_masks": (self.fg_masks, torch.bool, (n, s, s)),
            "has_mask": (self.has_mask, torch.bool, (n,)),
            "part_labels": (self.part_labels, torch.uint8, (n, s, s)),
        }
        for key, (t, dtype, shape) in expect.items():
            if t is None:
                continue
            if not isinstance(t, Tensor) or t.dtype != dtype or (shape is not None and tuple(t.shape) != shape):
                raise bad(f"'{key}' must be {str(dtype).replace('torch.', '')} {shape or ''}".rstrip())
        if (self.landmarks is None) != (self.visible is None):
            raise bad("'landmarks' and 'visible' come together")
        if self.landmarks is not None:
            if self.landmarks.dim() != 3 or self.landmarks.shape[0] != n or self.landmarks.shape[2] != 2:
                raise bad("'landmarks' must be float32 (N, L, 2)")
            if tuple(self.visible.shape) != tuple(self.landmarks.shape[:2]):
                raise bad("'visible' must be bool (N, L)")
            protocol = self.meta.get("landmark_protocol")
            if protocol is not None and protocol not in PROTOCOLS:
                raise bad(f"unknown landmark_protocol {protocol!r}")
            eyes = self.meta.get("landmark_eyes", [0, 1])
            n_points = self.landmarks.shape[1]
            if len(eyes) != 2 or len(set(eyes)) != 2 or not all(0 <= e < n_points for e in eyes):
                raise bad(f"'landmark_eyes' must name two different landmarks of {n_points}, got {eyes}")
        if (self.fg_masks is None) != (self.has_mask is None):
            raise bad("'fg_masks' and 'has_mask' come together")
        if self.part_labels is not None and len(self.meta.get("part_names", [])) < int(self.part_labels.max()):
            raise bad("'part_labels' uses labels that meta['part_names'] does not name")

    def to_dict(self) -> dict:
        d = {"format": FORMAT, "version": VERSION, "size": self.size, "images": self.images, "split": self.split,
             "split_names": list(self.split_names), "files": list(self.files), "meta": self.meta}
        for key in ("landmarks", "visible", "fg_masks", "has_mask", "part_labels"):
            if getattr(self, key) is not None:
                d[key] = getattr(self, key)
        return d


def save(data: Prepared, path: str | os.PathLike) -> Path:
    """Write `data` to `path` atomically (temporary file in the same folder, then rename); the
    folder is created if needed.  Returns the path."""
    path = Path(path)
    data.check(str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        umask = os.umask(0o22)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes the file private; give it the usual permissions
        with os.fdopen(fd, "wb") as fh:
            torch.save(data.to_dict(), fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def read(path: str | os.PathLike) -> Prepared:
    """Load and check a data file; every problem is a one-line DataError naming the file."""
    path = Path(path)
    hint = "make one with: python -m data_prep.prepare synthetic:faces --out FILE"
    if not path.exists():
        raise DataError(f"{path}: no such data file; {hint}")
    if path.is_dir():
        raise DataError(f"{path}: is a folder, not a data file; {hint}")
    try:
        raw = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        raise DataError(f"{path}: not a data file (not a torch.save archive of plain tensors); "
                        f"re-create it with python -m data_prep.prepare") from None
    except Exception as e:  # damaged archives fail inside the unpickler in many ways (KeyError, EOFError...)
        text = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        reason = "truncated or damaged" if "zip" in text.lower() or not isinstance(e, OSError) else text[:80]
        raise DataError(f"{path}: cannot read the data file ({reason}); re-create it with "
                        f"python -m data_prep.prepare") from None
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise DataError(f"{path}: not a data file made by data_prep (no format '{FORMAT}'); {hint}")
    if raw.get("version") != VERSION:
        raise DataError(f"{path}: data format version {raw.get('version')!r}, this code reads {VERSION}; "
                        f"re-create it with python -m data_prep.prepare")
    try:
        data = Prepared(images=raw["images"], split=raw["split"], split_names=list(raw["split_names"]),
                        meta=dict(raw["meta"]), files=list(raw.get("files", [])),
                        landmarks=raw.get("landmarks"), visible=raw.get("visible"), fg_masks=raw.get("fg_masks"),
                        has_mask=raw.get("has_mask"), part_labels=raw.get("part_labels"))
    except (KeyError, TypeError) as e:
        raise DataError(f"{path}: data file lacks {e}; re-create it with python -m data_prep.prepare") from None
    data.check(str(path))
    return data
