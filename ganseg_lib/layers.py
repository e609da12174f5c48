"""Building blocks shared by the levels: coordinate grids with margins, the relative sin/cos
positional encoding (eq. 5), SPADE and AdaIN normalisation, and their residual blocks.

Margins (eq. 12).  Every feature map is computed on a grid larger than the image so that
what happens at the map's edge never reaches the image.  The paper pads each 3x3 conv with
zeros and keeps a fixed 10-px margin; zero padding at an edge still changes the values next to
it, and the x2 up-sampling doubles that band at every level, so the image is then only
approximately translation equivariant.  Here every generator conv is *valid* (no padding):
each 3x3 conv eats one pixel of margin, nothing ever reads a made-up value, and `plan_margins`
computes, from the back of the network to the front, exactly the margin each level needs so
that the output covers the image.  The result is exactly equivariant: moving all points (and
the background shift) by one pixel of the coarsest grid moves masks and image by the same
amount, to float precision, everywhere in the image.

Grids: a map at level side `r` with margin `m` has (r + 2m)^2 pixels; pixel j sits at
x = (j - m + 0.5) * 2 / r - 1, so the central r x r pixels are the image.  Bilinear x2
up-sampling (align_corners=False) maps such a grid onto the side-2r grid with margin 2m,
pixel centre onto pixel centre; its outermost output pixel is clamped, so one is cropped.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

LEAK = 0.2  # negative slope of every leaky ReLU


def make_grid(side: int, margin: int, *, dtype: torch.dtype = torch.float32,
              device: torch.device | str | None = None) -> torch.Tensor:
    """Pixel-centre coordinates of a side x side grid extended by `margin` px: (side+2m, side+2m, 2) as (x, y)."""
    idx = torch.arange(side + 2 * margin, dtype=dtype, device=device)
    ticks = (idx - margin + 0.5) * (2.0 / side) - 1.0
    ys, xs = torch.meshgrid(ticks, ticks, indexing="ij")
    return torch.stack((xs, ys), dim=-1)


def crop(x: torch.Tensor, margin: int) -> torch.Tensor:
    """Remove `margin` px from each side of (..., H, W)."""
    return x[..., margin:x.shape[-2] - margin, margin:x.shape[-1] - margin] if margin else x


def crop_like(x: torch.Tensor, ref: torch.Tensor) -> torch.Tensor:
    """Centre-crop x to the spatial size of ref (both maps centred on the same image)."""
    return crop(x, (x.shape[-1] - ref.shape[-1]) // 2)


def upsample2x(x: torch.Tensor, out_margin: int, in_margin: int) -> torch.Tensor:
    """Bilinear x2 of a map with `in_margin`, cropped to `out_margin` (at most 2 * in_margin - 1)."""
    x = F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=False)
    return crop(x, 2 * in_margin - out_margin)


SPADE_BLOCK_SHRINK = 2  # a SPADE ResBlock has two valid 3x3 convs on its main path
ADAIN_BLOCK_SHRINK = 1  # an AdaIN ConvBlock has one valid 3x3 conv
HEAD_SHRINK = 2  # the output head has two valid 3x3 convs


@dataclass(frozen=True)
class MarginPlan:
    """Input margin (px at that level) of every block, derived from the layer depths."""

    mask_in: tuple[int, ...]  # x entering mask block i
    fg_in: tuple[int, ...]  # x entering foreground block i
    fg_cond: tuple[int, ...]  # W_fg needed by foreground block i
    bg_in: tuple[int, ...]  # x entering background block i
    mask_out: int  # mask logits at the final resolution
    head_in: int  # blended features entering the output head
    cond_extra: int  # how much further than x a SPADE's condition map must reach


def _backwards(resolutions: tuple[int, ...], out_last: int, shrink: int) -> tuple[int, ...]:
    """Input margins of a stack whose last block must output `out_last` px of margin."""
    margins = [0] * len(resolutions)
    out = out_last
    for i in reversed(range(len(resolutions))):
        margins[i] = out + shrink
        if i:
            doubled = resolutions[i] != resolutions[i - 1]
            out = (margins[i] + 2) // 2 if doubled else margins[i]  # 2 * out - 1 >= needed
    return tuple(margins)


def spade_cond_extra(spade_kernel: int) -> int:
    """Pixels a SPADE's condition map must reach beyond x: its 3x3 hidden conv plus the gamma/beta conv."""
    return 1 + spade_kernel // 2


def plan_margins(resolutions: tuple[int, ...], spade_kernel: int = 3) -> MarginPlan:
    """The one place that sizes every grid: exactly the receptive field, nothing more (eq. 12)."""
    cond_extra = spade_cond_extra(spade_kernel)
    fg_in = _backwards(resolutions, HEAD_SHRINK, SPADE_BLOCK_SHRINK)
    fg_cond = tuple(m + cond_extra for m in fg_in)
    bg_in = _backwards(resolutions, HEAD_SHRINK, ADAIN_BLOCK_SHRINK)
    # The final masks feed the head (background mask) and, average-pooled, every foreground level.
    final = resolutions[-1]
    mask_out = max([HEAD_SHRINK] + [c * final // r for c, r in zip(fg_cond, resolutions)])
    mask_in = _backwards(resolutions, mask_out, SPADE_BLOCK_SHRINK)
    return MarginPlan(mask_in, fg_in, fg_cond, bg_in, mask_out, HEAD_SHRINK, cond_extra)


def next_level(x: torch.Tensor, resolutions: tuple[int, ...], i: int, out_margin: int, next_in: int) -> torch.Tensor:
    """Carry a map from the end of level i (margin `out_margin`) to the input of level i + 1."""
    if resolutions[i + 1] != resolutions[i]:
        return upsample2x(x, next_in, out_margin)
    return crop(x, out_margin - next_in)


class RelativePositionalEncoding(nn.Module):
    """M0(p) = [sin(pi FC([p - x_1, ..., p - x_N])), cos(...)] (eq. 5), out: (B, C, H, W).

    FC is linear, so FC([p - x_i]_i) = (sum_i A_i) p + (b - sum_i A_i x_i): the per-pixel part
    depends on p only and the per-sample part on the points only.  Evaluating it that way is
    exact and costs one (C/2 x 2) product per pixel instead of (C/2 x 2N).
    """

    def __init__(self, n_points: int, channels: int):
        super().__init__()
        self.n_points = n_points
        self.fc = nn.Linear(2 * n_points, channels // 2)

    def forward(self, points: torch.Tensor, grid: torch.Tensor) -> torch.Tensor:
        # points (B, N, 2); grid (H, W, 2)
        w = self.fc.weight.view(-1, self.n_points, 2)  # (C/2, N, 2)
        pixel_term = torch.einsum("hwd,cd->chw", grid, w.sum(dim=1))  # (C/2, H, W)
        point_term = self.fc.bias - torch.einsum("bnd,cnd->bc", points, w)  # (B, C/2)
        phase = math.pi * (pixel_term.unsqueeze(0) + point_term[:, :, None, None])
        return torch.cat((torch.sin(phase), torch.cos(phase)), dim=1)


def embedding_map(weights: torch.Tensor, embeddings: torch.Tensor) -> torch.Tensor:
    """sum_k weights_k(p) w_k: (B, K, H, W), (B, K, D) -> (B, D, H, W) (eq. 4 with H_k, eq. 7 with M_k)."""
    return torch.einsum("bkhw,bkd->bdhw", weights, embeddings)


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


def _side(cond: Condition) -> int:
    return cond.side if isinstance(cond, PartCondition) else cond.shape[-1]


def _crop_cond(cond: Condition, margin: int) -> Condition:
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

    oneDNN's 1x1 convolution on NCHW maps at 16 channels is very slow on CPU: at 60 px, 6-12x
    slower forward and about 2x slower forward+backward than `baddbmm`; at the paper's widths the
    two are on par (0.8-1.6x across runs; benchmarks/bench_pointwise.py).  GPUs keep the
    convolution kernel.  Same parameters and state_dict as `nn.Conv2d(in_ch, out_ch, 1, stride)`;
    equal to it up to float rounding.
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
            cond = _crop_cond(cond, (_side(cond) - x.shape[-1]) // 2 - self.reach - 1)
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
            reach = (_side(cond) - x.shape[-1]) // 2 - self.cond_extra
            hidden = F.leaky_relu(condition_conv(self.shared, _crop_cond(cond, reach)), LEAK)
        h = self.conv1(F.leaky_relu(self.spade1(x, cond, hidden), LEAK))
        h = self.conv2(F.leaky_relu(self.spade2(h, cond, hidden), LEAK))
        if self.conv_skip is None:
            return h + crop(x, SPADE_BLOCK_SHRINK)
        x = crop(x, SPADE_BLOCK_SHRINK - 1)
        return h + self.conv_skip(self.spade_skip(x, cond, hidden))


class AdaIN(nn.Module):
    """out = (1 + gamma(w)) * BN(x) + beta(w), gamma and beta per channel from a style vector.

    The paper replaces AdaIN's instance norm by BatchNorm (Appendix B.3); in eval mode BatchNorm
    uses running statistics, which is pointwise and keeps the background equivariant.
    """

    def __init__(self, channels: int, style_dim: int, hidden: int = 128):
        super().__init__()
        self.norm = nn.BatchNorm2d(channels, affine=False)
        self.hidden = nn.Linear(style_dim, hidden)
        self.gamma_beta = nn.Linear(hidden, 2 * channels)

    def forward(self, x: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        gamma, beta = self.gamma_beta(F.leaky_relu(self.hidden(style), LEAK)).chunk(2, dim=1)
        return torch.addcmul(beta[:, :, None, None], self.norm(x), 1.0 + gamma[:, :, None, None])


class AdaINConvBlock(nn.Module):
    """x -> conv(lrelu(AdaIN(x, w)))  (eq. 10)."""

    def __init__(self, in_ch: int, out_ch: int, style_dim: int, hidden: int = 128):
        super().__init__()
        self.adain = AdaIN(in_ch, style_dim, hidden)
        self.conv = nn.Conv2d(in_ch, out_ch, 3)

    def forward(self, x: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        return self.conv(F.leaky_relu(self.adain(x, style), LEAK))


def mlp(in_dim: int, width: int, out_dim: int, hidden_layers: int) -> nn.Sequential:
    """`hidden_layers` Linear+LeakyReLU layers (each its own module) and a linear output."""
    layers: list[nn.Module] = []
    for i in range(hidden_layers):
        layers += [nn.Linear(in_dim if i == 0 else width, width), nn.LeakyReLU(LEAK)]
    layers.append(nn.Linear(width if hidden_layers else in_dim, out_dim))
    return nn.Sequential(*layers)


def init_weights(module: nn.Module) -> None:
    """He-normal weights for the leaky ReLU slope, zero biases (convs and linears)."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.kaiming_normal_(m.weight, a=LEAK)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
