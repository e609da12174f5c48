"""The one coordinate convention of the project, and the grids that follow from it.

Coordinates are (x, y): x to the right, y down, both in [-1, 1] over the image.  Pixel
(row i, column j) of an H x W image has its centre at x = (j + 0.5) * 2 / W - 1,
y = (i + 0.5) * 2 / H - 1.  Feature maps with a margin of m pixels (eq. 12) extend the same
ticks beyond the image: pixel j of such a map sits at x = (j - m + 0.5) * 2 / W - 1.
"""
from __future__ import annotations

import torch


def pixel_grid(height: int, width: int, margin: int = 0, *, dtype: torch.dtype = torch.float32,
               device: torch.device | str | None = None) -> torch.Tensor:
    """Pixel-centre coordinates of an H x W grid extended by `margin` px: (H+2m, W+2m, 2) as (x, y)."""
    def ticks(side: int) -> torch.Tensor:
        idx = torch.arange(side + 2 * margin, dtype=dtype, device=device)
        return (idx - margin + 0.5) * (2.0 / side) - 1.0

    ys, xs = torch.meshgrid(ticks(height), ticks(width), indexing="ij")
    return torch.stack((xs, ys), dim=-1)


def make_grid(side: int, margin: int, *, dtype: torch.dtype = torch.float32,
              device: torch.device | str | None = None) -> torch.Tensor:
    """Pixel-centre coordinates of a side x side grid extended by `margin` px: (side+2m, side+2m, 2) as (x, y)."""
    return pixel_grid(side, side, margin, dtype=dtype, device=device)


def mask_centers(masks: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Mask-weighted mean coordinate of each part: (N, K+1, H, W) -> (N, K, 2); background (last) excluded.

    x_k = sum_p M_k(p) p / sum_p M_k(p); a part with zero mass everywhere gets the centre (0, 0).
    """
    part = masks[:, :-1]
    grid = pixel_grid(*part.shape[-2:], dtype=part.dtype, device=part.device)  # (H, W, 2)
    mass = part.sum(dim=(-2, -1))  # (N, K)
    return torch.einsum("nkhw,hwc->nkc", part, grid) / (mass[..., None] + eps)
