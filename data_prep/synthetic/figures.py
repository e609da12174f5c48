"""Synthetic Taichi-like people: an articulated figure with 18 keypoints in front of a scene
that changes only horizontally.

The skeleton is posed in image units from a pelvis, a lean, a body yaw (0 = facing the camera,
positive = turned towards image right), arm and leg angles; the lowest foot stands on the floor.
Keypoints follow the 18-point OpenPose order of the Taichi annotations, "right" being the
person's right (image left when facing the camera).  A keypoint is invisible when it leaves the
image, when it is a face point on the far side of the head, or when a part drawn later covers it.
"""
from __future__ import annotations

import math

import torch
from torch import Tensor

from .backgrounds import scene
from .raster import DEG, Canvas, Frame, Sampler, capsule, circle, convex, coverage, ellipse, rgb

LANDMARK_NAMES = ["nose", "neck", "right_shoulder", "right_elbow", "right_wrist", "left_shoulder", "left_elbow",
                  "left_wrist", "right_hip", "right_knee", "right_ankle", "left_hip", "left_knee", "left_ankle",
                  "right_eye", "left_eye", "right_ear", "left_ear"]
LANDMARK_PROTOCOL = "keypoints"
PART_NAMES = ["head", "torso", "right_upper_arm", "right_lower_arm", "left_upper_arm", "left_lower_arm",
              "right_upper_leg", "right_lower_leg", "left_upper_leg", "left_lower_leg"]
HEAD, TORSO, R_UARM, R_LARM, L_UARM, L_LARM, R_ULEG, R_LLEG, L_ULEG, L_LLEG = range(1, 11)

# Parts a keypoint lies on; it is occluded when another part is drawn over it.
OWN_PARTS = [{HEAD}, {HEAD, TORSO}, {TORSO, R_UARM}, {R_UARM, R_LARM}, {R_LARM}, {TORSO, L_UARM},
             {L_UARM, L_LARM}, {L_LARM}, {TORSO, R_ULEG}, {R_ULEG, R_LLEG}, {R_LLEG}, {TORSO, L_ULEG},
             {L_ULEG, L_LLEG}, {L_LLEG}, {HEAD}, {HEAD}, {HEAD}, {HEAD}]

SKIN_TONES = rgb("#8d5524", "#c68642", "#e0ac69", "#f1c27d", "#ffdbac", "#a0674b", "#6b4226")
HAIR = rgb("#090806", "#2c222b", "#4e433f", "#a7856a", "#c8bfbd", "#3b3024")
SHOES = rgb("#111111", "#333333", "#f0f0f0", "#5a4030")


def _limb(sampler: Sampler, raised: Tensor, lo: float, hi: float, lo_raised: float, hi_raised: float) -> Tensor:
    return sampler.uniform(lo, hi) * (1 - raised) + sampler.uniform(lo_raised, hi_raised) * raised


def draw(s: Sampler, size: int) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """One batch of figures: rgb (B,3,S,S) in [0,1], labels (B,S,S) uint8, keypoints (B,18,2) in
    [-1,1] (x, y), visible (B,18) bool."""
    canvas = Canvas(scene(s, size))
    img = Frame.image(s.n, size)

    height = s.uniform(1.1, 1.6)
    unit = height / 7.5  # one "head" of a figure 7.5 heads tall
    px, ground = s.uniform(-0.45, 0.45), s.uniform(0.72, 0.92)
    lean = s.normal(0.0, 7.0 * DEG)
    yaw = s.uniform(-1.2, 1.2)
    shirt = s.hsv((0.0, 1.0), (0.0, 0.9), (0.15, 0.98))
    trousers = torch.where(s.bernoulli(0.6).bool().view(-1, 1, 1, 1), shirt * 0.9, s.hsv((0.0, 1.0), (0.0, 0.7),
                                                                                          (0.1, 0.8)))
    skin = s.pick(SKIN_TONES, jitter=0.03)
    hair = s.pick(HAIR, jitter=0.03)
    shoes = s.pick(SHOES, jitter=0.03)

    # Skeleton with the pelvis at x = px, y = 0 for now; shifted down onto the floor below.
    up = (torch.sin(lean), -torch.cos(lean))
    neck = (px + 3.0 * unit * up[0], 3.0 * unit * up[1])
    head_c = (neck[0] + 0.95 * unit * up[0], neck[1] + 0.95 * unit * up[1])
    across = -torch.cos(yaw)  # x direction of the person's right side
    shoulder_w = unit * (0.3 + 0.75 * torch.cos(yaw))
    hip_w = unit * (0.3 + 0.4 * torch.cos(yaw))

    joints: dict[str, tuple[Tensor, Tensor]] = {"neck": neck}
    for side, sign in (("right", 1.0), ("left", -1.0)):
        out = sign * torch.sign(across)  # outward x direction of this side
        sh = (neck[0] + sign * across * shoulder_w, neck[1] + 0.25 * unit)
        hip = (px + sign * across * hip_w, torch.zeros_like(px))
        raised_arm = s.bernoulli(0.45)
        a = _limb(s, raised_arm, -15.0, 60.0, 60.0, 170.0) * DEG  # upper arm from straight down, outwards
        bend = s.uniform(-30.0, 120.0) * DEG
        elbow = (sh[0] + 1.45 * unit * out * torch.sin(a), sh[1] + 1.45 * unit * torch.cos(a))
        wrist = (elbow[0] + 1.3 * unit * out * torch.sin(a + bend), elbow[1] + 1.3 * unit * torch.cos(a + bend))
        raised_leg = s.bernoulli(0.12)
        t = _limb(s, raised_leg, -6.0, 30.0, 40.0, 85.0) * DEG
        knee_bend = _limb(s, raised_leg, 0.0, 45.0, 40.0, 100.0) * DEG
        knee = (hip[0] + 1.9 * unit * out * torch.sin(t), hip[1] + 1.9 * unit * torch.cos(t))
        shin = t - knee_bend
        ankle = (knee[0] + 1.8 * unit * out * torch.sin(shin), knee[1] + 1.8 * unit * torch.cos(shin))
        for name, p in (("shoulder", sh), ("elbow", elbow), ("wrist", wrist), ("hip", hip), ("knee", knee),
                        ("ankle", ankle)):
            joints[f"{side}_{name}"] = p
    drop = ground - torch.maximum(joints["right_ankle"][1], joints["left_ankle"][1])
    joints = {k: (x, y + drop) for k, (x, y) in joints.items()}
    head_c = (head_c[0], head_c[1] + drop)

    # Face points on a head of radius 0.45 unit at angle phi around it (0 = facing the camera).
    face: dict[str, tuple[Tensor, Tensor, Tensor]] = {}
    for name, phi, dy, r in (("nose", 0.0, 0.12, 0.45), ("right_eye", -0.5, -0.05, 0.4), ("left_eye", 0.5, -0.05, 0.4),
                             ("right_ear", -math.pi / 2, 0.0, 0.45), ("left_ear", math.pi / 2, 0.0, 0.45)):
        ang = yaw + phi
        face[name] = (head_c[0] + r * unit * torch.sin(ang), head_c[1] + dy * unit, torch.cos(ang))

    # Draw back to front: far limbs, torso, near leg, head, near arm.
    near_right = torch.sin(yaw) > 0  # (B, 1, 1): the person's right side faces the camera

    def limb_layers(side: str) -> tuple[list, list]:
        """(coverage, colour, label) layers of one side's leg and arm."""
        j = {k.split("_", 1)[1]: v for k, v in joints.items() if k.startswith(side)}
        ua, la, ul, ll = (R_UARM, R_LARM, R_ULEG, R_LLEG) if side == "right" else (L_UARM, L_LARM, L_ULEG, L_LLEG)
        shade = 0.85 if side == "right" else 1.0
        foot_dir = torch.sign(torch.sin(yaw) + 1e-3)
        foot = capsule(img, *j["ankle"], j["ankle"][0] + 0.45 * unit * foot_dir, j["ankle"][1] + 0.1 * unit,
                       0.2 * unit)
        leg = [
            (coverage(capsule(img, *j["hip"], *j["knee"], 0.4 * unit), img.px), trousers * shade, ul),
            (coverage(capsule(img, *j["knee"], *j["ankle"], 0.32 * unit), img.px), trousers * shade, ll),
            (coverage(foot, img.px), shoes, ll),
        ]
        arm = [
            (coverage(capsule(img, *j["shoulder"], *j["elbow"], 0.3 * unit), img.px), shirt * shade, ua),
            (coverage(capsule(img, *j["elbow"], *j["wrist"], 0.25 * unit), img.px), shirt * shade, la),
            (coverage(circle(img, *j["wrist"], 0.22 * unit), img.px), skin, la),
        ]
        return leg, arm

    right_leg, right_arm = limb_layers("right")
    left_leg, left_arm = limb_layers("left")

    def paint_where(layers, mask: Tensor) -> None:
        for alpha, colour, label in layers:
            canvas.paint(alpha * mask, colour, label)

    far_r, near_r = (~near_right).float(), near_right.float()
    paint_where(right_leg + right_arm, far_r)
    paint_where(left_leg + left_arm, near_r)

    sh_r, sh_l, hip_r, hip_l = joints["right_shoulder"], joints["left_shoulder"], joints["right_hip"], joints["left_hip"]
    # Screen-clockwise quad: the right side is at image left while facing the camera (|yaw| < 90 deg).
    torso = convex(img, [sh_r, sh_l, hip_l, hip_r]) - unit * (0.3 + 0.25 * torch.sin(yaw).abs())
    shade = (1.0 - 0.15 * ((img.v - joints["neck"][1]) / (3.0 * unit)).clamp(0.0, 1.0)).unsqueeze(1)
    canvas.paint(coverage(torso, img.px), shirt * shade, TORSO)
    belt = capsule(img, *hip_r, *hip_l, 0.28 * unit)
    canvas.paint(coverage(belt, img.px), trousers, TORSO)

    paint_where(right_leg, near_r)
    paint_where(left_leg, far_r)

    neck_d = capsule(img, *joints["neck"], *head_c, 0.2 * unit)
    canvas.paint(coverage(neck_d, img.px), skin * 0.85, HEAD)
    head = ellipse(img, *head_c, 0.42 * unit, 0.55 * unit)
    canvas.paint(coverage(head, img.px), skin, HEAD)
    hair_d = torch.maximum(ellipse(img, head_c[0] - 0.08 * unit * torch.sin(yaw), head_c[1] - 0.08 * unit,
                                   0.46 * unit, 0.55 * unit), img.v - (head_c[1] - 0.12 * unit))
    canvas.paint(coverage(hair_d, img.px), hair, HEAD)

    paint_where(right_arm, near_r)
    paint_where(left_arm, far_r)

    # Keypoints in OpenPose order, with visibility.
    pts = []
    depth_ok = []
    for name in LANDMARK_NAMES:
        if name in face:
            x, y, z = face[name]
            pts.append((x, y))
            depth_ok.append(z > (-0.3 if name.endswith("ear") else 0.15))
        else:
            pts.append(joints[name])
            depth_ok.append(torch.ones_like(px, dtype=torch.bool))
    kp = torch.stack([torch.stack(p, -1) for p in pts], dim=1).view(s.n, len(pts), 2)
    visible = torch.stack(depth_ok, dim=1).view(s.n, len(pts))
    visible &= (kp.abs() <= 1.0).all(-1)
    col = ((kp[..., 0] + 1.0) * size / 2).long().clamp(0, size - 1)
    row = ((kp[..., 1] + 1.0) * size / 2).long().clamp(0, size - 1)
    under = canvas.labels[torch.arange(s.n).unsqueeze(1), row, col].long()  # (B, 18) label at each keypoint
    for k, own in enumerate(OWN_PARTS):
        covered = under[:, k] != 0
        for p in own:
            covered &= under[:, k] != p
        visible[:, k] &= ~covered
    return canvas.rgb, canvas.labels, kp, visible
