"""Checks for lesson 06 (equivariance as a derivative: eq. 21-25, the heatmap's gradient in closed form)."""
from __future__ import annotations

import math

import torch

from ...model.masks import heatmaps
from . import Exercise, expect_tensor, fail


# --------------------------------------------------------------------------------------------
# 6.1 the Gaussian heatmap's gradient with respect to its point, in closed form

def _autograd_grad_x(p: torch.Tensor, x: torch.Tensor, sigma: float) -> torch.Tensor:
    """dH/dx of the library's Gaussian heatmap at pixels p (N, 2), by autograd: (N, 2)."""
    scale = torch.tensor([[sigma]], dtype=p.dtype)
    return torch.autograd.functional.jacobian(lambda v: heatmaps(v.view(1, 1, 2), scale, p.view(-1, 1, 2)).flatten(), x)


def _verify_grad_x(fn) -> None:
    title = "6.1 heatmap gradient"
    g = torch.Generator().manual_seed(61)
    p = torch.rand(50, 2, generator=g, dtype=torch.float64) * 2 - 1
    x = torch.tensor([0.2, -0.3], dtype=torch.float64)
    for sigma in (0.25, 0.6):
        out = expect_tensor(title, fn(p, x.clone(), sigma), (50, 2), "dH/dx at every pixel (N, 2)")
        truth = _autograd_grad_x(p, x, sigma)
        if torch.allclose(out, truth, atol=1e-9):
            continue
        if torch.allclose(out, -truth, atol=1e-9):
            fail(title, "the sign is flipped: that is dH/dp, the derivative with respect to the pixel. Eq. 21 "
                        "says the two differ by exactly a sign.")
        if torch.allclose(out, truth / 2, atol=1e-9):
            fail(title, "half the size: the library's Gaussian divides by sigma^2, not 2 sigma^2.")
        if torch.allclose(out * sigma ** 2, truth, atol=1e-9) or torch.allclose(out, truth * sigma ** 2, atol=1e-9):
            fail(title, "right direction, wrong scale: differentiate -r^2 / sigma^2 and keep the 1 / sigma^2.")
        fail(title, f"not dH/dx yet (sigma {sigma}): differentiate exp(-||p - x||^2 / sigma^2) with the chain "
                    f"rule; the result is the heatmap times a vector along p - x.")


def _solution_grad_x():
    def grad_x(p, x, sigma):
        d = p - x
        return 2.0 / sigma ** 2 * d * torch.exp(-d.pow(2).sum(-1, keepdim=True) / sigma ** 2)
    return grad_x


def _mistake_grad_x():
    def grad_x(p, x, sigma):
        d = p - x
        return -2.0 / sigma ** 2 * d * torch.exp(-d.pow(2).sum(-1, keepdim=True) / sigma ** 2)
    return grad_x


check_heatmap_grad_x = Exercise("6.1 heatmap gradient", _verify_grad_x, _solution_grad_x, _mistake_grad_x)


# --------------------------------------------------------------------------------------------
# 6.2 design a feature that satisfies eq. 21

def _verify_equivariant_feature(fn) -> None:
    title = "6.2 an equivariant feature"
    g = torch.Generator().manual_seed(53)
    p = (torch.rand(64, 2, generator=g, dtype=torch.float64) * 2 - 1).requires_grad_(True)
    x = (torch.rand(64, 2, generator=g, dtype=torch.float64) * 2 - 1).requires_grad_(True)
    value = fn(p, x)
    if not isinstance(value, torch.Tensor) or tuple(value.shape) != (64,):
        fail(title, f"feature(p, x) with p and x of shape (64, 2) should return shape (64,), got "
                    f"{tuple(value.shape) if isinstance(value, torch.Tensor) else type(value).__name__}.")
    if not torch.isfinite(value).all():
        fail(title, "the feature has NaN or inf values.")
    if not value.requires_grad:
        fail(title, "the feature does not depend on p or x (or you detached it); use torch operations.")
    dp, dx = torch.autograd.grad(value.sum(), (p, x), allow_unused=True)
    if dp is None or dp.abs().max() < 1e-6:
        fail(title, "the feature does not change with the pixel position p: a constant is trivially "
                    "equivariant but useless. Make it depend on where p is relative to x.")
    if dx is None or dx.abs().max() < 1e-6:
        fail(title, "the feature does not change with the point x, so moving the point cannot move anything.")
    if not torch.allclose(-dp, dx, atol=1e-8):
        fail(title, "eq. 21 fails: -dI/dp differs from dI/dx somewhere. The feature reads p or x on its "
                    "own; eq. 21 holds for functions of the difference p - x only.")


def _solution_equivariant_feature():
    def feature(p, x):
        d = p - x
        return torch.exp(-d.pow(2).sum(-1) / 0.2) + torch.sin(math.pi * (0.7 * d[:, 0] - 0.4 * d[:, 1]))
    return feature


def _mistake_equivariant_feature():
    def feature(p, x):  # an absolute-position term sneaks in
        d = p - x
        return torch.exp(-d.pow(2).sum(-1) / 0.2) + 0.3 * p[:, 0]
    return feature


check_equivariant_feature = Exercise("6.2 an equivariant feature", _verify_equivariant_feature,
                                     _solution_equivariant_feature, _mistake_equivariant_feature)


EXERCISES = [check_heatmap_grad_x, check_equivariant_feature]
