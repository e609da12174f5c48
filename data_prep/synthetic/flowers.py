"""Synthetic flowers, Oxford-Flowers-like close-ups: petals (one or two rings), centre, stem, leaves.

A flower lives in a polar frame (unit = petal radius).  The petal ring's outline is
r(theta) = r_gap + (1 - r_gap) |cos(n theta / 2)|^p: n petals, gaps as deep as r_gap, petals
rounder for small p.  Squashing the frame along a random axis tilts the flower away from the
camera.  Ground truth: part labels and the foreground mask.
"""
from __future__ import annotations

import math

import torch
from torch import Tensor

from .backgrounds import textured
from .raster import DEG, Canvas, Frame, Sampler, capsule, coverage, ellipse, rgb

LANDMARK_NAMES = None
LANDMARK_PROTOCOL = None
PART_NAMES = ["petals", "inner_petals", "centre", "stem", "leaves"]
PETALS, INNER, CENTRE, STEM, LEAVES = range(1, 6)

GREENS = rgb("#2f5d1e", "#4a7a2a", "#6b8e23", "#3b6b3b", "#557a46", "#1f4d2b")
PETAL_COLOURS = rgb("#e0245e", "#f7c6d9", "#ffd700", "#ff8c00", "#8a2be2", "#f8f8f0", "#dc143c", "#ff69b4",
                    "#9370db", "#f0e68c")
CENTRES = rgb("#f2c300", "#e0a000", "#6b3f1d", "#3a2a1a", "#c8d040", "#f5e07a", "#8a2a2a")


def _ring(f: Frame, n: Tensor, gap: Tensor, power: Tensor, spin: Tensor, radius: Tensor) -> tuple[Tensor, Tensor]:
    """Signed distance to a ring of n petals and the petal profile |cos(n theta / 2)| (0 in gaps)."""
    r = torch.sqrt(f.u * f.u + f.v * f.v)
    theta = torch.atan2(f.v, f.u) + spin
    lobe = torch.cos(0.5 * n * theta).abs()
    edge = radius * (gap + (1.0 - gap) * lobe.pow(power))
    return r - edge, lobe


def draw(s: Sampler, size: int) -> tuple[Tensor, Tensor, None, None]:
    """One batch of flowers: rgb (B,3,S,S) in [0,1], labels (B,S,S) uint8; no landmarks."""
    petal_col = s.hsv((-0.12, 0.9), (0.35, 0.95), (0.6, 1.0))
    whiteish = s.bernoulli(0.2)
    petal_col = petal_col * (1 - whiteish).unsqueeze(1) + whiteish.unsqueeze(1) * s.hsv((0.0, 1.0), (0.0, 0.12),
                                                                                         (0.85, 1.0))
    bg = textured(s, size, distractors=torch.cat([GREENS, GREENS, PETAL_COLOURS]), p_distractor=0.5)
    canvas = Canvas(bg)
    img = Frame.image(s.n, size)

    radius, cx, cy = s.uniform(0.45, 0.85), s.uniform(-0.25, 0.25), s.uniform(-0.25, 0.2)
    green = s.pick(GREENS, jitter=0.04)

    # Stem down to below the image, and leaves on it; behind the flower.
    bend = s.uniform(-0.4, 0.4)
    stem_w = radius * s.uniform(0.04, 0.08)
    stem = capsule(img, cx, cy, cx + bend, torch.full_like(cx, 1.3), stem_w)
    canvas.paint(coverage(stem, img.px), green * 0.85, STEM)
    for side in (-1.0, 1.0):
        at = s.uniform(0.45, 0.8)
        lx, ly = cx + bend * at, cy + (1.3 - cy) * at
        length = radius * s.uniform(0.35, 0.6)
        rise = s.uniform(25.0, 60.0) * DEG  # leaf direction (side cos, -sin): up and outwards
        on = s.bernoulli(0.6)
        leaf = ellipse(img, lx + 0.9 * length * side * torch.cos(rise), ly - 0.9 * length * torch.sin(rise),
                       length, 0.3 * length, -side * rise)
        canvas.paint(coverage(leaf, img.px) * on, green * 1.15, LEAVES)

    # Petal rings in a tilted (squashed) polar frame.
    axis = s.uniform(0.0, math.pi)
    squash = s.uniform(0.55, 1.0)
    f = img.child(cx, cy, axis, radius)
    f = Frame(f.u, f.v / squash, f.px)
    n = s.integers(5, 13)
    spin = s.uniform(0.0, 2 * math.pi)
    d, lobe = _ring(f, n, s.uniform(0.25, 0.7), s.uniform(0.4, 2.0), spin, torch.ones_like(radius))
    r = torch.sqrt(f.u * f.u + f.v * f.v)
    shade = (0.72 + 0.2 * lobe + 0.12 * r.clamp(max=1.0)).unsqueeze(1)
    canvas.paint(coverage(d, f.px * squash), petal_col * shade, PETALS)

    inner_on = s.bernoulli(0.5)
    inner_col = (petal_col * s.uniform(0.7, 1.25).unsqueeze(1)).clamp(0.0, 1.0)
    d, lobe = _ring(f, n, s.uniform(0.3, 0.7), s.uniform(0.5, 1.5), spin + math.pi / n, s.uniform(0.45, 0.7))
    shade = (0.75 + 0.25 * lobe).unsqueeze(1)
    canvas.paint(coverage(d, f.px * squash) * inner_on, inner_col * shade, INNER)

    # Centre disc, speckled.
    rc = s.uniform(0.1, 0.32)
    dots = (1.0 - 0.3 * (torch.sin(f.u * 45.0) * torch.sin(f.v * 45.0) > 0.3).float()).unsqueeze(1)
    canvas.paint(coverage(r - rc, f.px * squash), s.pick(CENTRES, jitter=0.04) * dots, CENTRE)
    return canvas.rgb, canvas.labels, None, None
