"""Every figure of the project, one function per figure kind (used by notebooks and the CLI).

Functions return the matplotlib Figure; `save_figure` writes it atomically as PNG.
Images are tensors in [-1, 1], (3, H, W) or (B, 3, H, W); masks (K+1, H, W), last = background.
"""
from __future__ import annotations

import os
import tempfile

import matplotlib.pyplot as plt
import numpy as np
import torch


def part_colors(n_parts: int) -> np.ndarray:
    """(K+1, 3) RGB in [0, 1]: a distinct colour per part, grey for the background (last)."""
    cmap = plt.get_cmap("tab10" if n_parts <= 10 else "tab20")
    colors = np.array([cmap(i % cmap.N)[:3] for i in range(n_parts)] + [(0.5, 0.5, 0.5)])
    return colors


def to_numpy_image(image: torch.Tensor) -> np.ndarray:
    """(3, H, W) in [-1, 1] -> (H, W, 3) float in [0, 1]."""
    return ((image.detach().float().cpu().clamp(-1, 1) + 1) / 2).permute(1, 2, 0).numpy()


def color_masks(masks: torch.Tensor) -> np.ndarray:
    """Soft masks (K+1, H, W) -> (H, W, 3) colour image, each pixel the mask-weighted part colour."""
    colors = torch.as_tensor(part_colors(masks.shape[0] - 1), dtype=torch.float32)
    return torch.einsum("khw,kc->hwc", masks.detach().float().cpu(), colors).clamp(0, 1).numpy()


def overlay_masks(image: torch.Tensor, masks: torch.Tensor, alpha: float = 0.5, hide_background: bool = True) -> np.ndarray:
    """Blend the coloured masks over the image; with hide_background the background stays as it is."""
    img, col = to_numpy_image(image), color_masks(masks)
    weight = alpha * (1 - masks[-1].detach().float().cpu().numpy()[..., None]) if hide_background else alpha
    return img * (1 - weight) + col * weight


def _to_pixels(xy: torch.Tensor, size: int) -> np.ndarray:
    """[-1, 1] (x, y) coordinates -> pixel coordinates for imshow (pixel centres at integers)."""
    return ((xy.detach().float().cpu().numpy() + 1) * size / 2) - 0.5


def draw_points(ax, points: torch.Tensor | None, centers: torch.Tensor | None, size: int, marker_size: float = 12) -> None:
    """Scatter level-1 points (K, n_per, 2) as small dots and part centres (K, 2) as crosses, coloured by part."""
    colors = part_colors(centers.shape[0] if centers is not None else points.shape[0])
    if points is not None:
        for k, pts in enumerate(points):
            p = _to_pixels(pts, size)
            ax.scatter(p[:, 0], p[:, 1], s=marker_size, color=colors[k], edgecolors="white", linewidths=0.4)
    if centers is not None:
        c = _to_pixels(centers, size)
        ax.scatter(c[:, 0], c[:, 1], s=marker_size * 4, marker="x", c=colors[:len(c)], linewidths=1.5)


def sample_grid(images: torch.Tensor, masks: torch.Tensor | None = None, points: torch.Tensor | None = None,
                centers: torch.Tensor | None = None, ncols: int = 8, title: str | None = None,
                cell_inches: float = 1.3) -> plt.Figure:
    """A grid of generated samples: each image with its masks overlaid and points drawn (paper Fig. 18).

    images (B, 3, H, W); masks (B, K+1, H, W) or None; points (B, K, n_per, 2) / centers (B, K, 2) or None.
    """
    n = images.shape[0]
    ncols = min(ncols, n)
    nrows = (n + ncols - 1) // ncols
    fig, axes = plt.subplots(nrows, ncols, figsize=(ncols * cell_inches, nrows * cell_inches), squeeze=False)
    size = images.shape[-1]
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= n:
            continue
        shown = overlay_masks(images[i], masks[i]) if masks is not None else to_numpy_image(images[i])
        ax.imshow(shown, interpolation="nearest")
        if points is not None or centers is not None:
            draw_points(ax, None if points is None else points[i], None if centers is None else centers[i], size,
                        marker_size=6)
    if title:
        fig.suptitle(title)
    fig.tight_layout(pad=0.2)
    return fig


def save_figure(fig: plt.Figure, path: str | os.PathLike, dpi: int = 100) -> None:
    """Write the figure as PNG through a temporary file and an atomic rename, then close it."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".png", dir=folder)
    os.close(fd)
    try:
        fig.savefig(tmp, dpi=dpi, format="png")
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
        plt.close(fig)
