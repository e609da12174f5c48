"""SPADE (Park et al. 2019) as the paper uses it: the normalisation layer and its residual block.

The mask stack (eq. 6) and the foreground (eq. 8) are stacks of `SPADEResBlock`s conditioned
on a map W(p) (W_mask, eq. 4, or W_fg, eq. 7), dense or factored (`fast.PartCondition`).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .fast import Condition, PointwiseConv2d, condition_conv, condition_side, crop_condition
from .layers import LEAK, SPADE_BLOCK_SHRINK, crop, spade_cond_extra


class SPADE(nn.Module):
    """Spatially adaptive normalisation (Park et al.): out = (1 + gamma) * BN(x) + beta.

    BatchNorm without affine, as in the paper (Appendix B.2); gamma and beta come from one
    fused conv (kernel `kernel`, 3 in SPADE) over the hidden activation of the condition map.
    `hidden` may be passed in when several SPADE layers of a block share one hidden activation.
    """

    def __init__(self, channels: int, cond_channels: int, hidden: int, own_hidden: bool = True, kernel: int = 3):
        super().__init__()
        self.norm = nn.BatchNorm2d(channels, affine=False)
        self.hidden = nn.Conv2d(cond_channels, hidden, 3) if own_hidden else None
        self.gamma_beta = PointwiseConv2d(hidden, 2 * channels) if kernel == 1 else nn.Conv2d(hidden, 2 * channels, kernel)
        self.reach = kernel // 2  # pixels the gamma/beta conv reads beyond x

    def forward(self, x: torch.Tensor, cond: Condition, hidden: torch.Tensor | None = None) -> torch.Tensor:
        # cond (and hidden) may be larger than x; read only the part the valid convs need
        if hidden is None:
            cond = crop_condition(cond, (condition_side(cond) - x.shape[-1]) // 2 - self.reach - 1)
            hidden = F.leaky_relu(condition_conv(self.hidden, cond), LEAK)
        hidden = crop(hidden, (hidden.shape[-1] - x.shape[-1]) // 2 - self.reach)
        gamma, beta = self.gamma_beta(hidden).chunk(2, dim=1)
        return torch.addcmul(beta, self.norm(x), 1.0 + gamma)


class SPADEResBlock(nn.Module):
    """x -> conv(lrelu(SPADE(x))) twice, plus a learned SPADE+conv shortcut when widths differ.

    All convs are valid: the output is 2 px smaller on each side than x, and the condition map
    must reach `spade_cond_extra` px further than x (see `plan_margins`).
    """

    def __init__(self, in_ch: int, out_ch: int, cond_ch: int, hidden: int, share_hidden: bool = False,
                 spade_kernel: int = 3):
        super().__init__()
        mid = min(in_ch, out_ch)
        self.shared = nn.Conv2d(cond_ch, hidden, 3) if share_hidden else None
        self.cond_extra = spade_cond_extra(spade_kernel)
        own = not share_hidden
        self.spade1 = SPADE(in_ch, cond_ch, hidden, own, spade_kernel)
        self.conv1 = nn.Conv2d(in_ch, mid, 3)
        self.spade2 = SPADE(mid, cond_ch, hidden, own, spade_kernel)
        self.conv2 = nn.Conv2d(mid, out_ch, 3)
        if in_ch != out_ch:
            self.spade_skip = SPADE(in_ch, cond_ch, hidden, own, spade_kernel)
            self.conv_skip = nn.Conv2d(in_ch, out_ch, 3)
        else:
            self.spade_skip = self.conv_skip = None

    def forward(self, x: torch.Tensor, cond: Condition) -> torch.Tensor:
        hidden = None
        if self.shared is not None:  # one hidden activation for all SPADE layers of the block
            reach = (condition_side(cond) - x.shape[-1]) // 2 - self.cond_extra
            hidden = F.leaky_relu(condition_conv(self.shared, crop_condition(cond, reach)), LEAK)
        h = self.conv1(F.leaky_relu(self.spade1(x, cond, hidden), LEAK))
        h = self.conv2(F.leaky_relu(self.spade2(h, cond, hidden), LEAK))
        if self.conv_skip is None:
            return h + crop(x, SPADE_BLOCK_SHRINK)
        x = crop(x, SPADE_BLOCK_SHRINK - 1)
        return h + self.conv_skip(self.spade_skip(x, cond, hidden))
