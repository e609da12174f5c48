"""Every figure of the project, one function per figure kind (used by notebooks and the CLI).

Functions return the matplotlib Figure; `save_figure` writes it atomically as PNG.
Images are tensors in [-1, 1], (3, H, W) or (B, 3, H, W); masks (K+1, H, W), last = background.
"""
from __future__ import annotations

import csv
import os

import matplotlib.pyplot as plt
import numpy as np
import torch

from .checkpoint import atomic_write
from .coords import mask_centers


def _finish(fig: plt.Figure, title: str | None, pad: float = 1.08) -> plt.Figure:
    """The figure's title (if any) and a tight layout with `pad` (matplotlib's default 1.08)."""
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout(pad=pad)
    return fig


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
    try:
        atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=dpi, format="png"))
    finally:
        plt.close(fig)


def color_heatmaps(heatmaps: torch.Tensor) -> np.ndarray:
    """Heatmaps (K, H, W) in [0, 1] -> (H, W, 3): each pixel the colour of its strongest part, as bright as it."""
    h = heatmaps.detach().float().cpu()
    colors = torch.as_tensor(part_colors(h.shape[0])[:-1], dtype=torch.float32)
    strength, part = h.max(dim=0)
    return (colors[part] * strength.clamp(0, 1)[..., None]).numpy()


def draw_scales(ax, centers: torch.Tensor, scales: torch.Tensor, size: int) -> None:
    """A circle of radius sigma_k around each part centre x_k, coloured by part (centers (K, 2), scales (K,))."""
    colors = part_colors(centers.shape[0])
    c = _to_pixels(centers, size)
    for k, (x, y) in enumerate(c):
        radius = float(scales[k]) * size / 2
        ax.add_patch(plt.Circle((x, y), radius, fill=False, color=colors[k], linewidth=1.0, linestyle="--"))


def generator_levels(out, index: int = 0, panels: tuple[str, ...] = ("points", "heatmaps", "masks", "image"),
                     title: str | None = None, panel_inches: float = 2.4) -> plt.Figure:
    """One generated sample level by level, one panel each (a `GeneratorOutput`, sample `index`).

    Panels: "points" (level-1 points, centres x_k, circles of radius sigma_k), "heatmaps" (H_k,
    eq. 4), "masks" (the K+1 soft masks, background grey), "image", "overlay" (masks over the
    image), "foreground" / "background" / "blend" (first three feature channels of F, B and of
    their blend, as RGB), "bg_mask".
    """
    size = out.image.shape[-1]
    fig, axes = plt.subplots(1, len(panels), figsize=(panel_inches * len(panels), panel_inches + 0.5), squeeze=False)
    names = {"points": "level 1: points", "heatmaps": "heatmaps $H_k$", "masks": "level 2: masks $M$",
             "image": "level 3: image", "overlay": "masks over image", "foreground": "foreground $F$",
             "background": "background $B$", "bg_mask": "background mask $M_{bg}$",
             "blend": "blend $(1 - M_{bg}) F + M_{bg} B$"}
    for ax, panel in zip(axes[0], panels):
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(names.get(panel, panel), fontsize=9)
        if panel == "points":
            ax.imshow(np.ones((size, size, 3)), interpolation="nearest")
            draw_points(ax, out.points[index], out.part_centers[index], size)
            draw_scales(ax, out.part_centers[index], out.part_scales[index], size)
        elif panel == "heatmaps":
            ax.imshow(color_heatmaps(out.heatmaps[index]), interpolation="nearest")
        elif panel == "masks":
            ax.imshow(color_masks(out.masks[index]), interpolation="nearest")
        elif panel == "image":
            ax.imshow(to_numpy_image(out.image[index]), interpolation="nearest")
        elif panel == "overlay":
            ax.imshow(overlay_masks(out.image[index], out.masks[index]), interpolation="nearest")
        elif panel in ("foreground", "background", "blend"):
            if panel == "blend":  # (1 - M_bg) F + M_bg B, what the output head reads (eq. 11)
                feat = torch.lerp(out.foreground[index, :3], out.background[index, :3], out.masks[index, -1:])
            else:
                feat = getattr(out, panel)[index, :3]
            ax.imshow(_feature_rgb(feat), interpolation="nearest")
        elif panel == "bg_mask":
            ax.imshow(out.masks[index, -1].detach().float().cpu().numpy(), cmap="gray", vmin=0, vmax=1,
                      interpolation="nearest")
        else:
            raise ValueError(f"unknown panel {panel!r}; use one of {', '.join(names)}")
        ax.set_xlim(-0.5, size - 0.5)
        ax.set_ylim(size - 0.5, -0.5)
    return _finish(fig, title, pad=0.6)


def embedding_similarity(embeddings: torch.Tensor, title: str | None = None) -> plt.Figure:
    """Cosine similarity of part embeddings w_k across samples, ordered part by part.

    embeddings (N, K, D) -> an (N K) x (N K) matrix; bright blocks on the diagonal mean the
    same part looks alike across samples and different parts differ (eq. 3).
    """
    n, k, _ = embeddings.shape
    w = torch.nn.functional.normalize(embeddings.detach().float().cpu().transpose(0, 1).reshape(k * n, -1), dim=1)
    sim = (w @ w.T).numpy()
    fig, ax = plt.subplots(figsize=(4.6, 4))
    im = ax.imshow(sim, cmap="RdBu_r", vmin=-1, vmax=1, interpolation="nearest")
    ticks = np.arange(k) * n + (n - 1) / 2
    ax.set_xticks(ticks, [str(i) for i in range(k)])
    ax.set_yticks(ticks, [str(i) for i in range(k)])
    ax.set_xlabel("part k (each block: one row per sample)")
    ax.set_ylabel("part k")
    colors = part_colors(k)
    for i in range(k):
        ax.add_patch(plt.Rectangle((i * n - 0.5, i * n - 0.5), n, n, fill=False, color=colors[i], linewidth=1.5))
    fig.colorbar(im, ax=ax, fraction=0.046, label="cosine similarity")
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def point_layouts(points: torch.Tensor, centers: torch.Tensor, scales: torch.Tensor, size: int = 64,
                  title: str | None = None, panel_inches: float = 1.9) -> plt.Figure:
    """Level-1 layouts of several samples side by side, framed like the image they will become.

    points (B, K, n_per, 2), centers (B, K, 2), scales (B, K): dots, crosses at x_k and
    dashed circles of radius sigma_k, coloured by part.
    """
    n = points.shape[0]
    fig, axes = plt.subplots(1, n, figsize=(panel_inches * n, panel_inches + 0.4), squeeze=False)
    for i, ax in enumerate(axes[0]):
        ax.imshow(np.full((size, size, 3), 0.97), interpolation="nearest")
        draw_points(ax, points[i], centers[i], size)
        draw_scales(ax, centers[i], scales[i], size)
        ax.set_xlim(-0.5, size - 0.5)
        ax.set_ylim(size - 0.5, -0.5)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"sample {i}", fontsize=9)
    return _finish(fig, title, pad=0.6)


def map_row(maps: dict, title: str | None = None, cmap: str = "viridis", vmin: float | None = None,
            vmax: float | None = None, panel_inches: float = 1.9, colorbar: bool = False) -> plt.Figure:
    """A row of 2-D scalar maps, one panel per entry of {panel title: (H, W) tensor or array}."""
    fig, axes = plt.subplots(1, len(maps), figsize=(panel_inches * len(maps) + (0.6 if colorbar else 0),
                                                    panel_inches + 0.45), squeeze=False)
    im = None
    for ax, (name, value) in zip(axes[0], maps.items()):
        arr = value.detach().float().cpu().numpy() if isinstance(value, torch.Tensor) else np.asarray(value)
        im = ax.imshow(arr, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
        ax.set_title(name, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout(pad=0.6)
    if colorbar and im is not None:
        fig.colorbar(im, ax=list(axes[0]), fraction=0.02, pad=0.02)
    return fig


def heatmap_profiles(curves: dict, xlabel: str = r"distance to the part centre, $\|p - x_k\| / \sigma_k$",
                     title: str | None = None) -> plt.Figure:
    """Line plot of 1-D profiles, {label: (x, y)}; used for heatmap shapes (Gaussian, cone)."""
    fig, ax = plt.subplots(figsize=(5, 3))
    for label, (x, y) in curves.items():
        ax.plot(np.asarray(x), np.asarray(y), label=label, linewidth=2)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(r"$H_k(p)$")
    ax.grid(alpha=0.3)
    ax.legend()
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def segmentation_overlays(images: torch.Tensor, masks: torch.Tensor, landmarks: torch.Tensor | None = None,
                          ncols: int = 8, title: str | None = None, cell_inches: float = 1.3) -> plt.Figure:
    """Detected part masks over real images, part centres as crosses, ground-truth landmarks as white dots.

    images (B, 3, H, W) uint8 or float in [-1, 1]; masks (B, K+1, H, W) soft; landmarks (B, L, 2) or None.
    """
    if images.dtype == torch.uint8:
        images = images.float() * (2.0 / 255.0) - 1.0
    masks = masks.detach().float().cpu()
    centers = mask_centers(masks)  # (B, K, 2), as the landmark protocol reads them
    fig = sample_grid(images, masks, None, centers, ncols=ncols, title=title, cell_inches=cell_inches)
    if landmarks is not None:
        size = images.shape[-1]
        for ax, pts in zip(fig.axes, landmarks):
            p = _to_pixels(pts, size)
            ax.scatter(p[:, 0], p[:, 1], s=5, c="white", edgecolors="black", linewidths=0.3)
    return fig


def loss_curves(log: str | os.PathLike | list[dict], columns: tuple[str, ...] = ("d_loss", "g_loss", "r1", "con", "area"),
                title: str | None = None) -> plt.Figure:
    """Training losses against step, one panel per column, from a run's log.csv (or its rows)."""
    if not isinstance(log, list):
        with open(log, newline="") as f:
            log = list(csv.DictReader(f))
    columns = tuple(c for c in columns if any(r.get(c) not in (None, "") for r in log))
    fig, axes = plt.subplots(1, max(1, len(columns)), figsize=(2.6 * max(1, len(columns)), 2.4), squeeze=False)
    for ax, name in zip(axes[0], columns):
        pts = [(int(r["step"]), float(r[name])) for r in log if r.get(name) not in (None, "")]
        if pts:
            ax.plot(*zip(*pts), linewidth=1)
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("step", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    return _finish(fig, title)


def _feature_rgb(feat: torch.Tensor) -> np.ndarray:
    """(3, H, W) features -> (H, W, 3) in [0, 1], each channel stretched between its 2nd and 98th percentile."""
    f = feat.detach().float().cpu().flatten(1)
    lo, hi = f.quantile(0.02, dim=1)[:, None, None], f.quantile(0.98, dim=1)[:, None, None]
    return ((feat.detach().float().cpu() - lo) / (hi - lo + 1e-8)).clamp(0, 1).permute(1, 2, 0).numpy()


def curve_panels(panels: dict, xlabel: str, title: str | None = None, vlines: dict | None = None,
                 panel_inches: float = 3.6, log_y: tuple[str, ...] = ()) -> plt.Figure:
    """Side-by-side line plots: {panel title: {curve label: (x, y)}}; vlines {label: x} marked in every
    panel; panels named in log_y get a logarithmic y axis."""
    fig, axes = plt.subplots(1, len(panels), figsize=(panel_inches * len(panels), 2.9), squeeze=False)
    for ax, (name, curves) in zip(axes[0], panels.items()):
        for label, (x, y) in curves.items():
            xs = x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)
            ys = y.detach().cpu().numpy() if isinstance(y, torch.Tensor) else np.asarray(y)
            ax.plot(xs, ys, label=label, linewidth=2)
        for label, x in (vlines or {}).items():
            ax.axvline(x, color="0.4", linestyle="--", linewidth=1, label=label)
        if name in log_y:
            ax.set_yscale("log")
        ax.set_title(name, fontsize=9)
        ax.set_xlabel(xlabel, fontsize=9)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    return _finish(fig, title)


def speed_report(report: dict) -> plt.Figure:
    """Benchmark figure: achieved GFLOP/s per preset and stage against the machine's matmul
    GFLOP/s (left), and generator fwd+bwd time per image over resolution and K (right)."""
    rows = [r for r in report["results"] if not r.get("error")]
    stages = [r for r in rows if r.get("preset") and r.get("gflops_per_s")]
    scaling = [r for r in rows if r.get("scaling")]
    fig, axes = plt.subplots(1, 2 if scaling else 1, figsize=(13 if scaling else 8, 4.5), squeeze=False)
    ax = axes[0, 0]
    labels = [f"{r['label']}\n{r['stage']}" for r in stages]
    ax.barh(range(len(stages)), [r["gflops_per_s"] for r in stages], color="tab:blue")
    ax.axvline(report["matmul_gflops_per_s"], color="tab:red", linestyle="--", label="2048$^2$ matmul")
    ax.set_yticks(range(len(stages)), labels, fontsize=6)
    ax.invert_yaxis()
    ax.set_xlabel("achieved GFLOP/s")
    ax.legend(fontsize=7)
    ax.set_title(f"{report['machine'].get('gpu') or report['machine']['device']}, "
                 f"{report['machine'].get('threads')} threads", fontsize=9)
    if scaling:
        ax = axes[0, 1]
        for key, fixed, marker in (("size", "n_parts", "o"), ("n_parts", "size", "s")):
            # each curve holds its own rows (64 px with K = 8 is measured once per curve)
            pts = sorted((r["scaling"][key], r["seconds"] / r["batch"]) for r in scaling
                         if r["scaling"].get("series", key) == key
                         and r["scaling"][fixed] == (8 if fixed == "n_parts" else 64))
            if pts:
                ax.plot(*zip(*pts), marker=marker, label=f"over {'resolution (K=8)' if key == 'size' else 'K (64 px)'}")
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("resolution (px) or number of parts K")
        ax.set_ylabel("G forward+backward, s per image")
        ax.legend(fontsize=7)
        ax.set_title("paper architecture, scaled", fontsize=9)
    fig.tight_layout()
    return fig


def shift_comparison(before, after, shift_px: tuple[int, int] = (0, 0), index: int = 0, title: str | None = None,
                     panel_inches: float = 2.3) -> plt.Figure:
    """Two generator outputs side by side and how far `after` is from `before` moved by shift_px.

    before / after: `GeneratorOutput`s; shift_px (sx, sy) in output pixels (right, down).  Panels:
    masks and points of each, the two images, and |after - before moved by (sx, sy)| (max over
    colour channels) on the pixels both show; outside that overlap the map is left blank.
    Used for translation equivariance (lesson 05): with shift (0, 0) the last panel shows what changed.
    """
    sx, sy = (int(round(s)) for s in shift_px)
    size = before.image.shape[-1]
    a, b = before.image[index].detach().float().cpu(), after.image[index].detach().float().cpu()
    diff = np.full((size, size), np.nan)
    rows_a, cols_a = slice(max(0, sy), size - max(0, -sy)), slice(max(0, sx), size - max(0, -sx))
    rows_b, cols_b = slice(max(0, -sy), size - max(0, sy)), slice(max(0, -sx), size - max(0, sx))
    if rows_a.start < rows_a.stop and cols_a.start < cols_a.stop:
        diff[rows_a, cols_a] = (b[:, rows_a, cols_a] - a[:, rows_b, cols_b]).abs().amax(dim=0).numpy()
    worst = float(np.nanmax(diff)) if np.isfinite(diff).any() else float("nan")
    fig, axes = plt.subplots(1, 5, figsize=(panel_inches * 5 + 0.4, panel_inches + 0.55), squeeze=False)
    axes = axes[0]
    for ax, out, name in ((axes[0], before, "before: masks, points"), (axes[1], after, "after: masks, points")):
        ax.imshow(color_masks(out.masks[index]), interpolation="nearest")
        draw_points(ax, out.points[index], out.part_centers[index], size, marker_size=8)
        ax.set_title(name, fontsize=9)
    axes[2].imshow(to_numpy_image(before.image[index]), interpolation="nearest")
    axes[2].set_title("before: image", fontsize=9)
    axes[3].imshow(to_numpy_image(after.image[index]), interpolation="nearest")
    axes[3].set_title("after: image", fontsize=9)
    im = axes[4].imshow(diff, cmap="magma", vmin=0, vmax=max(1e-6, worst if np.isfinite(worst) else 1.0),
                        interpolation="nearest")
    label = "|after - before|" if (sx, sy) == (0, 0) else f"|after - before moved ({sx:+d}, {sy:+d}) px|"
    axes[4].set_title(f"{label}\nmax {worst:.1e}", fontsize=8)
    fig.colorbar(im, ax=axes[4], fraction=0.046, pad=0.03)
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_xlim(-0.5, size - 0.5)
        ax.set_ylim(size - 0.5, -0.5)
    return _finish(fig, title, pad=0.5)


def embedding_scatter(panels: dict, part_names: list[str] | None = None, title: str | None = None,
                      panel_inches: float = 3.6, background: bool = True) -> plt.Figure:
    """2-D embeddings coloured by part (paper Fig. 13): {panel title: (coords (N, 2), labels (N,))}.

    Labels 0..K-1 are parts (part colours); with `background`, the highest label K is the
    background (grey, as the paper counts it as a part).  `part_names` label the legend.
    """
    fig, axes = plt.subplots(1, len(panels), figsize=(panel_inches * len(panels) + 1.2, panel_inches), squeeze=False)
    n_labels = 1 + max(int(np.asarray(labels).max()) for _, labels in panels.values())
    n_parts = n_labels - 1 if background else n_labels
    colors = part_colors(n_parts)
    names = part_names or [f"part {k}" for k in range(n_parts)] + (["background"] if background else [])
    for ax, (name, (coords, labels)) in zip(axes[0], panels.items()):
        xy = coords.detach().cpu().numpy() if isinstance(coords, torch.Tensor) else np.asarray(coords)
        lab = labels.detach().cpu().numpy() if isinstance(labels, torch.Tensor) else np.asarray(labels)
        for k in range(n_labels):
            sel = lab == k
            ax.scatter(xy[sel, 0], xy[sel, 1], s=6, color=colors[k], alpha=0.75, linewidths=0,
                       label=names[k] if ax is axes[0][-1] else None)
        ax.set_title(name, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    axes[0][-1].legend(fontsize=7, markerscale=2.5, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
    return _finish(fig, title, pad=0.5)


def metric_bars(table: dict, references: dict | None = None, title: str | None = None,
                panel_inches: float = 2.8) -> plt.Figure:
    """Grouped comparison: {variant: {metric: value}} as one panel per metric, one bar per variant.

    references {metric: {label: value}} are drawn as dashed horizontal lines in that metric's
    panel (e.g. the mean-shape error, or the paper's number).  Missing values are skipped.
    """
    variants = list(table)
    metrics = list(dict.fromkeys(m for row in table.values() for m in row))
    fig, axes = plt.subplots(1, len(metrics), figsize=(panel_inches * len(metrics), 3.0), squeeze=False)
    colors = plt.get_cmap("tab10")
    line_styles = ["--", ":", "-."]
    for ax, metric in zip(axes[0], metrics):
        values = [table[v].get(metric) for v in variants]
        for i, value in enumerate(values):
            if value is not None:
                ax.bar(i, value, color=colors(i % 10), width=0.7)
                ax.text(i, value, f"{value:.3g}", ha="center", va="bottom", fontsize=7)
        for j, (label, value) in enumerate((references or {}).get(metric, {}).items()):
            ax.axhline(value, color="0.3", linestyle=line_styles[j % len(line_styles)], linewidth=1, label=label)
        if (references or {}).get(metric):
            ax.legend(fontsize=6, loc="lower right")
        ax.set_xticks(range(len(variants)), variants, fontsize=7, rotation=20, ha="right")
        ax.set_title(metric, fontsize=9)
        ax.tick_params(axis="y", labelsize=7)
        ax.grid(alpha=0.3, axis="y")
    return _finish(fig, title)


def parts_emerging(rows: dict, mean_masks: dict, masses: dict, index: int = 0, panel_inches: float = 1.9) -> plt.Figure:
    """One row per training snapshot: points, masks and image of one sample, then each part's mean mask.

    rows: {label: GeneratorOutput of the same latents}; mean_masks: {label: (K, H, W) mean part
    masks over many samples}; masses: {label: list of K mean masses (share of the image)}.
    """
    labels = list(rows)
    k = next(iter(mean_masks.values())).shape[0]
    colors = part_colors(k)
    fig, axes = plt.subplots(len(labels), 3 + k, figsize=(panel_inches * (3 + k), panel_inches * len(labels) + 0.6),
                             squeeze=False)
    for r, label in enumerate(labels):
        out = rows[label]
        size = out.image.shape[-1]
        axes[r, 0].imshow(np.ones((size, size, 3)), interpolation="nearest")
        draw_points(axes[r, 0], out.points[index], out.part_centers[index], size)
        draw_scales(axes[r, 0], out.part_centers[index], out.part_scales[index], size)
        axes[r, 1].imshow(color_masks(out.masks[index]), interpolation="nearest")
        axes[r, 2].imshow(to_numpy_image(out.image[index]), interpolation="nearest")
        axes[r, 0].set_ylabel(label, fontsize=9)
        for j in range(k):
            m = mean_masks[label][j].clamp(0, 1).numpy()
            tint = np.clip(m[..., None] * colors[j][None, None, :3] + (1 - m[..., None]), 0, 1)
            axes[r, 3 + j].imshow(tint, interpolation="nearest")
            axes[r, 3 + j].set_title(f"part {j}: {100 * masses[label][j]:.0f} %", fontsize=8)
        if r == 0:
            for j, name in enumerate(("points", "masks", "image")):
                axes[r, j].set_title(name, fontsize=9)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    return _finish(fig, "the same latents through training snapshots; right: each part's mean mask (mass)")
