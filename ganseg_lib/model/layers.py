"""Building blocks shared by the levels: margins (eq. 12), the relative sin/cos positional
encoding (eq. 5), the embedding map (eq. 4, 7), AdaIN and its conv block (eq. 10), MLPs.
SPADE lives in `spade`; faster forms of the same operations in `fast`.

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

Grids (`coords.make_grid`): a map at level side `r` with margin `m` has (r + 2m)^2 pixels;
pixel j sits at x = (j - m + 0.5) * 2 / r - 1, so the central r x r pixels are the image.  Bilinear x2
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
    mask_resolutions: tuple[int, ...] = ()  # side of each mask block's grid (the generator's, or capped)
    mask_coarse_out: int = 0  # with coarse masks: margin of the logits before the final x2 up-sampling


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


def mask_resolutions(resolutions: tuple[int, ...], coarse: bool) -> tuple[int, ...]:
    """The mask stack's grid side per block: the generator's, or with `coarse` capped at half the image."""
    return tuple(min(r, resolutions[-1] // 2) for r in resolutions) if coarse else tuple(resolutions)


def plan_margins(resolutions: tuple[int, ...], spade_kernel: int = 3, coarse_masks: bool = False,
                 exact_masks: bool = True) -> MarginPlan:
    """The one place that sizes every grid: exactly the receptive field, nothing more (eq. 12).

    With `coarse_masks` the mask stack runs at most at half the image side and its logits are
    up-sampled x2 at the end (`GeneratorConfig.coarse_masks`).  Without `exact_masks` the final
    masks reach only as far as the finest foreground level and the head read them
    (`GeneratorConfig.exact_masks`; the coarser levels pad what they lack, `pooled_masks`).
    """
    cond_extra = spade_cond_extra(spade_kernel)
    fg_in = _backwards(resolutions, HEAD_SHRINK, SPADE_BLOCK_SHRINK)
    fg_cond = tuple(m + cond_extra for m in fg_in)
    bg_in = _backwards(resolutions, HEAD_SHRINK, ADAIN_BLOCK_SHRINK)
    # The final masks feed the head (background mask) and, average-pooled, every foreground level.
    final = resolutions[-1]
    reads = [c * final // r for c, r in zip(fg_cond, resolutions)]
    mask_out = max([HEAD_SHRINK] + (reads if exact_masks else reads[-1:]))
    mask_res = mask_resolutions(resolutions, coarse_masks)
    # a bilinear x2 of a map with margin m gives 2m - 1 px of margin (the outermost needs a neighbour)
    coarse_out = (mask_out + 2) // 2 if coarse_masks else 0
    mask_in = _backwards(mask_res, coarse_out if coarse_masks else mask_out, SPADE_BLOCK_SHRINK)
    return MarginPlan(mask_in, fg_in, fg_cond, bg_in, mask_out, HEAD_SHRINK, cond_extra, mask_res, coarse_out)


def pooled_masks(masks: torch.Tensor, margin: int, factor: int, need: int) -> torch.Tensor:
    """Masks on the final grid (margin `margin`) average-pooled by `factor`, with `need` px of
    margin at the pooled level.  Where the final grid does not reach that far, the pooled map is
    edge-padded (replicate) out to `need`: the values there are made up, so the result is then
    only approximately translation equivariant (`GeneratorConfig.exact_masks`)."""
    have = min(need, margin // factor)
    pooled = crop(masks, margin - have * factor)
    if factor > 1:
        pooled = F.avg_pool2d(pooled, factor)
    return F.pad(pooled, [need - have] * 4, mode="replicate") if need > have else pooled


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
