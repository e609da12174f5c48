"""Turning a list of files on disk into a `Prepared` dataset: the loop every real source shares.

A source (CelebA, CUB, a plain folder...) only lists `Item`s: which image, which split, where its
landmarks are in source pixels, which mask file and how to read it, which crop.  `collect` reads
them all with a progress bar, checks masks against images, normalises landmarks to the project's
(x, y) in [-1, 1] convention, skips unreadable images when asked, and refuses empty splits.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from .errors import DataError
from .fileformat import Prepared
from .images import Box, UnreadableImage, read_mask_array, read_rgb, resize_mask


def nonzero_mask(pixels: np.ndarray) -> np.ndarray:
    """Any non-zero colour channel is foreground (and, in files with alpha, only where opaque)."""
    px = pixels.reshape(pixels.shape[0], pixels.shape[1], -1)
    if px.shape[2] in (2, 4):  # LA, RGBA: the last channel is alpha
        return ((px[..., :-1] > 0).any(-1) & (px[..., -1] > 0)).astype(np.float32)
    return (px > 0).any(-1).astype(np.float32)


def soft_mask(pixels: np.ndarray) -> np.ndarray:
    """Grey levels / 255 (first channel of colour files): thresholded at 0.5 after resizing."""
    grey = pixels if pixels.ndim == 2 else pixels[..., 0]
    return grey.astype(np.float32) / 255.0


@dataclass
class Item:
    image: Path
    name: str  # recorded in the file's `files` list, relative to the source folder
    split: str
    landmarks: np.ndarray | None = None  # (L, 2) source pixels, 0-based pixel centres; NaN = invisible
    mask: Path | None = None
    mask_rule: Callable[[np.ndarray], np.ndarray] = nonzero_mask  # mask file pixels -> (H, W) in [0, 1]
    box: Callable[[int, int], Box] | None = None  # crop of the (width, height) source, applied first


def normalise_landmarks(points: np.ndarray, box: Box) -> tuple[np.ndarray, np.ndarray]:
    """Source pixel coordinates -> (x, y) in [-1, 1] of the crop `box`; NaN rows are invisible."""
    left, top, right, bottom = box
    x = (points[:, 0] - left + 0.5) * 2.0 / (right - left) - 1.0
    y = (points[:, 1] - top + 0.5) * 2.0 / (bottom - top) - 1.0
    out = np.stack([x, y], axis=1)
    visible = np.isfinite(out).all(axis=1)
    return np.nan_to_num(out, nan=0.0).astype(np.float32), visible


def collect(items: list[Item], size: int, split_names: list[str], meta: dict, *, n_landmarks: int = 0,
            with_masks: bool = False, skip_bad: bool = False, progress: bool = True,
            split_origin: dict[str, str] | None = None) -> Prepared:
    """Read every item into one `Prepared` (see the module docstring)."""
    if not items:
        raise DataError(f"{meta.get('source', 'source')}: no images found; check the folder")
    n = len(items)
    images = torch.empty(n, 3, size, size, dtype=torch.uint8)
    split = torch.empty(n, dtype=torch.uint8)
    landmarks = torch.zeros(n, n_landmarks, 2) if n_landmarks else None
    visible = torch.zeros(n, n_landmarks, dtype=torch.bool) if n_landmarks else None
    masks = torch.zeros(n, size, size, dtype=torch.bool) if with_masks else None
    has_mask = torch.zeros(n, dtype=torch.bool) if with_masks else None
    keep = torch.zeros(n, dtype=torch.bool)
    skipped: list[str] = list(meta.get("skipped", []))  # a source may have skipped files already
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=n, desc=f"reading {meta.get('source', '')}", unit="img", leave=False)
    for i, item in enumerate(items):
        if bar is not None:
            bar.update(1)
        try:
            image, (w, h) = read_rgb(item.image, size, item.box)
            box = item.box(w, h) if item.box is not None else (0, 0, w, h)
            if item.mask is not None:
                pixels = read_mask_array(item.mask)
                if pixels.shape[:2] != (h, w):
                    raise DataError(f"{item.mask}: mask is {pixels.shape[1]}x{pixels.shape[0]} but image "
                                    f"{item.image} is {w}x{h}; masks must have the image's size")
                masks[i] = resize_mask(item.mask_rule(pixels), size, box)
                has_mask[i] = True
        except UnreadableImage as e:
            if not skip_bad:
                raise
            what = "" if e.path == item.image else f"mask {e.path.name}: "
            skipped.append(f"{item.name} ({what}{e.reason})")
            continue
        images[i] = image
        split[i] = split_names.index(item.split)
        if item.landmarks is not None:
            pts, vis = normalise_landmarks(item.landmarks, box)
            landmarks[i] = torch.from_numpy(pts)
            visible[i] = torch.from_numpy(vis)
        keep[i] = True
    if bar is not None:
        bar.close()

    idx = torch.nonzero(keep).view(-1)
    counts = torch.bincount(split[idx].long(), minlength=len(split_names)) if idx.numel() else torch.zeros(
        len(split_names), dtype=torch.long)
    for name, c in zip(split_names, counts.tolist()):
        if c == 0:
            origin = (split_origin or {}).get(name, "the split rule")
            raise DataError(f"split {name!r} is empty (from {origin}); add images to it"
                            + (" or fix the unreadable files" if skipped else ""))
    meta = dict(meta, skipped=skipped)

    def kept(t: torch.Tensor | None) -> torch.Tensor | None:
        # Without skipped items keep the arrays as they are: a copy of CelebA at 128 px is gigabytes.
        return t if t is None or idx.numel() == n else t[idx]

    return Prepared(images=kept(images), split=kept(split), split_names=list(split_names), meta=meta,
                    files=[items[i].name for i in idx.tolist()], landmarks=kept(landmarks), visible=kept(visible),
                    fg_masks=kept(masks), has_mask=kept(has_mask))
