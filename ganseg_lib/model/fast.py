"""Speed devices: the same numbers as the paper's blocks, computed with fewer operations.

None of this changes what the model computes (each is equal to the plain form up to float
rounding, and tests check it); it only changes how.  The paper's blocks in `layers` and
`spade` call these instead of special-casing their call sites.

- `PartCondition`: a SPADE condition map W = sum_k A_k w_k (eq. 4, eq. 7) kept as its two
  factors, so the SPADE hidden conv reads K maps instead of D_emb channels.
- `PointwiseConv2d`: a 1x1 conv as a batched matmul on CPU.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .layers import crop, embedding_map


@dataclass(frozen=True)
class PartCondition:
    """A condition map W(p) = sum_k A_k(p) w_k kept as its two factors (eq. 4 and eq. 7).

    The mask stack's W_mask (A = heatmaps H_k) and the foreground's W_fg (A = masks M_k) are
    only ever read by the SPADE hidden conv.  A conv is linear, so conv(W) equals a conv of the
    K maps A_k with per-sample weights sum_d Conv.weight[:, d] w_k[d]: the same numbers for
    D_emb / K times fewer multiply-adds (8x for the paper's D_emb 64 and K 8), and the D_emb-
    channel map W is never stored.  `part_condition` picks the cheaper form once per block.
    """

    weights: torch.Tensor  # (B, K, H, W) per-part spatial weights A_k
    embeddings: torch.Tensor  # (B, K, D) part embeddings w_k

    @property
    def side(self) -> int:
        return self.weights.shape[-1]

    def crop(self, margin: int) -> PartCondition:
        return PartCondition(crop(self.weights, margin), self.embeddings)

    def dense(self) -> torch.Tensor:
        """W itself, (B, D, H, W)."""
        return embedding_map(self.weights, self.embeddings)


Condition = torch.Tensor | PartCondition


def part_condition(weights: torch.Tensor, embeddings: torch.Tensor) -> Condition:
    """W = sum_k A_k w_k in the cheaper form for the SPADE hidden convs: factored when K < D_emb,
    else the dense map, computed once here for all SPADE layers of the block."""
    if weights.shape[1] < embeddings.shape[-1]:
        return PartCondition(weights, embeddings)
    return embedding_map(weights, embeddings)


def condition_side(cond: Condition) -> int:
    """Side in pixels of a dense or factored condition map."""
    return cond.side if isinstance(cond, PartCondition) else cond.shape[-1]


def crop_condition(cond: Condition, margin: int) -> Condition:
    """Remove `margin` px from each side of a dense or factored condition map."""
    return cond.crop(margin) if isinstance(cond, PartCondition) else crop(cond, margin)


def condition_conv(conv: nn.Conv2d, cond: Condition) -> torch.Tensor:
    """conv(W) for a dense W or a PartCondition (per-sample weights); equal up to float rounding."""
    if isinstance(cond, torch.Tensor):
        return conv(cond)
    b, k, h, w = cond.weights.shape
    out_ch, _, kh, kw = conv.weight.shape
    # per-sample weights: V_b[o, k] = sum_d conv.weight[o, d] * w_bk[d], one group per sample
    weight = torch.einsum("odij,bkd->bokij", conv.weight, cond.embeddings).reshape(b * out_ch, k, kh, kw)
    bias = conv.bias.repeat(b) if conv.bias is not None else None
    out = F.conv2d(cond.weights.reshape(1, b * k, h, w), weight, bias, groups=b)
    return out.view(b, out_ch, out.shape[-2], out.shape[-1])


class PointwiseConv2d(nn.Conv2d):
    """A 1x1 conv (any stride, no padding) that runs as one batched matmul on CPU.

    oneDNN's 1x1 convolution on NCHW maps with few channels is much slower on CPU than
    `baddbmm` (measured in benchmarks/bench_pointwise.py, report in benchmarks/measured/); GPUs
    keep the convolution kernel.  Same parameters and state_dict as
    `nn.Conv2d(in_ch, out_ch, 1, stride)`; equal to it up to float rounding.
    """

    def __init__(self, in_ch: int, out_ch: int, stride: int = 1, bias: bool = True):
        super().__init__(in_ch, out_ch, 1, stride=stride, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.device.type != "cpu":
            return super().forward(x)
        sy, sx = self.stride
        if sy > 1 or sx > 1:
            x = x[:, :, ::sy, ::sx]
        b, c, h, w = x.shape
        weight = self.weight.flatten(1).expand(b, -1, -1)
        if self.bias is None:
            out = torch.bmm(weight, x.reshape(b, c, h * w))
        else:
            out = torch.baddbmm(self.bias[None, :, None], weight, x.reshape(b, c, h * w))
        return out.view(b, -1, h, w)
