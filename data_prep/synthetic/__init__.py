"""Procedural image domains with exact ground truth: the course's default data.

`render(domain, n, size, seed)` draws n images with their part labels, foreground masks and
(for faces and figures) landmarks.  Random numbers come in fixed chunks of images, each chunk
from its own seed derived from (seed, chunk index), and every image reads its own row of them,
so the first k images of a larger set are the same k images and the same seed gives the same
scenes at every size.

Domains: "faces" (in the wild), "faces-aligned", "birds", "flowers", "figures".
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
from torch import Tensor

from ..errors import DataError
from ..fileformat import Prepared
from . import birds, faces, figures, flowers
from .raster import RandomPool, Sampler

CHUNK = 32  # images per random stream; part of the seed schedule, so changing it changes the data
PIXEL_BUDGET = 32 * 64 * 64  # pixels drawn per batch: small maps stay in cache and out of mmap
MIN_SIZE, MAX_SIZE = 16, 512  # supported image sides, px


@dataclass(frozen=True)
class Domain:
    name: str
    description: str  # one line for summaries and file metadata
    draw: Callable  # (Sampler, size) -> (rgb, labels, landmarks or None, visible or None)
    part_names: list  # label k >= 1 is part_names[k - 1]
    landmark_names: list | None
    landmark_protocol: str | None  # "mafl", "keypoints" or None (see data_prep.fileformat)


def _aligned_faces(s: Sampler, size: int):
    return faces.draw(s, size, aligned=True)


DOMAINS = {
    "faces": Domain("faces", "synthetic faces in the wild (pose, scale, rotation, yaw; head box >= 30 %)",
                    faces.draw, faces.PART_NAMES, faces.LANDMARK_NAMES, faces.LANDMARK_PROTOCOL),
    "faces-aligned": Domain("faces-aligned", "synthetic aligned faces (eyes nearly fixed)", _aligned_faces,
                            faces.PART_NAMES, faces.LANDMARK_NAMES, faces.LANDMARK_PROTOCOL),
    "birds": Domain("birds", "synthetic side-view birds", birds.draw, birds.PART_NAMES, None, None),
    "flowers": Domain("flowers", "synthetic flower close-ups", flowers.draw, flowers.PART_NAMES, None, None),
    "figures": Domain("figures", "synthetic Taichi-like figures, 18 keypoints, horizontally varying scenes",
                      figures.draw, figures.PART_NAMES, figures.LANDMARK_NAMES, figures.LANDMARK_PROTOCOL),
}


@dataclass
class SyntheticImages:
    """A rendered batch and its ground truth."""

    domain: Domain
    seed: int
    images: Tensor  # (N, 3, S, S) uint8
    part_labels: Tensor  # (N, S, S) uint8, 0 = background, k = domain.part_names[k - 1]
    fg_masks: Tensor  # (N, S, S) bool, part_labels > 0
    landmarks: Tensor | None  # (N, L, 2) float32, (x, y) in [-1, 1], pixel-centre convention
    visible: Tensor | None  # (N, L) bool

    def float_images(self) -> Tensor:
        """(N, 3, S, S) float32 in [-1, 1]."""
        return self.images.float().mul_(2.0 / 255.0).sub_(1.0)


def get_domain(name: str) -> Domain:
    if name not in DOMAINS:
        raise DataError(f"unknown synthetic domain {name!r}; choose one of {', '.join(DOMAINS)}")
    return DOMAINS[name]


def chunk_generator(seed: int, chunk: int) -> torch.Generator:
    """The generator of one chunk: independent streams for every (seed, chunk) pair."""
    state = np.random.SeedSequence([seed, chunk]).generate_state(2, dtype=np.uint32)
    return torch.Generator().manual_seed(int(state[0]) << 32 | int(state[1]))


def render(domain: str, n: int, size: int = 64, seed: int = 0, progress: bool = False) -> SyntheticImages:
    """Draw n images of `domain` at size x size px, deterministic given (domain, seed, size)."""
    dom = get_domain(domain)
    if not MIN_SIZE <= size <= MAX_SIZE:
        raise DataError(f"size {size} is out of range; use {MIN_SIZE} to {MAX_SIZE} px")
    if n < 1:
        raise DataError(f"n must be at least 1, got {n}")
    if seed < 0:
        raise DataError(f"seed must be >= 0, got {seed}")
    with _one_thread():
        return _render(dom, n, size, seed, progress)


@contextmanager
def _one_thread():
    """Run on one intra-op thread: the maps are small, so a second thread gains little, and on a
    busy 2-core machine OpenMP threads waiting for each other made drawing 10x slower."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _render(dom: Domain, n: int, size: int, seed: int, progress: bool) -> SyntheticImages:
    images = torch.empty(n, 3, size, size, dtype=torch.uint8)
    labels = torch.empty(n, size, size, dtype=torch.uint8)
    landmarks = visible = None
    bar = _bar(n, f"rendering {dom.name}", progress)
    step = max(1, min(CHUNK, PIXEL_BUDGET // (size * size)))
    for c, chunk_start in enumerate(range(0, n, CHUNK)):
        pool = RandomPool(chunk_generator(seed, c), CHUNK)
        for first in range(0, min(CHUNK, n - chunk_start), step):
            rows = slice(first, min(first + step, CHUNK, n - chunk_start))
            rgb, lab, pts, vis = dom.draw(Sampler(pool, rows), size)
            start, stop = chunk_start + rows.start, chunk_start + rows.stop
            images[start:stop] = rgb.mul(255.0).add_(0.5).clamp_(0.0, 255.0).to(torch.uint8)
            labels[start:stop] = lab
            if pts is not None:
                if landmarks is None:
                    landmarks = torch.empty(n, pts.shape[1], 2, dtype=torch.float32)
                    visible = torch.empty(n, pts.shape[1], dtype=torch.bool)
                landmarks[start:stop] = pts
                visible[start:stop] = vis
            if bar is not None:
                bar.update(stop - start)
    if bar is not None:
        bar.close()
    return SyntheticImages(dom, seed, images, labels, labels > 0, landmarks, visible)


def _bar(total: int, desc: str, enabled: bool):
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="img", leave=False)


def to_prepared(images: SyntheticImages, test_fraction: float = 0.1) -> Prepared:
    """A rendered set as a data file's contents: the last round(n * test_fraction) images (at
    least one) form the "test" split, the rest "train"; landmarks are regressed on "train"."""
    n = images.images.shape[0]
    if n < 2:
        raise DataError(f"n = {n}: a train and a test split need at least 2 images")
    if not 0.0 < test_fraction < 1.0:
        raise DataError(f"test fraction {test_fraction} must be between 0 and 1")
    n_test = min(n - 1, max(1, round(n * test_fraction)))
    split = torch.zeros(n, dtype=torch.uint8)
    split[n - n_test:] = 1
    dom = images.domain
    meta = {"source": f"synthetic:{dom.name}", "description": dom.description, "part_names": list(dom.part_names),
            "eval_splits": {"fit": "train", "test": "test"},
            "options": {"domain": dom.name, "n": n, "size": int(images.images.shape[-1]), "seed": images.seed,
                        "test_fraction": test_fraction}}
    if dom.landmark_names is not None:
        meta["landmark_names"] = list(dom.landmark_names)
        meta["landmark_protocol"] = dom.landmark_protocol
    return Prepared(images=images.images, split=split, split_names=["train", "test"], meta=meta,
                    files=[""] * n, landmarks=images.landmarks, visible=images.visible, fg_masks=images.fg_masks,
                    has_mask=torch.ones(n, dtype=torch.bool), part_labels=images.part_labels)
