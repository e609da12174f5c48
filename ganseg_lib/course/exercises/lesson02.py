"""Checks for lesson 02 (level 2: heatmaps, relative positional encoding, margins; eq. 4-6, 12)."""
from __future__ import annotations

import math

import torch

from ...coords import make_grid
from ...model.layers import RelativePositionalEncoding
from ...model.masks import heatmaps
from . import Exercise, expect_close, expect_tensor, fail


# --------------------------------------------------------------------------------------------
# 2.1 the cone heatmap of the released code

def _verify_cone(fn) -> None:
    title = "2.1 cone heatmap"
    g = torch.Generator().manual_seed(21)
    centers = torch.rand(2, 3, 2, generator=g) * 1.2 - 0.6
    scales = torch.rand(2, 3, generator=g) * 0.4 + 0.2
    grid = make_grid(12, 2)
    h = expect_tensor(title, fn(centers, scales, grid), (2, 3, 16, 16), "the heatmaps (B, K, H, W)")
    if (h < 0).any():
        fail(title, "some values are negative: the cone is clamped at 0 beyond sigma_k.")
    dist = (grid[None, None] - centers[:, :, None, None]).norm(dim=-1)
    if torch.allclose(h, (1 - dist.pow(2) / scales[:, :, None, None].pow(2)).clamp_min(0), atol=1e-5):
        fail(title, "you used the squared distance; the cone falls off linearly with the distance itself.")
    expect_close(title, h, heatmaps(centers, scales, grid, "cone"),
                 "not the cone yet: 1 at the part centre x_k, falling linearly to 0 at distance sigma_k, "
                 "0 beyond (distances in the same [-1, 1] units as the grid).", atol=1e-5)


def _solution_cone():
    def cone_heatmap(centers, scales, grid):
        dist = (grid[None, None] - centers[:, :, None, None]).norm(dim=-1)
        return (1 - dist / scales[:, :, None, None]).clamp_min(0)
    return cone_heatmap


def _mistake_cone():
    def cone_heatmap(centers, scales, grid):
        dist2 = (grid[None, None] - centers[:, :, None, None]).pow(2).sum(-1)
        return (1 - dist2 / scales[:, :, None, None].pow(2)).clamp_min(0)
    return cone_heatmap


check_cone_heatmap = Exercise("2.1 cone heatmap", _verify_cone, _solution_cone, _mistake_cone)


# --------------------------------------------------------------------------------------------
# 2.2 the relative positional encoding, eq. 5, computed directly

def _verify_encoding(fn) -> None:
    title = "2.2 relative positional encoding"
    torch.manual_seed(22)
    n, channels = 3, 8
    enc = RelativePositionalEncoding(n, channels)
    points = torch.rand(n, 2) * 2 - 1
    grid = make_grid(6, 1)
    with torch.no_grad():
        ref = enc(points[None], grid)[0]
        m = fn(points, grid, enc.fc.weight.clone(), enc.fc.bias.clone())
        # the two mistakes that still give sines and cosines of the right frequencies: the relative
        # position taken the other way round (point minus pixel, the recorded mistake: the bias does
        # not flip with it, so both halves change), and the two halves in the other order
        flipped = _mistake_encoding()(points, grid, enc.fc.weight, enc.fc.bias)
    expect_tensor(title, m, (channels, 8, 8), "M0 (C, H, W)")
    half = channels // 2
    if torch.allclose(m, flipped, atol=1e-4):
        fail(title, "every channel is eq. 5 of the point minus the pixel: the relative position is the pixel "
                    "minus the point, p - x_i.")
    if torch.allclose(m, torch.cat((ref[half:], ref[:half])), atol=1e-4):
        fail(title, "the sine and cosine halves are swapped: sin first, then cos, along the channels.")
    expect_close(title, m, ref, "not eq. 5 yet: stack p - x_i for all points into one vector per pixel "
                 "(x then y for each point, points in order), apply the linear layer, multiply by pi, then "
                 "concatenate sin and cos along channels.", atol=1e-4)


def _solution_encoding():
    def relative_encoding(points, grid, weight, bias):
        rel = (grid[:, :, None, :] - points[None, None]).flatten(2)  # (H, W, 2N)
        phase = math.pi * (rel @ weight.T + bias)  # (H, W, C/2)
        return torch.cat((torch.sin(phase), torch.cos(phase)), dim=-1).permute(2, 0, 1)
    return relative_encoding


def _mistake_encoding():
    def relative_encoding(points, grid, weight, bias):
        rel = (points[None, None] - grid[:, :, None, :]).flatten(2)  # point minus pixel
        phase = math.pi * (rel @ weight.T + bias)
        return torch.cat((torch.sin(phase), torch.cos(phase)), dim=-1).permute(2, 0, 1)
    return relative_encoding


check_relative_encoding = Exercise("2.2 relative positional encoding", _verify_encoding, _solution_encoding,
                                   _mistake_encoding)


# --------------------------------------------------------------------------------------------
# 2.3 margins, worked backwards (eq. 12 without zero padding)

def _verify_margin(answer) -> None:
    title = "2.3 margin"
    if not isinstance(answer, int):
        fail(title, f"answer with a whole number of pixels, got {answer!r}.")
    if answer == 4:
        fail(title, "close: after x2 up-sampling the outermost pixel is not trustworthy (bilinear "
                    "interpolation clamps there), so a margin m becomes 2m - 1 usable pixels.")
    if answer in (3, 6, 8):
        fail(title, "work backwards from the output, block by block: each valid 3x3 conv eats one pixel "
                    "per side, and an input margin m at side r gives 2m - 1 usable pixels at side 2r.")
    if answer != 5:
        fail(title, "not yet: start from the 2 px the output needs, add what the convs at side 2r eat, "
                    "halve through the up-sampling (keeping 2m - 1 >= needed), add what the convs at side r eat.")


check_margin = Exercise("2.3 margin", _verify_margin, lambda: 5, lambda: 4)

EXERCISES = [check_cone_heatmap, check_relative_encoding, check_margin]
