"""Procedural image domains with exact ground truth: the course's default data.

`render(domain, n, size, seed)` draws n images with their part labels, foreground masks and
(for faces and figures) landmarks.  Random numbers come in fixed chunks of images, each chunk
from its own seed derived from (seed, chunk index), and every image reads its own row of them,
so the first k images of a larger set are the same k images and the same seed gives the same
scenes at every size.

Domains: "faces" (in the wild), "faces-aligned", "birds", "flowers", "figures".
"""
from __future__ import annotations

import ctypes
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


def render(domain: str, n: int, size: int = 64, seed: int = 0, progress: bool = False,
           workers: int = 0) -> SyntheticImages:
    """Draw n images of `domain` at size x size px, deterministic given (domain, seed, size).

    workers > 0 draws chunks in that many worker processes (a torch DataLoader); the images are
    the same whatever the number of workers."""
    dom = get_domain(domain)
    if not MIN_SIZE <= size <= MAX_SIZE:
        raise DataError(f"size {size} is out of range; use {MIN_SIZE} to {MAX_SIZE} px")
    if n < 1:
        raise DataError(f"n must be at least 1, got {n}")
    if seed < 0:
        raise DataError(f"seed must be >= 0, got {seed}")
    chunks = _Chunks(dom, n, size, seed)
    images = torch.empty(n, 3, size, size, dtype=torch.uint8)
    labels = torch.empty(n, size, size, dtype=torch.uint8)
    landmarks = visible = None
    bar = _bar(n, f"rendering {dom.name}", progress)
    if workers > 0 and len(chunks) > 1:
        loader = torch.utils.data.DataLoader(chunks, batch_size=None, num_workers=min(workers, len(chunks)),
                                             worker_init_fn=_worker_init)
        parts = iter(loader)
    else:
        parts = (chunks[c] for c in range(len(chunks)))
    for c, (rgb, lab, pts, vis) in enumerate(parts):
        start = c * CHUNK
        stop = start + rgb.shape[0]
        images[start:stop] = rgb
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


class _Chunks(torch.utils.data.Dataset):
    """Chunk c of a rendering: its images as uint8, labels, landmarks, visibility."""

    def __init__(self, dom: Domain, n: int, size: int, seed: int):
        self.dom, self.n, self.size, self.seed = dom, n, size, seed

    def __len__(self) -> int:
        return (self.n + CHUNK - 1) // CHUNK

    def __getitem__(self, c: int):
        rows_in_chunk = min(CHUNK, self.n - c * CHUNK)
        step = max(1, min(CHUNK, PIXEL_BUDGET // (self.size * self.size)))
        pool = RandomPool(chunk_generator(self.seed, c), CHUNK)
        parts = []
        with _one_thread():
            for first in range(0, rows_in_chunk, step):
                rows = slice(first, min(first + step, rows_in_chunk))
                rgb, lab, pts, vis = self.dom.draw(Sampler(pool, rows), self.size)
                parts.append((rgb.mul(255.0).add_(0.5).clamp_(0.0, 255.0).to(torch.uint8), lab, pts, vis))
        rgb, lab = torch.cat([p[0] for p in parts]), torch.cat([p[1] for p in parts])
        if parts[0][2] is None:
            return rgb, lab, None, None
        return rgb, lab, torch.cat([p[2] for p in parts]), torch.cat([p[3] for p in parts])


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


def _worker_init(_: int) -> None:
    """In a drawing worker (a process of our own): let glibc keep freed memory for reuse instead
    of returning it to the system.  Drawing allocates many short-lived 0.5 MB maps; returned and
    re-requested pages fault on every reuse, which cost a third of the time."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return
    m_trim_threshold, m_mmap_threshold = -1, -3
    libc.mallopt(m_mmap_threshold, 64 << 20)
    libc.mallopt(m_trim_threshold, 512 << 20)


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
