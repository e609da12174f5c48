"""Trivial predictions and ground-truth references, to show how hard a dataset is.

A dataset is only worth learning parts on if it cannot be solved without them.  Two trivial
baselines:
- landmarks: predict the mean landmark position of the training split for every image;
- foreground: pixels whose colour is far from the image border's median colour (threshold by
  Otsu's method per image, or the best single threshold for the whole set, chosen on the very
  images scored, an optimistic upper bound for colour thresholds).
They are scored against what ground truth parts allow: landmarks regressed from the centres of
the true part masks (the paper's protocol, the best a perfect part segmenter can do) and the true
foreground mask (IoU 1).

Landmark errors use the project's (x, y) in [-1, 1] coordinates: "mafl" data in percent of the
inter-ocular distance (landmarks 0 and 1), regression without bias; "keypoints" data in pixels,
regression with bias, invisible points skipped.
"""
from __future__ import annotations

import torch
from torch import Tensor


def mean_landmarks(train: Tensor, n: int) -> Tensor:
    """(n, L, 2) copies of the training split's mean landmark positions."""
    return train.mean(0, keepdim=True).expand(n, -1, -1).clone()


def iod_error(pred: Tensor, target: Tensor) -> float:
    """Mean L2 landmark error over points and images, in % of the inter-ocular distance."""
    iod = (target[:, 0] - target[:, 1]).norm(dim=-1, keepdim=True)  # (N, 1)
    return float(((pred - target).norm(dim=-1) / iod).mean() * 100.0)


def pixel_error(pred: Tensor, target: Tensor, visible: Tensor, size: int) -> float:
    """Mean L2 error of the visible points in pixels of an S x S image."""
    err = (pred - target).norm(dim=-1) * (size / 2.0)
    return float(err[visible].mean())


def part_centres(part_labels: Tensor, n_parts: int) -> Tensor:
    """(N, K, 2) centroid (x, y) of each true part 1..K; a missing part sits at the image centre."""
    n, s, _ = part_labels.shape
    c = (torch.arange(s, dtype=torch.float32) + 0.5) * (2.0 / s) - 1.0
    onehot = torch.nn.functional.one_hot(part_labels.long(), n_parts + 1)[..., 1:].float()  # (N, S, S, K)
    area = onehot.sum((1, 2)).clamp(min=1.0)  # (N, K)
    x = torch.einsum("nhwk,w->nk", onehot, c) / area
    y = torch.einsum("nhwk,h->nk", onehot, c) / area
    return torch.stack([x, y], dim=-1)


def regress(train_x: Tensor, train_y: Tensor, test_x: Tensor, bias: bool, train_visible: Tensor | None = None
            ) -> Tensor:
    """Least-squares map from features (N, F) to landmarks (N, L, 2), fitted per output coordinate
    on the images where that point is visible; returns test predictions (M, L, 2)."""
    n, l, _ = train_y.shape
    if bias:
        train_x = torch.cat([train_x, torch.ones(n, 1)], 1)
        test_x = torch.cat([test_x, torch.ones(test_x.shape[0], 1)], 1)
    a, a_test = train_x.double(), test_x.double()
    if train_visible is None or bool(train_visible.all()):
        w = torch.linalg.lstsq(a, train_y.reshape(n, -1).double()).solution
        return (a_test @ w).float().view(-1, l, 2)
    out = torch.zeros(test_x.shape[0], l, 2)
    for k in range(l):
        rows = train_visible[:, k]
        w = torch.linalg.lstsq(a[rows], train_y[rows, k].double()).solution
        out[:, k] = (a_test @ w).float()
    return out


def border_distance(images: Tensor, border: int = 2) -> Tensor:
    """(N, S, S) colour distance of every pixel to the median colour of the image border."""
    x = images.float() / 255.0
    n, _, s, _ = x.shape
    ring = torch.ones(s, s, dtype=torch.bool)
    ring[border:s - border, border:s - border] = False
    median = x[:, :, ring].median(dim=2).values  # (N, 3)
    return (x - median.view(n, 3, 1, 1)).norm(dim=1)


def otsu_threshold(values: Tensor, bins: int = 64) -> Tensor:
    """(N,) per-image Otsu threshold of (N, S, S) values in [0, sqrt(3)]."""
    n = values.shape[0]
    top = 3.0 ** 0.5
    idx = (values.reshape(n, -1) / top * bins).long().clamp_(0, bins - 1)
    hist = torch.zeros(n, bins).scatter_add_(1, idx, torch.ones_like(idx, dtype=torch.float32))
    p = hist / hist.sum(1, keepdim=True)
    centres = (torch.arange(bins, dtype=torch.float32) + 0.5) * top / bins
    w0 = p.cumsum(1)
    m0 = (p * centres).cumsum(1)
    mt = m0[:, -1:]
    between = (mt * w0 - m0) ** 2 / (w0 * (1 - w0)).clamp(min=1e-9)
    return (between.argmax(1).float() + 1.0) * top / bins


def border_colour_foreground(images: Tensor, threshold: float | None = None) -> Tensor:
    """bool (N, S, S): colour far from the border colour (Otsu per image, or a fixed threshold)."""
    d = border_distance(images)
    t = otsu_threshold(d).view(-1, 1, 1) if threshold is None else threshold
    return d > t


def mask_iou(pred: Tensor, target: Tensor) -> float:
    """Per-image IoU of boolean masks (N, S, S), averaged."""
    inter = (pred & target).sum((1, 2)).float()
    union = (pred | target).sum((1, 2)).float().clamp(min=1.0)
    return float((inter / union).mean())


def best_threshold_iou(images: Tensor, target: Tensor, steps: int = 40) -> tuple[float, float]:
    """(IoU, threshold) of the best single colour-distance threshold for the whole set."""
    d = border_distance(images)
    best = (0.0, 0.0)
    for t in torch.linspace(0.02, 1.2, steps).tolist():
        best = max(best, (mask_iou(d > t, target), t))
    return best
