"""Residual down-sampling discriminator: S x S x 3 -> 2 x 2 x C -> linear head -> one logit."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ..config import DiscriminatorConfig, GANSegConfig
from .fast import PointwiseConv2d
from .layers import LEAK, init_weights


class DownBlock(nn.Module):
    """(conv3x3, lrelu, conv3x3, lrelu, conv3x3 stride 2) + 1x1 stride-2 shortcut, scaled by 1/sqrt(2)."""

    def __init__(self, in_ch: int, out_ch: int):
        super().__init__()
        self.conv1 = nn.Conv2d(in_ch, out_ch, 3, padding=1)
        self.conv2 = nn.Conv2d(out_ch, out_ch, 3, padding=1)
        self.down = nn.Conv2d(out_ch, out_ch, 3, padding=1, stride=2)
        self.skip = PointwiseConv2d(in_ch, out_ch, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.leaky_relu(self.conv1(x), LEAK)
        h = self.down(F.leaky_relu(self.conv2(h), LEAK))
        return (h + self.skip(x)) * (1.0 / math.sqrt(2.0))


def minibatch_std(h: torch.Tensor, group: int) -> torch.Tensor:
    """(B, C, H, W) -> (B, C + 1, H, W): the std over each group of `group` images, averaged over features.

    Images i, i + B/group, ... form one group (as in ProGAN); a batch that `group` does not divide uses
    its largest divisor not above it (a batch of one gets a constant 1e-4 channel).
    """
    b = h.shape[0]
    g = max(d for d in range(1, min(group, b) + 1) if b % d == 0)
    grouped = h.reshape(g, b // g, *h.shape[1:])
    std = (grouped.var(dim=0, unbiased=False) + 1e-8).sqrt().mean(dim=(1, 2, 3))  # (B/g,)
    channel = std.repeat(g).view(b, 1, 1, 1).expand(b, 1, *h.shape[2:])
    return torch.cat([h, channel], dim=1)


class Discriminator(nn.Module):
    def __init__(self, cfg: GANSegConfig | DiscriminatorConfig):
        super().__init__()
        self.cfg = dcfg = cfg.discriminator if isinstance(cfg, GANSegConfig) else cfg
        widths = (3,) + tuple(dcfg.channels)
        self.blocks = nn.Sequential(*(DownBlock(widths[i], widths[i + 1]) for i in range(len(dcfg.channels))))
        self.fc1 = nn.Linear(4 * (dcfg.channels[-1] + (dcfg.minibatch_std_group > 0)), dcfg.fc_width)
        self.fc2 = nn.Linear(dcfg.fc_width, 1)
        init_weights(self)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        """(B, 3, S, S) in [-1, 1] -> (B,) logits."""
        h = self.blocks(image)
        if self.cfg.minibatch_std_group > 0:
            h = minibatch_std(h, self.cfg.minibatch_std_group)
        h = h.flatten(1)
        return self.fc2(F.leaky_relu(self.fc1(h), LEAK)).squeeze(1)
