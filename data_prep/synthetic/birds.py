"""Synthetic birds seen from the side, CUB-like: body, head, beak, tail, wing, legs, eye.

Drawn in a bird frame (unit = half the body length, facing +x, y down), mirrored for birds
facing left, tilted, scaled and placed in the image.  Some perch on a branch, which belongs to
the background.  Ground truth: part labels and the foreground mask.
"""
from __future__ import annotations

import torch
from torch import Tensor

from .backgrounds import textured
from .raster import DEG, Canvas, Frame, Sampler, capsule, circle, convex, coverage, ellipse, rgb, smoothstep

LANDMARK_NAMES = None
LANDMARK_PROTOCOL = None
PART_NAMES = ["body", "head", "beak", "tail", "wing", "legs", "eye"]
BODY, HEAD, BEAK, TAIL, WING, LEGS, EYE = range(1, 8)

UPPER = rgb("#6b4e2e", "#8a6a45", "#4a4a4a", "#1d1d1d", "#2f5d8a", "#b8342b", "#d9b31c", "#6b7a2f",
            "#7d7d7d", "#a0522d", "#3d6b5a")
BELLY = rgb("#f2efe6", "#e8dcb5", "#f0d040", "#c8c8c8", "#e07a3c", "#d9c7a7", "#ffffff", "#b9a88a")
BEAK_COLOURS = rgb("#f0b020", "#e07020", "#222222", "#777777", "#d9a0a0", "#c8b070")
LEG_COLOURS = rgb("#3a3a3a", "#8a6a50", "#d08040", "#b0a090")
BRANCH = rgb("#5a3d22", "#7a5a3a", "#4a3a2a", "#8a7560")


def draw(s: Sampler, size: int) -> tuple[Tensor, Tensor, None, None]:
    """One batch of birds: rgb (B,3,S,S) in [0,1], labels (B,S,S) uint8; no landmarks."""
    bg = textured(s, size, distractors=torch.cat([UPPER, BELLY]), p_distractor=0.3)
    canvas = Canvas(bg)
    img = Frame.image(s.n, size)

    scale, tx, ty = s.uniform(0.48, 0.7), s.uniform(-0.18, 0.18), s.uniform(-0.25, 0.0)
    tilt, flip = s.normal(0.0, 12.0 * DEG), s.sign()
    f = img.child(tx, ty, tilt, scale, flip)

    upper = s.pick(UPPER, jitter=0.05)
    belly = s.pick(BELLY, jitter=0.05)
    cap = torch.where(s.bernoulli(0.35).bool().view(-1, 1, 1, 1), s.pick(UPPER, jitter=0.05), upper)
    wing_col = upper * s.uniform(0.55, 1.0).unsqueeze(1)
    body_len, body_h = s.uniform(0.65, 0.8), s.uniform(0.36, 0.5)
    body_angle = s.uniform(-20.0 * DEG, 8.0 * DEG)
    head_x, head_y, head_r = s.uniform(0.6, 0.78), s.uniform(-0.52, -0.3), s.uniform(0.22, 0.3)
    beak_len, beak_w, droop = s.uniform(0.12, 0.5), s.uniform(0.08, 0.14), s.uniform(-0.02, 0.12)
    tail_len, tail_angle = s.uniform(0.4, 0.7), s.uniform(-45.0 * DEG, -5.0 * DEG)
    raised = s.bernoulli(0.2)
    leg_len = s.uniform(0.35, 0.6)

    # Optional perch under the feet, part of the background.
    perch = s.bernoulli(0.6)
    foot_x, foot_y = tx, ty + scale * (body_h + leg_len + 0.05)
    slope = s.uniform(-0.25, 0.25)
    d = capsule(img, foot_x - 2.0, foot_y - 2.0 * slope, foot_x + 2.0, foot_y + 2.0 * slope,
                scale * s.uniform(0.08, 0.16))
    canvas.paint(coverage(d, img.px) * perch, s.pick(BRANCH, jitter=0.04), None)

    # Legs first: the body hides their tops.
    legs = s.pick(LEG_COLOURS, jitter=0.03)
    for dx in (-0.1, 0.08):
        knee = capsule(f, dx, body_h * 0.6, dx + 0.04, body_h + leg_len, 0.035)
        toe = capsule(f, dx + 0.04, body_h + leg_len, dx + 0.2, body_h + leg_len + 0.02, 0.025)
        canvas.paint(coverage(torch.minimum(knee, toe), f.px), legs, LEGS)

    # Tail, pointing backwards and down.
    tail_cx = -body_len - 0.5 * tail_len * torch.cos(tail_angle)
    tail_cy = 0.1 - 0.5 * tail_len * torch.sin(tail_angle)
    canvas.paint(coverage(ellipse(f, tail_cx, tail_cy, 0.55 * tail_len + 0.15, 0.11, tail_angle), f.px),
                 wing_col * 0.85, TAIL)

    # Body: back colour fading into the belly colour.
    mix = smoothstep(f.v, -0.15, 0.3).unsqueeze(1)
    body = ellipse(f, 0.0, 0.0, body_len, body_h, body_angle)
    canvas.paint(coverage(body, f.px), torch.lerp(upper, belly, mix), BODY)

    # Head with an optional differently coloured cap, eye, beak.
    head = circle(f, head_x, head_y, head_r)
    cap_mix = smoothstep(f.v - head_y, -0.05, 0.12).unsqueeze(1)
    canvas.paint(coverage(head, f.px), torch.lerp(cap, belly * 0.5 + upper * 0.5, cap_mix * 0.6), HEAD)

    bx = head_x + 0.8 * head_r
    tip = (bx + 0.2 * head_r + beak_len, head_y + droop)
    beak = convex(f, [(bx, head_y - beak_w), tip, (bx, head_y + beak_w)])
    canvas.paint(coverage(beak, f.px), s.pick(BEAK_COLOURS, jitter=0.04), BEAK)

    ex, ey = head_x + 0.35 * head_r, head_y - 0.15 * head_r
    canvas.paint(coverage(circle(f, ex, ey, 0.22 * head_r), f.px), torch.full_like(upper, 0.9), EYE)
    canvas.paint(coverage(circle(f, ex, ey, 0.14 * head_r), f.px), torch.full_like(upper, 0.05), EYE)

    # Wing: folded along the back, or raised; feather bars across it.
    wx = -0.15 - 0.05 * raised
    wy = -0.05 - 0.45 * raised
    wing_angle = s.uniform(-15.0 * DEG, 5.0 * DEG) * (1 - raised) + s.uniform(-75.0 * DEG, -45.0 * DEG) * raised
    wing = ellipse(f, wx, wy, s.uniform(0.45, 0.6), s.uniform(0.16, 0.24), wing_angle)
    bars = (1.0 - 0.18 * (torch.sin(f.u * 26.0) > 0.5).float()).unsqueeze(1)
    canvas.paint(coverage(wing, f.px), wing_col * bars, WING)
    return canvas.rgb, canvas.labels, None, None
