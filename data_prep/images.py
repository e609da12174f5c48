"""Reading image and mask files from disk into fixed-size tensors, with clear errors.

Resizing is PIL's bilinear filter, which averages over the source pixels when shrinking (the
paper's preprocessing used bilinear too).  A crop box, when given, is applied in the same call.
Masks are resized as soft maps and thresholded at 0.5.
"""
from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError
from torch import Tensor

from .errors import DataError

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".ppm", ".gif")
Box = tuple[int, int, int, int]  # (left, top, right, bottom) in source pixels


class UnreadableImage(DataError):
    """An image file that exists but cannot be decoded; --skip-bad may skip it."""

    def __init__(self, path: Path, reason: str):
        super().__init__(f"{path}: cannot read image ({reason}); replace or delete the file, "
                         f"or pass --skip-bad to leave it out")
        self.path = path
        self.reason = reason


def is_image(name: str) -> bool:
    return name.lower().endswith(IMAGE_EXTENSIONS) and not os.path.basename(name).startswith(".")


def _open(path: Path, hint: str) -> Image.Image:
    if not path.is_file():
        raise DataError(f"{path}: file not found; {hint}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(path)
            img.load()
        return img
    except (OSError, UnidentifiedImageError, ValueError, SyntaxError, Image.DecompressionBombError,
            Image.DecompressionBombWarning) as e:
        raise UnreadableImage(path, str(e).splitlines()[0] if str(e) else type(e).__name__) from None


def image_size(path: Path) -> tuple[int, int]:
    """(width, height) from the file header, without decoding the pixels."""
    if not path.is_file():
        raise DataError(f"{path}: file not found; check that the download is complete")
    try:
        with Image.open(path) as img:
            return img.size
    except (OSError, UnidentifiedImageError, ValueError, SyntaxError) as e:
        raise UnreadableImage(path, str(e).splitlines()[0] if str(e) else type(e).__name__) from None


def read_rgb(path: Path, size: int, box: Callable[[int, int], Box] | None = None,
             hint: str = "check that the download is complete") -> tuple[Tensor, tuple[int, int]]:
    """uint8 (3, S, S) image and the source (width, height).  `box(w, h)` picks a crop."""
    img = _open(path, hint)
    w, h = img.size
    img = _eight_bit(img).convert("RGB")
    crop = box(w, h) if box is not None else None
    out = img.resize((size, size), Image.BILINEAR, box=crop)
    return torch.from_numpy(np.asarray(out, dtype=np.uint8).copy()).permute(2, 0, 1).contiguous(), (w, h)


def _eight_bit(img: Image.Image) -> Image.Image:
    """16-bit and 32-bit grayscale scaled to 8 bits (PIL's convert("RGB") clips them at 255, which
    turns a 16-bit photo white); float images are taken as [0, 1]."""
    if img.mode.startswith("I;16") or img.mode == "I":
        arr = np.asarray(img, dtype=np.float64)
        scale = 255.0 / 65535.0 if img.mode.startswith("I;16") or arr.max() > 255 else 1.0
        return Image.fromarray(np.clip(np.rint(arr * scale), 0, 255).astype(np.uint8), mode="L")
    if img.mode == "F":
        arr = np.asarray(img, dtype=np.float64)
        return Image.fromarray(np.clip(np.rint(arr * 255.0), 0, 255).astype(np.uint8), mode="L")
    return img


def resize_mask(mask: np.ndarray, size: int, box: Box | None = None) -> Tensor:
    """Soft or binary (H, W) map in [0, 1] -> bool (S, S): bilinear resize, then > 0.5."""
    img = Image.fromarray(mask.astype(np.float32), mode="F")
    out = np.asarray(img.resize((size, size), Image.BILINEAR, box=box))
    return torch.from_numpy(out > 0.5)


def read_mask_array(path: Path, hint: str = "check that the download is complete") -> np.ndarray:
    """The mask file's pixels as (H, W) or (H, W, C) uint8 array."""
    img = _open(path, hint)
    if img.mode not in ("L", "1", "P", "RGB", "RGBA", "LA", "I", "I;16"):
        img = img.convert("RGB")
    if img.mode == "P":
        img = img.convert("RGB")
    if img.mode in ("I", "I;16"):
        return np.asarray(img).astype(np.int64).clip(0, 255).astype(np.uint8)
    if img.mode == "1":
        img = img.convert("L")
    return np.asarray(img)


def to_uint8(images: Tensor) -> Tensor:
    """Float images in [-1, 1] (B, 3, S, S) -> uint8, the inverse of the loaders' scaling."""
    return images.add(1.0).mul_(127.5).round_().clamp_(0, 255).to(torch.uint8)


def to_float(images: Tensor) -> Tensor:
    """uint8 images (B, 3, S, S) -> float32 in [-1, 1]."""
    return images.float().mul_(2.0 / 255.0).sub_(1.0)
