"""Level 2 (eq. 4-6, 12): heatmaps, the embedding map W_mask, and the SPADE mask stack."""
from __future__ import annotations

import torch
from torch import nn

from ..config import GeneratorConfig
from ..coords import make_grid
from .fast import part_condition
from .layers import SPADE_BLOCK_SHRINK, RelativePositionalEncoding, next_level, plan_margins, upsample2x
from .spade import SPADEResBlock


def heatmaps(centers: torch.Tensor, scales: torch.Tensor, grid: torch.Tensor, kind: str = "gaussian") -> torch.Tensor:
    """H_k(p) for every part and pixel (eq. 4): (B, K, 2), (B, K), grid (H, W, 2) -> (B, K, H, W).

    "gaussian": exp(-||p - x_k||^2 / sigma_k^2) (sigma^2, not 2 sigma^2, for sharper maps);
    "cone": max(0, 1 - ||p - x_k|| / sigma_k), the released models' choice.
    """
    diff = grid[None, None] - centers[:, :, None, None, :]  # (B, K, H, W, 2)
    dist2 = diff.pow(2).sum(-1)
    sigma = scales[:, :, None, None]
    if kind == "gaussian":
        return torch.exp(-dist2 / sigma.pow(2))
    return (1.0 - dist2.clamp_min(1e-12).sqrt() / sigma).clamp_min(0.0)


class MaskGenerator(nn.Module):
    """Points and embeddings -> K + 1 mask logits on the final grid (eq. 5-6).

    Works on grids with margins (eq. 12) sized by `plan_margins`: the final masks reach as far
    as the foreground will read them.  Returns logits at resolution R with margin
    `self.out_margin`; the caller applies the softmax.
    """

    def __init__(self, cfg: GeneratorConfig):
        super().__init__()
        self.cfg = cfg
        n_points = cfg.n_parts * cfg.points_per_part
        self.start = RelativePositionalEncoding(n_points, cfg.channels[0])  # M(0), eq. 5
        n = len(cfg.resolutions)
        widths = [cfg.channels[0]] + [cfg.mask_channels] * (n - 1) + [cfg.n_parts + 1]
        self.blocks = nn.ModuleList(
            SPADEResBlock(widths[i], widths[i + 1], cfg.embed_dim, cfg.spade_hidden, cfg.share_spade_hidden,
                          cfg.spade_kernel)
            for i in range(n))
        plan = plan_margins(cfg.resolutions, cfg.spade_kernel, cfg.coarse_masks, cfg.exact_masks)
        self.margins, self.out_margin, self.cond_extra = plan.mask_in, plan.mask_out, plan.cond_extra
        self.resolutions, self.coarse_out = plan.mask_resolutions, plan.mask_coarse_out

    def forward(self, points: torch.Tensor, centers: torch.Tensor, scales: torch.Tensor,
                embeddings: torch.Tensor) -> torch.Tensor:
        """-> mask logits (B, K+1, R + 2 out_margin, R + 2 out_margin)."""
        cfg, dtype, device = self.cfg, points.dtype, points.device
        res, margins = self.resolutions, self.margins
        x = self.start(points.flatten(1, 2), make_grid(res[0], margins[0], dtype=dtype, device=device))
        for i, block in enumerate(self.blocks):
            grid = make_grid(res[i], margins[i] + self.cond_extra, dtype=dtype, device=device)
            w_mask = part_condition(heatmaps(centers, scales, grid, cfg.heatmap), embeddings)  # eq. 4
            x = block(x, w_mask)  # eq. 6
            if i + 1 < len(res):
                x = next_level(x, res, i, margins[i] - SPADE_BLOCK_SHRINK, margins[i + 1])
        if cfg.coarse_masks:  # logits from half the image side, up-sampled to it
            x = upsample2x(x, self.out_margin, self.coarse_out)
        return x
