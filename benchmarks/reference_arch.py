"""A speed reference: the released GANSeg generator's structure, written for timing only.

It reproduces what costs time in the authors' implementation, as read from their code and
paper: zero-padded 3x3 convs on maps with a fixed 10-px margin cropped after each x2
up-sampling; every SPADE with its own 128-wide hidden conv and separate gamma and beta convs;
the foreground conditioned on the final masks cropped to the image, resized to each level and
replication-padded; and a training iteration whose D step keeps the generator's graph and
back-propagates through G.  The layer widths follow the same config as `ganseg_lib`, so both
are compared at the paper's architecture.  Nothing here is used outside `benchmarks/`.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ganseg_lib import losses
from ganseg_lib.config import GANSegConfig
from ganseg_lib.coords import make_grid
from ganseg_lib.model.discriminator import Discriminator
from ganseg_lib.model.layers import mlp

MARGIN = 10  # px kept around every map, as released
HIDDEN = 128  # SPADE hidden width, as released


class _Spade(nn.Module):
    def __init__(self, channels: int, cond: int, hidden: int):
        super().__init__()
        self.norm = nn.BatchNorm2d(channels, affine=False)
        self.hidden = nn.Conv2d(cond, hidden, 3, padding=1)
        self.gamma = nn.Conv2d(hidden, channels, 3, padding=1)
        self.beta = nn.Conv2d(hidden, channels, 3, padding=1)

    def forward(self, x, cond):
        h = F.leaky_relu(self.hidden(cond), 0.2)
        return (1 + self.gamma(h)) * self.norm(x) + self.beta(h)


class _SpadeBlock(nn.Module):
    def __init__(self, cin: int, cout: int, cond: int, hidden: int):
        super().__init__()
        mid = min(cin, cout)
        self.s1, self.c1 = _Spade(cin, cond, hidden), nn.Conv2d(cin, mid, 3, padding=1)
        self.s2, self.c2 = _Spade(mid, cond, hidden), nn.Conv2d(mid, cout, 3, padding=1)
        self.learned = cin != cout
        if self.learned:
            self.ss, self.cs = _Spade(cin, cond, hidden), nn.Conv2d(cin, cout, 3, padding=1)

    def forward(self, x, cond):
        h = self.c1(F.leaky_relu(self.s1(x, cond), 0.2))
        h = self.c2(F.leaky_relu(self.s2(h, cond), 0.2))
        return h + (self.cs(self.ss(x, cond)) if self.learned else x)


class _AdaBlock(nn.Module):
    def __init__(self, cin: int, cout: int, style: int):
        super().__init__()
        self.norm = nn.BatchNorm2d(cin, affine=False)
        self.hidden, self.gamma, self.beta = nn.Linear(style, 128), nn.Linear(128, cin), nn.Linear(128, cin)
        self.conv = nn.Conv2d(cin, cout, 3, padding=1)

    def forward(self, x, w):
        h = F.leaky_relu(self.hidden(w), 0.2)
        y = (1 + self.gamma(h)[:, :, None, None]) * self.norm(x) + self.beta(h)[:, :, None, None]
        return self.conv(F.leaky_relu(y, 0.2))


class _Encoding(nn.Module):
    """sin/cos of a 1x1 conv over the stacked relative positions, as released (no algebraic shortcut)."""

    def __init__(self, n_points: int, channels: int):
        super().__init__()
        self.conv = nn.Conv2d(2 * n_points, channels // 2, 1)

    def forward(self, points, grid):
        rel = (points[:, :, None, None, :] - grid[None, None]).permute(0, 1, 4, 2, 3).flatten(1, 2)
        phase = math.pi * self.conv(rel)
        return torch.cat((torch.sin(phase), torch.cos(phase)), 1)


def _crop(x, margin: int):
    return x[..., margin:-margin, margin:-margin]


class ReferenceGenerator(nn.Module):
    def __init__(self, cfg: GANSegConfig, hidden: int = HIDDEN, margin: int = MARGIN):
        super().__init__()
        c = self.cfg = cfg.generator
        K, n, D, H = c.n_parts, c.points_per_part, c.embed_dim, hidden
        self.margin = margin
        self.points_mlp = mlp(c.z_dim, c.mlp_width, 2 * K * n, c.point_mlp_layers)
        self.app_mlp = mlp(c.z_dim, c.mlp_width, D, c.app_mlp_layers)
        self.bg_mlp = mlp(c.z_dim, c.mlp_width, D, c.app_mlp_layers)
        self.const = nn.Parameter(torch.randn(K, D))
        self.mask_start, self.fg_start, self.bg_start = (_Encoding(K * n, c.channels[0]), _Encoding(K, c.channels[0]),
                                                         _Encoding(1, c.channels[0]))
        L = len(c.resolutions)
        widths = [c.channels[0]] + [D] * (L - 1) + [K + 1]
        self.mask_blocks = nn.ModuleList(_SpadeBlock(widths[i], widths[i + 1], D, H) for i in range(L))
        fw = list(c.channels) + [D]
        self.fg_blocks = nn.ModuleList(_SpadeBlock(fw[i], fw[i + 1], D, H) for i in range(L))
        self.bg_blocks = nn.ModuleList(_AdaBlock(fw[i], fw[i + 1], D) for i in range(L))
        self.head = nn.Sequential(nn.LeakyReLU(0.2), nn.Conv2d(D, D, 3, padding=1), nn.LeakyReLU(0.2),
                                  nn.Conv2d(D, 3, 3, padding=1))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        c, res, M = self.cfg, self.cfg.resolutions, self.margin
        B, K = z.shape[0], c.n_parts
        pts = torch.tanh(self.points_mlp(z) / 20).view(B, K, -1, 2)
        centers = pts.mean(2)
        tau = (pts - centers[:, :, None]).abs().mean((2, 3)) + 1e-6
        emb = self.app_mlp(z)[:, None] * self.const
        grid0 = make_grid(res[0], M, device=z.device)
        x = self.mask_start(pts.flatten(1, 2), grid0)
        for i, block in enumerate(self.mask_blocks):
            grid = make_grid(res[i], M, device=z.device)
            dist = (grid[None, None] - centers[:, :, None, None]).norm(dim=-1)
            heat = (1 - dist / tau[:, :, None, None]).clamp_min(0)
            x = block(x, torch.einsum("bkhw,bkd->bdhw", heat, emb))
            if i + 1 < len(res) and res[i + 1] != res[i]:
                x = _crop(F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=False), M)
        masks = torch.softmax(_crop(x, M), 1)
        f = self.fg_start(centers, grid0)
        for i, block in enumerate(self.fg_blocks):
            m = F.pad(F.interpolate(masks[:, :-1], size=res[i], mode="bilinear", align_corners=False),
                      (M,) * 4, mode="replicate")
            f = block(f, torch.einsum("bkhw,bkd->bdhw", m, emb))
            if i + 1 < len(res) and res[i + 1] != res[i]:
                f = _crop(F.interpolate(f, scale_factor=2.0, mode="bilinear", align_corners=False), M)
        w_bg = self.bg_mlp(z)
        b = self.bg_start(torch.zeros(B, 1, 2, device=z.device), grid0)
        for i, block in enumerate(self.bg_blocks):
            b = block(b, w_bg)
            if i + 1 < len(res) and res[i + 1] != res[i]:
                b = _crop(F.interpolate(b, scale_factor=2.0, mode="bilinear", align_corners=False), M)
        bg_mask = masks[:, -1:]
        img = torch.tanh(self.head((1 - bg_mask) * _crop(f, M) + bg_mask * _crop(b, M)))
        self.last_masks, self.last_centers = masks, centers
        return img


def reference_iteration(g: ReferenceGenerator, d: Discriminator, opt_g, opt_d, real: torch.Tensor,
                        cfg: GANSegConfig, step: int) -> None:
    """One iteration as released: the D step keeps G's graph and back-propagates through it."""
    z = torch.randn(real.shape[0], g.cfg.z_dim)
    fake = g(z)  # graph kept
    real = real.detach().requires_grad_(step % 16 == 0)
    # D reads a view of the leaf, not the leaf: FlopCounterMode's module hooks (bench_iteration
    # counts this iteration's FLOPs) cannot take autograd.grad back to a leaf module input
    d_real, d_fake = d(real.view_as(real)), d(fake)
    loss = losses.discriminator_loss(d_real, d_fake)
    if step % 16 == 0:
        (grad,) = torch.autograd.grad(d_real.sum(), real, create_graph=True)
        loss = loss + 10 * (grad.flatten(1).norm(dim=1) - 1).pow(2).mean()
    opt_d.zero_grad()
    loss.backward()  # also fills G's gradients, which the G step then discards
    opt_d.step()
    fake = g(torch.randn(real.shape[0], g.cfg.z_dim))
    loss = losses.generator_loss(d(fake))
    masks = g.last_masks[:, :-1]
    loss = loss + cfg.loss.lambda_con * losses.concentration_loss(masks, g.last_centers)
    opt_g.zero_grad()
    loss.backward()
    opt_g.step()
