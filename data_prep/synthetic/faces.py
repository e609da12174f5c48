"""Synthetic portraits: head, hair, ears, eyes, brows, nose, mouth, neck and shoulders.

Drawn in a head frame whose unit is the head's half height (y down, origin at the head centre),
then placed in the image by scale, translation and in-plane rotation.  Yaw is faked in 2.5D:
each facial feature sits at a depth z on the head and moves by x cos(yaw) + z sin(yaw), the far
eye narrows, the near ear shows more.  "In the wild" faces vary all of that while the head box
keeps covering >= 30 % of the image (the paper's CelebA filter); aligned faces keep the eyes
nearly fixed, like CelebA's aligned crops.

Landmarks are the 5 MAFL points, left/right as seen in the image.
"""
from __future__ import annotations

import torch
from torch import Tensor

from .backgrounds import textured
from .raster import (DEG, Canvas, Frame, Sampler, Window, capsule, circle, coverage, ellipse, intersect, rgb,
                     to_parent, union)

LANDMARK_NAMES = ["left_eye", "right_eye", "nose", "mouth_left", "mouth_right"]
LANDMARK_PROTOCOL = "mafl"
PART_NAMES = ["skin", "hair", "left_eye", "right_eye", "brows", "nose", "mouth", "ears", "neck", "clothes"]
SKIN, HAIR, LEFT_EYE, RIGHT_EYE, BROWS, NOSE, MOUTH, EARS, NECK, CLOTHES = range(1, 11)

SKIN_TONES = rgb("#8d5524", "#c68642", "#e0ac69", "#f1c27d", "#ffdbac", "#f3cfb3", "#a0674b",
                 "#6b4226", "#d8a48f", "#e8b896")
HAIR_COLOURS = rgb("#090806", "#2c222b", "#3b3024", "#4e433f", "#6a4e42", "#a7856a", "#b89778",
                   "#dcd0ba", "#8d4a43", "#b55239", "#c8bfbd", "#71635a")
IRIS_COLOURS = rgb("#634e34", "#2e536f", "#3d671d", "#497665", "#452c1b", "#7b9dbd", "#1f1a17")
LIP_COLOURS = rgb("#b5646b", "#c97b7b", "#a35050", "#8c4a4a", "#d08b8b", "#9e5a63", "#7a3e3e")


def draw(s: Sampler, size: int, aligned: bool = False) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """One batch of faces: rgb (B,3,S,S) in [0,1], labels (B,S,S) uint8, landmarks (B,5,2) in
    [-1,1] (x, y), visible (B,5) bool."""
    bg = textured(s, size, distractors=torch.cat([SKIN_TONES, HAIR_COLOURS]), p_distractor=0.3)
    canvas = Canvas(bg)

    # Pose of the head in the image.
    if aligned:
        scale, tx, ty = s.normal(0.67, 0.012), s.normal(0.0, 0.015), s.normal(0.02, 0.015)
        angle, yaw = s.normal(0.0, 1.0 * DEG), s.normal(0.0, 3.0 * DEG)
    else:
        scale, tx, ty = s.uniform(0.63, 0.74), s.uniform(-0.2, 0.2), s.uniform(-0.15, 0.12)
        angle, yaw = s.normal(0.0, 11.0 * DEG, clip=2.2), s.uniform(-26.0 * DEG, 26.0 * DEG)
    sy, cy_ = torch.sin(yaw), torch.cos(yaw)

    # Shape and appearance.
    width = s.uniform(0.72, 0.84)  # half width of the face oval
    taper = s.uniform(0.05, 0.25)  # narrower jaw
    skin = s.pick(SKIN_TONES, jitter=0.03)
    hair = s.pick(HAIR_COLOURS, jitter=0.03)
    long_hair = s.bernoulli(0.45)
    bald = s.bernoulli(0.07)
    volume = s.uniform(0.06, 0.24) * (1 - bald) + 0.01
    hairline = s.uniform(-0.62, -0.38) - 0.4 * bald
    side_drop = s.uniform(0.4, 1.1)
    parting = s.uniform(-0.25, 0.25)
    hair_length = s.uniform(1.2, 2.0)
    clothes = s.hsv((0.0, 1.0), (0.1, 0.9), (0.15, 0.9))
    shoulder_w = s.uniform(1.5, 2.1)
    neck_w = s.uniform(0.3, 0.4)
    ear_y, ear_rx, ear_ry = s.uniform(-0.06, 0.08), s.uniform(0.09, 0.12), s.uniform(0.16, 0.21)
    eye_x, eye_y = s.uniform(0.29, 0.36), s.uniform(-0.14, -0.02)
    eye_rx = s.uniform(0.1, 0.13)
    eye_ry = eye_rx * s.uniform(0.45, 0.6)
    gaze = s.uniform(-0.3, 0.3)
    iris = s.pick(IRIS_COLOURS, jitter=0.03)
    brow_lift, brow_tilt, brow_w = s.uniform(0.12, 0.18), s.uniform(-0.04, 0.05), s.uniform(0.022, 0.04)
    nose_y, nose_w = s.uniform(0.22, 0.34), s.uniform(0.07, 0.1)
    mouth_y, mouth_w = s.uniform(0.5, 0.6), s.uniform(0.19, 0.27)
    mouth_h, smile = s.uniform(0.045, 0.075), s.uniform(-0.4, 1.4)
    lips = s.pick(LIP_COLOURS, jitter=0.04)
    light = s.uniform(-0.12, 0.12)

    # 2.5D yaw: screen x of a feature at head x with depth z.
    def turn(x, z):
        return x * cy_ + z * sy

    img = Frame.image(s.n, size)
    f = img.child(tx, ty, angle, scale)

    def window(u, v, radius: float) -> tuple[Window, Frame]:
        """Head frame on a window around head point (u, v) that covers `radius` head units."""
        cx, cy = to_parent(u, v, tx, ty, angle, scale)
        win = Window.around(size, cx, cy, radius * scale)
        return win, win.frame.child(tx, ty, angle, scale)

    # Clothes and shoulders.
    d = ellipse(f, turn(0.0, -0.2), 1.3 + 0.95, shoulder_w, 1.0)
    shade = (1.0 - 0.25 * ((f.v - 1.3).clamp(min=0.0))).unsqueeze(1)
    canvas.paint(coverage(d, f.px), clothes * shade, CLOTHES)

    # Long hair behind the head, over the shoulders.
    hx = -0.12 * sy
    back = union(ellipse(f, hx, -0.08, width + volume, 1.0 + volume),
                 capsule(f, hx, torch.zeros_like(hx), hx, hair_length, width + 0.6 * volume))
    # Strands fan out from a point above the head; a soft sheen on the upper side.
    strands = (1.0 + 0.07 * torch.sin(f.u * 24.0 / (f.v + 2.2)) - 0.12 * f.v.clamp(-1.0, 1.0))
    canvas.paint(coverage(back, f.px) * long_hair, hair * (0.8 * strands).unsqueeze(1), HAIR)

    # Neck, a little shaded under the chin.
    d = capsule(f, turn(0.0, 0.0), torch.full_like(tx, 0.4), turn(0.0, -0.1), torch.full_like(tx, 1.3), neck_w)
    canvas.paint(coverage(d, f.px), skin * 0.82, NECK)

    # Ears at the silhouette; the one on the side the face turns away from shows more.
    for side in (-1.0, 1.0):
        grow = (1.0 - 1.4 * side * sy).clamp(min=0.05)
        ex = side * (width * (1.0 - 0.2 * taper * ear_y.clamp(min=0)) - 0.02 + 0.5 * ear_rx * (grow - 1.0))
        win, w = window(ex, ear_y, 0.26)
        d = ellipse(w, ex, ear_y, ear_rx * grow, ear_ry)
        canvas.paint(coverage(d, w.px), skin * 0.9, EARS, win)
        d = ellipse(w, ex + side * 0.02, ear_y, ear_rx * grow * 0.45, ear_ry * 0.55)
        canvas.paint(coverage(d, w.px) * 0.5, skin * 0.6, None, win)

    # Face oval, narrower towards the chin, shaded towards its rim.
    fu = f.u * (1.0 + taper * f.v.clamp(min=0.0))
    r2 = (fu / width) ** 2 + f.v ** 2
    d = ellipse(Frame(fu, f.v, f.px), 0.0, 0.0, width, 1.0)
    shade = (1.06 - 0.22 * r2 + light * f.u).unsqueeze(1)
    canvas.paint(coverage(d, f.px), skin * shade, SKIN)

    # Hair on top, above a hairline that drops at the sides (sideburns) and tilts with a parting.
    cap = ellipse(f, hx, -0.04 - 0.2 * volume, width + volume, 1.0 + 0.8 * volume)
    line = f.v - (hairline + side_drop * f.u * f.u + parting * f.u)
    canvas.paint(coverage(intersect(cap, line), f.px), hair * strands.unsqueeze(1), HAIR)

    landmarks = []
    for label, side in ((LEFT_EYE, -1.0), (RIGHT_EYE, 1.0)):
        ex = turn(side * eye_x, 0.55)
        far = (1.0 - 0.9 * side * sy).clamp(0.3, 1.0)  # the eye turning away narrows
        rx = eye_rx * far
        win, w = window(ex, eye_y - 0.08, 0.3)
        brow = capsule(w, ex - 1.1 * rx, eye_y - brow_lift + side * brow_tilt, ex + 1.1 * rx,
                       eye_y - brow_lift - side * brow_tilt, brow_w)
        canvas.paint(coverage(brow, w.px), hair * 0.8, BROWS, win)
        canvas.paint(coverage(ellipse(w, ex, eye_y, rx * 1.18, eye_ry * 1.45), w.px), skin * 0.35, label, win)
        white = coverage(ellipse(w, ex, eye_y, rx, eye_ry), w.px)
        canvas.paint(white, torch.full_like(skin, 0.93), label, win)
        ix = ex + gaze * rx * 0.45
        canvas.paint(white * coverage(circle(w, ix, eye_y, eye_ry), w.px), iris, None, win)
        canvas.paint(white * coverage(circle(w, ix, eye_y, eye_ry * 0.45), w.px), torch.zeros_like(skin), None, win)
        landmarks.append((ex, eye_y))

    # Nose: a shaded ridge from between the eyes to the tip, nostrils under it.
    tip_x = turn(0.0, 0.95)
    top_x = turn(0.0, 0.6)
    win, w = window(0.5 * (top_x + tip_x), 0.5 * (eye_y + nose_y), 0.36)
    nose = coverage(capsule(w, top_x, eye_y + 0.02, tip_x, nose_y - 0.02, nose_w * 0.7), w.px)
    canvas.paint(nose * 0.2, skin * 0.75, None, win)
    canvas.mark(nose, NOSE, win)
    side = torch.where(sy >= 0, -1.0, 1.0)  # shadow on the side away from the turn
    ridge = capsule(w, top_x + side * 0.05, eye_y + 0.08, tip_x + side * nose_w, nose_y - 0.02, 0.02)
    canvas.paint(coverage(ridge, w.px) * 0.45, skin * 0.6, None, win)
    tip = ellipse(w, tip_x, nose_y, nose_w * 1.1, 0.06)
    canvas.paint(coverage(tip, w.px) * 0.5, skin * 0.82, NOSE, win)
    for k in (-1.0, 1.0):
        nostril = ellipse(w, tip_x + k * nose_w * 0.55 * (1.0 + 0.5 * k * sy), nose_y + 0.03, 0.03, 0.018)
        canvas.paint(coverage(nostril, w.px) * 0.9, skin * 0.4, None, win)
    landmarks.append((tip_x, nose_y))

    # Mouth: lips bent by the smile, a dark line between them.
    mx = turn(0.0, 0.62)
    half = mouth_w * cy_
    win, w = window(mx, mouth_y, 0.36)
    bend = Frame(w.u, w.v + smile * 0.6 * (w.u - mx) ** 2, w.px)
    canvas.paint(coverage(ellipse(bend, mx, mouth_y, half, mouth_h), w.px), lips, MOUTH, win)
    canvas.paint(coverage(ellipse(bend, mx, mouth_y, half * 0.97, 0.012), w.px), lips * 0.3, None, win)
    corner_y = mouth_y - smile * 0.6 * (half * 0.97) ** 2
    landmarks += [(mx - half * 0.97, corner_y), (mx + half * 0.97, corner_y)]

    pts = torch.stack([torch.stack(to_parent(x.expand_as(tx), y.expand_as(tx), tx, ty, angle, scale), -1)
                       for x, y in landmarks], dim=1)  # (B, 5, 1, 1, 2)
    pts = pts.view(s.n, len(landmarks), 2)
    visible = torch.ones(s.n, len(landmarks), dtype=torch.bool)
    return canvas.rgb, canvas.labels, pts, visible
