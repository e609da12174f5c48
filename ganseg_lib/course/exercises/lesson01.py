"""Checks for lesson 01 (level 1: points, part centres and scales, appearance embeddings, eq. 1-3)."""
from __future__ import annotations

import math

import torch

from ...model.points import part_centers_and_scales
from . import Exercise, expect_close, expect_tensor, fail


def _points(seed: int = 1) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(3, 5, 4, 2, generator=g) * 1.6 - 0.8  # (B, K, n_per, 2)


# --------------------------------------------------------------------------------------------
# 1.1 part centre and scale, eq. 1

def _verify_centers_scales(fn) -> None:
    title = "1.1 centres and scales"
    points = _points()
    before = points.clone()
    result = fn(points)
    if not isinstance(result, tuple) or len(result) != 2:
        fail(title, "return a pair (centers, scales).")
    centers, scales = result
    expect_tensor(title, centers, (3, 5, 2), "centers")
    expect_tensor(title, scales, (3, 5), "scales")
    if not torch.equal(points, before):
        fail(title, "your function changed its input points; compute new tensors instead.")
    ref_c, ref_s = part_centers_and_scales(points, "std")
    expect_close(title, centers, ref_c, "the centres are off: x_k averages the n_per points of part k "
                 "(which axis of (B, K, n_per, 2) holds the points?).")
    offsets2 = (points - ref_c.unsqueeze(2)).pow(2).sum(dim=(2, 3))
    if torch.allclose(scales, (offsets2 / 4).sqrt(), atol=1e-5):
        fail(title, "you divided by n_per; eq. 1 divides by n_per - 1, as a sample standard deviation does.")
    if torch.allclose(scales, offsets2.sqrt() / 3, atol=1e-5):
        fail(title, "that is eq. 1 as typeset, with n_per - 1 outside the root. The text calls sigma_k the "
                    "standard deviation of the points and the library follows the text: divide inside the root.")
    expect_close(title, scales, ref_s, "the scales are off: sigma_k is a standard deviation of the n_per "
                 "points around x_k, summing squared distances over both coordinates.", atol=1e-5)


def _solution_centers_scales():
    def centers_and_scales(points):
        centers = points.mean(dim=2)
        spread = (points - centers.unsqueeze(2)).pow(2).sum(dim=(2, 3))
        return centers, (spread / (points.shape[2] - 1)).sqrt()
    return centers_and_scales


def _mistake_centers_scales():
    def centers_and_scales(points):
        centers = points.mean(dim=2)
        return centers, (points - centers.unsqueeze(2)).pow(2).sum(dim=(2, 3)).div(points.shape[2]).sqrt()
    return centers_and_scales


check_centers_and_scales = Exercise("1.1 centres and scales", _verify_centers_scales,
                                    _solution_centers_scales, _mistake_centers_scales)


# --------------------------------------------------------------------------------------------
# 1.2 rotate one part about its centre

def _verify_rotate(fn) -> None:
    title = "1.2 rotate a part"
    points = _points(2)
    before = points.clone()
    k, angle = 3, 0.7
    moved = fn(points, k, angle)
    expect_tensor(title, moved, tuple(points.shape), "the result")
    if not torch.equal(points, before):
        fail(title, "your function changed its input in place; clone the points first.")
    others = [i for i in range(points.shape[1]) if i != k]
    if not torch.equal(moved[:, others], points[:, others]):
        fail(title, "parts other than k changed; only part k should move.")
    c0, s0 = part_centers_and_scales(points)
    c1, s1 = part_centers_and_scales(moved)
    if not torch.allclose(c1[:, k], c0[:, k], atol=1e-5):
        fail(title, "the centre of part k moved: rotate the offsets from the part centre, then add the centre back.")
    if not torch.allclose(s1[:, k], s0[:, k], atol=1e-5):
        fail(title, "the scale of part k changed; a rotation keeps every distance to the centre.")
    cos, sin = math.cos(angle), math.sin(angle)
    rot = torch.tensor([[cos, -sin], [sin, cos]])
    offsets = points[:, k] - c0[:, k, None]
    expect_close(title, moved[:, k], c0[:, k, None] + offsets @ rot.T,
                 "centre and scale are right but the angle or direction is not: apply "
                 "[[cos a, -sin a], [sin a, cos a]] to each (x, y) offset.", atol=1e-5)


def _solution_rotate():
    def rotate_part(points, k, angle):
        out = points.clone()
        center = points[:, k].mean(dim=1, keepdim=True)
        cos, sin = math.cos(angle), math.sin(angle)
        rot = torch.tensor([[cos, -sin], [sin, cos]], dtype=points.dtype)
        out[:, k] = center + (points[:, k] - center) @ rot.T
        return out
    return rotate_part


def _mistake_rotate():
    def rotate_part(points, k, angle):
        out = points.clone()
        cos, sin = math.cos(angle), math.sin(angle)
        out[:, k] = points[:, k] @ torch.tensor([[cos, -sin], [sin, cos]]).T  # about the origin
        return out
    return rotate_part


check_rotate_part = Exercise("1.2 rotate a part", _verify_rotate, _solution_rotate, _mistake_rotate)


# --------------------------------------------------------------------------------------------
# 1.3 the released code's scale: mean absolute deviation

def _verify_mad(fn) -> None:
    title = "1.3 mean-absolute-deviation scale"
    points = _points(3)
    scales = expect_tensor(title, fn(points), (3, 5), "the scales (B, K)")
    _, ref = part_centers_and_scales(points, "mad")
    centers = points.mean(dim=2, keepdim=True)
    if torch.allclose(scales, (points - centers).norm(dim=-1).mean(dim=2), atol=1e-5):
        fail(title, "you averaged Euclidean distances; this scale averages the absolute x and y offsets "
                    "separately, over points and coordinates alike.")
    if torch.allclose(scales, points.abs().mean(dim=(2, 3)), atol=1e-5):
        fail(title, "measure the offsets from the part centre x_k, not from the image centre.")
    expect_close(title, scales, ref, "not the mean absolute deviation yet: offsets from x_k, absolute "
                 "values, one mean over the n_per points and the two coordinates.", atol=1e-5)


def _solution_mad():
    return lambda points: (points - points.mean(dim=2, keepdim=True)).abs().mean(dim=(2, 3))


def _mistake_mad():
    return lambda points: (points - points.mean(dim=2, keepdim=True)).norm(dim=-1).mean(dim=2)


check_mad_scale = Exercise("1.3 mean-absolute-deviation scale", _verify_mad, _solution_mad, _mistake_mad)


# --------------------------------------------------------------------------------------------
# 1.4 predict: the two scales of one square of points

def _verify_square_ratio(answer) -> None:
    title = "1.4 standard deviation against mean absolute deviation"
    if not isinstance(answer, (int, float)) or isinstance(answer, bool):
        fail(title, f"answer with a number (the ratio sigma_std / sigma_mad), got {answer!r}.")
    a = 0.1  # any half-side gives the same ratio
    square = torch.tensor([[-a, -a], [a, -a], [-a, a], [a, a]], dtype=torch.float64).view(1, 1, 4, 2)
    ratio = (part_centers_and_scales(square, "std")[1] / part_centers_and_scales(square, "mad")[1]).item()
    if abs(answer - math.sqrt(2)) < 1e-2:
        fail(title, "sqrt(2) would be right with a 1/n mean; eq. 1 divides the summed squared distances by "
                    "n_per - 1 = 3.")
    if abs(answer - 1 / ratio) < 1e-2:
        fail(title, "that is the ratio the other way round: sigma_std / sigma_mad.")
    if abs(answer - ratio) > 1e-3:
        fail(title, "every point is (+-a, +-a) from x_k: its squared distance is 2a^2 and each absolute "
                    "coordinate offset is a. Put those into eq. 1 (sum over 4 points, divide by 3, square root) "
                    "and into the mean absolute deviation.")


check_square_ratio = Exercise("1.4 standard deviation against mean absolute deviation", _verify_square_ratio,
                              lambda: math.sqrt(8 / 3), lambda: math.sqrt(2))

EXERCISES = [check_centers_and_scales, check_rotate_part, check_mad_scale, check_square_ratio]
