"""The hierarchical generator: points -> masks -> foreground and background -> image.

    g = Generator(PRESETS["cpu-tiny"])
    latents = g.sample_latents(8)
    out = g(latents)                 # GeneratorOutput
    out = g(latents, points=moved)   # override level 1, e.g. from a widget
"""
from __future__ import annotations

from dataclasses import dataclass, fields

import torch
from torch import nn

from ..config import GANSegConfig, GeneratorConfig
from ..coords import make_grid
from .foreground_background import BackgroundGenerator, ForegroundGenerator, ImageHead
from .layers import HEAD_SHRINK, crop, init_weights
from .masks import MaskGenerator, heatmaps
from .points import PointGenerator, part_centers_and_scales


def from_host(t: torch.Tensor, device: torch.device | str) -> torch.Tensor:
    """A CPU tensor on `device`.  To a GPU it goes through pinned memory without blocking, so the
    host does not wait there for the GPU to finish its queue (a copy from pageable memory would)."""
    device = torch.device(device)
    if device.type == "cuda":
        return t.pin_memory().to(device, non_blocking=True)
    return t.to(device)


@dataclass(frozen=True)
class Latents:
    """The generator's random inputs; bg_shift is the background offset u in [-1, 1] units (x, y)."""

    z_point: torch.Tensor  # (B, z_dim) noise for the points (eq. 1)
    z_app: torch.Tensor  # (B, z_dim) noise for the part appearance (eq. 2)
    z_bg: torch.Tensor  # (B, z_dim) noise for the background appearance (eq. 9)
    bg_shift: torch.Tensor  # (B, 2) background offset; adding d moves the background by +d

    def to(self, *args, **kwargs) -> "Latents":
        return Latents(**{f.name: getattr(self, f.name).to(*args, **kwargs) for f in fields(self)})

    def __getitem__(self, index) -> "Latents":
        return Latents(**{f.name: getattr(self, f.name)[index] for f in fields(self)})


@dataclass(frozen=True)
class GeneratorOutput:
    """Everything one forward pass makes; spatial maps are S x S, cropped to the image."""

    image: torch.Tensor  # (B, 3, S, S) in [-1, 1]
    masks: torch.Tensor  # (B, K+1, S, S), softmax over channels, last channel = background
    points: torch.Tensor  # (B, K, n_per, 2) level-1 points, (x, y) in [-1, 1]
    part_centers: torch.Tensor  # (B, K, 2) x_k
    part_scales: torch.Tensor  # (B, K) sigma_k
    part_embeddings: torch.Tensor  # (B, K, D_emb) w_k
    heatmaps: torch.Tensor  # (B, K, S, S) H_k at the output resolution
    foreground: torch.Tensor  # (B, D_emb, S, S) F
    background: torch.Tensor  # (B, D_emb, S, S) B
    bg_embedding: torch.Tensor  # (B, D_emb) w_bg


class Generator(nn.Module):
    def __init__(self, cfg: GANSegConfig | GeneratorConfig):
        super().__init__()
        self.cfg = gcfg = cfg.generator if isinstance(cfg, GANSegConfig) else cfg
        self.level1 = PointGenerator(gcfg)
        self.level2 = MaskGenerator(gcfg)
        self.foreground = ForegroundGenerator(gcfg)
        self.background = BackgroundGenerator(gcfg)
        self.head = ImageHead(gcfg)
        init_weights(self)

    def sample_latents(self, batch: int, generator: torch.Generator | None = None,
                       device: torch.device | str | None = None) -> Latents:
        """Gaussian noise for the three MLPs and a uniform background shift within cfg.bg_shift_max."""
        cfg = self.cfg
        device = device if device is not None else next(self.parameters()).device
        dtype = next(self.parameters()).dtype

        def normal() -> torch.Tensor:
            return from_host(torch.randn(batch, cfg.z_dim, generator=generator, dtype=dtype), device)

        z_point, z_app, z_bg = normal(), normal(), normal()
        bound = torch.tensor(cfg.bg_shift_max, dtype=dtype)
        shift = (torch.rand(batch, 2, generator=generator, dtype=dtype) * 2 - 1) * bound
        return Latents(z_point, z_app, z_bg, from_host(shift, device))

    def forward(self, latents: Latents, points: torch.Tensor | None = None) -> GeneratorOutput:
        cfg = self.cfg
        if points is None:
            points = self.level1.points(latents.z_point)  # level 1, eq. 1
        centers, scales = part_centers_and_scales(points, cfg.scale)
        embeddings = self.level1.embeddings(latents.z_app)  # eq. 2-3

        masks_full = torch.softmax(self.level2(points, centers, scales, embeddings), dim=1)  # level 2, eq. 4-6
        mask_margin = self.level2.out_margin

        fg = self.foreground(centers, embeddings, masks_full[:, :-1])  # level 3, eq. 7-8
        bg, bg_style = self.background(latents.z_bg, latents.bg_shift)  # eq. 9-10
        margin = HEAD_SHRINK
        bg_mask = crop(masks_full[:, -1:], mask_margin - margin)
        image = torch.tanh(self.head(fg, bg, bg_mask))  # eq. 11
        grid = make_grid(cfg.image_size, 0, dtype=centers.dtype, device=centers.device)

        return GeneratorOutput(
            image=image,
            masks=crop(masks_full, mask_margin),
            points=points,
            part_centers=centers,
            part_scales=scales,
            part_embeddings=embeddings,
            heatmaps=heatmaps(centers, scales, grid, cfg.heatmap),
            foreground=crop(fg, margin),
            background=crop(bg, margin),
            bg_embedding=bg_style,
        )
