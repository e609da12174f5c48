"""Textured, varied backgrounds, so that no colour threshold separates object from background.

Each image mixes a two-colour gradient, low-frequency colour noise, fine grain, optional stripes
and clutter (soft blobs and bars).  A share of the colours is drawn from the object's own palette
(`distractors`), e.g. skin tones behind faces.  All noise lives on fixed-size grids that are
resized to the image, so a seed gives the same scene at every resolution.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from .raster import Frame, Sampler, capsule, coverage, ellipse, smoothstep

NOISE_GRID = 6  # cells per side of the low-frequency colour noise
GRAIN_GRID = 24  # cells per side of the fine grain
CLUTTER_BLOBS = 3  # soft ellipses per image (each may be switched off)
CLUTTER_BARS = 2  # soft bars per image (each may be switched off)


def _colours(s: Sampler, distractors: Tensor | None, p_distractor: float) -> Tensor:
    """(B, 3, 1, 1): a free colour, or with probability p one of the object's colours."""
    free = s.hsv((0.0, 1.0), (0.05, 0.85), (0.15, 0.95))
    if distractors is None:
        return free
    near = s.pick(distractors, jitter=0.06)
    use = s.bernoulli(p_distractor).view(-1, 1, 1, 1)
    return free * (1 - use) + near * use


_UPSAMPLE: dict[tuple[int, int], Tensor] = {}


def _upsampling_matrix(grid: int, size: int) -> Tensor:
    """(S, G) matrix M with M @ X @ M.T = bicubic resize of a G x G map X to S x S."""
    key = (grid, size)
    if key not in _UPSAMPLE:
        eye = torch.eye(grid).view(grid, 1, grid, 1)
        cols = F.interpolate(eye, size=(size, 1), mode="bicubic", align_corners=False)
        _UPSAMPLE[key] = cols.view(grid, size).t().contiguous()
    return _UPSAMPLE[key]


def _resized_noise(s: Sampler, grid: int, size: int, channels: int) -> Tensor:
    """(B, C, S, S) smooth noise of unit-ish amplitude, the same at every size.  Resized by two
    small matrix products, much cheaper than interpolating the batch."""
    m = _upsampling_matrix(grid, size)
    n = s.standard_normal(channels, grid, grid)
    return m @ n @ m.t()


def _work_size(size: int) -> int:
    """Backgrounds are drawn at half resolution from 64 px up and resized: they are smooth
    textures, and drawing them is half of the cost of an image at full resolution."""
    return size // 2 if size >= 64 else size


def _finish(img: Tensor, size: int) -> Tensor:
    if img.shape[-1] != size:
        img = F.interpolate(img, size=(size, size), mode="bilinear", align_corners=False)
    return img.clamp_(0.0, 1.0)


def textured(s: Sampler, size: int, distractors: Tensor | None = None, p_distractor: float = 0.3) -> Tensor:
    """A batch of random textured backgrounds, (B, 3, S, S) in [0, 1]."""
    out_size, size = size, _work_size(size)
    f = Frame.image(s.n, size)
    c0 = _colours(s, distractors, p_distractor)
    c1 = _colours(s, distractors, p_distractor)
    angle = s.uniform(0.0, 2 * math.pi)
    steep = s.uniform(0.3, 1.0)
    t = (0.5 + 0.5 * steep * (f.u * torch.cos(angle) + f.v * torch.sin(angle))).unsqueeze(1)
    img = torch.lerp(c0, c1, t)  # (B, 3, S, S)

    img += s.uniform(0.03, 0.16).unsqueeze(1) * _resized_noise(s, NOISE_GRID, size, 3)
    img += s.uniform(0.0, 0.07).unsqueeze(1) * _resized_noise(s, GRAIN_GRID, size, 1)

    on = s.bernoulli(0.35)
    freq = s.uniform(2.0, 9.0)
    b = s.uniform(0.0, math.pi)
    phase = s.uniform(0.0, 2 * math.pi)
    wave = torch.sin(freq * (f.u * torch.cos(b) + f.v * torch.sin(b)) + phase)
    stripe_col = s.hsv((0.0, 1.0), (0.0, 0.8), (0.0, 1.0)) - 0.5
    img += (on * s.uniform(0.1, 0.35) * wave).unsqueeze(1) * stripe_col

    for _ in range(CLUTTER_BLOBS):
        col = _colours(s, distractors, p_distractor)
        opacity = s.bernoulli(0.6) * s.uniform(0.6, 1.0)
        d = ellipse(f, s.uniform(-1.1, 1.1), s.uniform(-1.1, 1.1), s.uniform(0.08, 0.45),
                    s.uniform(0.08, 0.45), s.uniform(0.0, math.pi))
        img.lerp_(col, (coverage(d, f.px) * opacity).unsqueeze(1))
    for _ in range(CLUTTER_BARS):
        col = _colours(s, distractors, p_distractor)
        opacity = s.bernoulli(0.4) * s.uniform(0.6, 1.0)
        d = capsule(f, s.uniform(-1.3, 1.3), s.uniform(-1.3, 1.3), s.uniform(-1.3, 1.3),
                    s.uniform(-1.3, 1.3), s.uniform(0.02, 0.12))
        img.lerp_(col, (coverage(d, f.px) * opacity).unsqueeze(1))
    return _finish(img, out_size)


HORIZON = 0.15  # y of the horizon in every `scene` image; only horizontal content varies


def scene(s: Sampler, size: int) -> Tensor:
    """Backgrounds whose layout changes only along x, like Taichi's static cameras: a wall or
    park above a fixed horizon, a floor with seams below it, vertical trees/pillars at random x.
    (B, 3, S, S) in [0, 1]."""
    out_size, size = size, _work_size(size)
    f = Frame.image(s.n, size)
    shift = s.uniform(-1.0, 1.0)  # horizontal offset of the whole scene
    upper0 = s.hsv((0.0, 1.0), (0.05, 0.5), (0.45, 0.95))
    upper1 = s.hsv((0.15, 0.45), (0.2, 0.7), (0.2, 0.7))
    ground = s.hsv((0.0, 1.0), (0.05, 0.5), (0.25, 0.8))
    fade = smoothstep(f.v, -1.0, HORIZON).unsqueeze(1)
    img = torch.lerp(upper0, upper1, fade * s.uniform(0.2, 1.0).unsqueeze(1))
    img += s.uniform(0.03, 0.1).unsqueeze(1) * _resized_noise(s, NOISE_GRID, size, 3)

    trees = s.hsv((0.2, 0.45), (0.3, 0.8), (0.15, 0.6))
    for i in range(3):
        x = torch.remainder(shift + s.uniform(-1.0, 1.0) + 0.7 * i, 2.8) - 1.4
        w = s.uniform(0.03, 0.09)
        on = s.bernoulli(0.7)
        trunk = capsule(f, x, torch.full_like(x, -1.5), x, torch.full_like(x, HORIZON), w)
        crown = ellipse(f, x, s.uniform(-0.9, -0.5), s.uniform(0.2, 0.45), s.uniform(0.2, 0.4))
        img.lerp_(trees * 0.55, (coverage(trunk, f.px) * on).unsqueeze(1))
        img.lerp_(trees, (coverage(crown, f.px) * on * s.uniform(0.5, 1.0)).unsqueeze(1))

    # Floor: perspective seams (rows get closer towards the horizon) and vertical tile seams.
    depth = 1.0 / (f.v - HORIZON + 0.08)
    rows = torch.sin(depth * s.uniform(1.2, 2.5) * math.pi).abs()
    cols = torch.sin((f.u + shift) * depth * s.uniform(0.3, 0.8) * math.pi).abs()
    # Seams fade out towards the horizon, where they would be finer than a pixel.
    seams = (torch.minimum(rows, cols) < 0.15).float() * smoothstep(f.v, HORIZON + 0.05, HORIZON + 0.4)
    floor = ground * (1.0 - 0.25 * seams.unsqueeze(1) * s.uniform(0.3, 1.0).unsqueeze(1))
    floor = floor + s.uniform(0.02, 0.08).unsqueeze(1) * _resized_noise(s, GRAIN_GRID, size, 1)
    below = coverage(HORIZON - f.v, f.px).unsqueeze(1)
    img = torch.lerp(img, floor, below)
    return _finish(img, out_size)
