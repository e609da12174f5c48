"""Level 3 (eq. 7-11): mask-conditioned foreground, shifted background, blend and output head."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..config import GeneratorConfig
from ..coords import make_grid
from .fast import part_condition
from .layers import (ADAIN_BLOCK_SHRINK, LEAK, SPADE_BLOCK_SHRINK, AdaINConvBlock, RelativePositionalEncoding,
                     mlp, next_level, plan_margins, pooled_masks)
from .spade import SPADEResBlock


class ForegroundGenerator(nn.Module):
    """Part centres, embeddings and masks -> foreground features F (B, D_emb, R+4, R+4) (eq. 7-8)."""

    def __init__(self, cfg: GeneratorConfig):
        super().__init__()
        self.cfg = cfg
        self.start = RelativePositionalEncoding(cfg.n_parts, cfg.channels[0])  # F(0) from part centres
        widths = list(cfg.channels) + [cfg.embed_dim]
        self.blocks = nn.ModuleList(
            SPADEResBlock(widths[i], widths[i + 1], cfg.embed_dim, cfg.spade_hidden, cfg.share_spade_hidden,
                          cfg.spade_kernel)
            for i in range(len(cfg.resolutions)))
        plan = plan_margins(cfg.resolutions, cfg.spade_kernel, cfg.coarse_masks, cfg.exact_masks)
        self.margins, self.cond_margins, self.mask_margin = plan.fg_in, plan.fg_cond, plan.mask_out

    def forward(self, centers: torch.Tensor, embeddings: torch.Tensor, part_masks: torch.Tensor) -> torch.Tensor:
        # part_masks: (B, K, R+2M, R+2M) on the mask stack's final grid (margin M = self.mask_margin)
        res, margins = self.cfg.resolutions, self.margins
        x = self.start(centers, make_grid(res[0], margins[0], dtype=centers.dtype, device=centers.device))
        for i, block in enumerate(self.blocks):
            # the final masks, average-pooled to this level, over exactly the margin the block reads
            masks_i = pooled_masks(part_masks, self.mask_margin, res[-1] // res[i], self.cond_margins[i])
            x = block(x, part_condition(masks_i, embeddings))  # W_fg (eq. 7) conditions every SPADE (eq. 8)
            if i + 1 < len(res):
                x = next_level(x, res, i, margins[i] - SPADE_BLOCK_SHRINK, margins[i + 1])
        return x


class BackgroundGenerator(nn.Module):
    """z_bg and the background shift u -> background features B (B, D_emb, R+4, R+4) (eq. 9-10)."""

    def __init__(self, cfg: GeneratorConfig):
        super().__init__()
        self.cfg = cfg
        self.app_mlp = mlp(cfg.z_dim, cfg.mlp_width, cfg.embed_dim, cfg.app_mlp_layers)  # MLP_bg_app, eq. 9
        self.start = RelativePositionalEncoding(1, cfg.channels[0])  # B(0)(p) from p - u
        widths = list(cfg.channels) + [cfg.embed_dim]
        self.blocks = nn.ModuleList(
            AdaINConvBlock(widths[i], widths[i + 1], cfg.embed_dim) for i in range(len(cfg.resolutions)))
        self.margins = plan_margins(cfg.resolutions).bg_in

    def forward(self, z_bg: torch.Tensor, bg_shift: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        cfg, res, margins = self.cfg, self.cfg.resolutions, self.margins
        style = self.app_mlp(z_bg)  # w_bg (B, D)
        grid = make_grid(res[0], margins[0], dtype=z_bg.dtype, device=z_bg.device)
        x = self.start(bg_shift.unsqueeze(1), grid)
        for i, block in enumerate(self.blocks):
            x = block(x, style)
            if i + 1 < len(res):
                x = next_level(x, res, i, margins[i] - ADAIN_BLOCK_SHRINK, margins[i + 1])
        return x, style


class ImageHead(nn.Module):
    """I = Conv((1 - M_bg) F + M_bg B) (eq. 11): leaky ReLU, conv, leaky ReLU, conv (valid convs);
    the caller applies tanh."""

    def __init__(self, cfg: GeneratorConfig):
        super().__init__()
        self.conv1 = nn.Conv2d(cfg.embed_dim, cfg.head_hidden, 3)
        self.conv2 = nn.Conv2d(cfg.head_hidden, 3, 3)

    def forward(self, fg: torch.Tensor, bg: torch.Tensor, bg_mask: torch.Tensor) -> torch.Tensor:
        # (1 - M_bg) F + M_bg B; under bf16 autocast F, B and M_bg can differ in dtype, lerp needs one
        blended = torch.lerp(fg, bg.to(fg.dtype), bg_mask.to(fg.dtype))
        h = F.leaky_relu(self.conv1(F.leaky_relu(blended, LEAK)), LEAK)
        return self.conv2(h)
