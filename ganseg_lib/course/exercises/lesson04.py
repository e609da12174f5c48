"""Checks for lesson 04 (losses: GAN eq. 13-14, R1 eq. 15, concentration eq. 16, area eq. 17)."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ... import losses
from ...coords import make_grid
from ...model.masks import heatmaps
from . import Exercise, expect_close, fail


def _scalar(title: str, value) -> torch.Tensor:
    if not isinstance(value, torch.Tensor) or value.dim() != 0:
        shape = tuple(value.shape) if isinstance(value, torch.Tensor) else type(value).__name__
        fail(title, f"return a scalar tensor (average over the batch), got {shape}.")
    return value


# --------------------------------------------------------------------------------------------
# 4.1 the discriminator's logistic loss, eq. 14

def _verify_d_loss(fn) -> None:
    title = "4.1 discriminator loss"
    g = torch.Generator().manual_seed(41)
    real, fake = torch.randn(6, generator=g) * 2 + 1, torch.randn(5, generator=g) * 2 - 1
    value = _scalar(title, fn(real, fake))
    if torch.allclose(value, losses.discriminator_loss(fake, real), atol=1e-5):
        fail(title, "real and fake are swapped: D should give real images high logits, fakes low ones.")
    if torch.allclose(value, F.softplus(fake).sum() + F.softplus(-real).sum(), atol=1e-5):
        fail(title, "eq. 14 takes expectations: average each term over its own batch.")
    expect_close(title, value, losses.discriminator_loss(real, fake),
                 "not eq. 14 yet: log(1 + exp(.)) of the fake logits plus log(1 + exp(-.)) of the real "
                 "logits, each averaged (use F.softplus for a stable log(1 + exp)).", atol=1e-5)


def _solution_d_loss():
    return lambda real_logits, fake_logits: F.softplus(fake_logits).mean() + F.softplus(-real_logits).mean()


def _mistake_d_loss():
    return lambda real_logits, fake_logits: F.softplus(real_logits).mean() + F.softplus(-fake_logits).mean()


check_discriminator_loss = Exercise("4.1 discriminator loss", _verify_d_loss, _solution_d_loss, _mistake_d_loss)


# --------------------------------------------------------------------------------------------
# 4.2 R1 with autograd, eq. 15

def _toy_discriminator(x: torch.Tensor) -> torch.Tensor:
    """A smooth toy D whose input gradient is not constant: (B, C, H, W) -> (B,)."""
    return (torch.sin(x) * torch.arange(1, x[0].numel() + 1, dtype=x.dtype).view(x.shape[1:])).flatten(1).sum(1)


def _verify_r1(fn) -> None:
    title = "4.2 R1 penalty"
    g = torch.Generator().manual_seed(42)
    real = torch.randn(3, 2, 2, 2, generator=g)
    value = _scalar(title, fn(_toy_discriminator, real, 10.0))
    x = real.clone().requires_grad_(True)
    reference = losses.r1_penalty(_toy_discriminator(x), x, gamma=10.0)
    grad = torch.cos(real) * torch.arange(1, 9, dtype=real.dtype).view(2, 2, 2)
    norms = grad.flatten(1).norm(dim=1)
    if torch.allclose(value, 5.0 * norms.mean(), atol=1e-4):
        fail(title, "R1 penalises the *squared* gradient norm.")
    if any(torch.allclose(value, w * norms.pow(2).mean(), atol=1e-4) for w in (1.0, 10.0)):
        fail(title, "the squared norm is right; check the weight in front of it: gamma / 2.")
    if torch.allclose(value, 10.0 * (norms - 1).pow(2).mean(), atol=1e-4):
        fail(title, "that is the WGAN-GP form (the released code's); R1 pushes the gradient norm to 0, not to 1.")
    expect_close(title, value, reference.detach(), "not R1 yet: differentiate the sum of D's outputs with respect "
                 "to the real images (torch.autograd.grad), square and sum each sample's gradient, average, "
                 "times gamma / 2.", atol=1e-4)


def _solution_r1():
    def r1(discriminator, real, gamma):
        real = real.detach().requires_grad_(True)
        (grad,) = torch.autograd.grad(discriminator(real).sum(), real, create_graph=True)
        return 0.5 * gamma * grad.pow(2).flatten(1).sum(1).mean()
    return r1


def _mistake_r1():
    def r1(discriminator, real, gamma):
        real = real.detach().requires_grad_(True)
        (grad,) = torch.autograd.grad(discriminator(real).sum(), real, create_graph=True)
        return 0.5 * gamma * grad.flatten(1).norm(dim=1).mean()
    return r1


check_r1 = Exercise("4.2 R1 penalty", _verify_r1, _solution_r1, _mistake_r1)


# --------------------------------------------------------------------------------------------
# 4.3 the area a heatmap asks for (eq. 4 and 17), in closed form

def _summed_heatmap(sigma: float, size: int, kind: str) -> float:
    """sum_p H(p) of one heatmap centred in the image: what eq. 17 calls its area, in pixels."""
    grid = make_grid(size, 0, dtype=torch.float64)
    h = heatmaps(torch.zeros(1, 1, 2, dtype=torch.float64), torch.tensor([[sigma]], dtype=torch.float64), grid,
                 kind)
    return h.sum().item()


def _verify_heatmap_area(fn) -> None:
    title = "4.3 heatmap area"
    cases = [(sigma, size, kind) for kind in ("gaussian", "cone") for sigma in (0.2, 0.3) for size in (32, 64)]
    got = {}
    for sigma, size, kind in cases:
        value = fn(sigma, size, kind)
        if not isinstance(value, (int, float)) and not (isinstance(value, torch.Tensor) and value.numel() == 1):
            fail(title, f"return one number (a float), got {type(value).__name__}.")
        got[sigma, size, kind] = float(value)
    for (sigma, size, kind), value in got.items():
        summed = _summed_heatmap(sigma, size, kind)
        if abs(value - summed) <= 0.02 * summed:
            continue
        where = f"({kind}, sigma {sigma}, {size} px)"
        ratio = value / summed
        if abs(ratio * (size / 2) ** 2 - 1) < 0.02:
            fail(title, f"{where}: that is the area in [-1, 1] units; eq. 17 sums over pixels, and one pixel "
                        f"covers (2 / S)^2 of them.")
        if kind == "gaussian" and abs(ratio - 2) < 0.04:
            fail(title, f"{where}: twice too large. The library's Gaussian is exp(-r^2 / sigma^2), not "
                        f"exp(-r^2 / (2 sigma^2)).")
        if kind == "cone" and abs(ratio - 3) < 0.06:
            fail(title, f"{where}: three times too large: that is the area of the disc the cone stands on; "
                        f"the cone's height falls linearly from 1 to 0 over it.")
        fail(title, f"{where}: not the summed heatmap yet. Integrate H over the plane in polar coordinates "
                    f"(2 pi r dr), then convert to pixels.")


def _solution_heatmap_area():
    def area(sigma, size, kind):
        plane = math.pi * sigma ** 2 if kind == "gaussian" else math.pi * sigma ** 2 / 3  # integral of H
        return plane * (size / 2) ** 2  # one pixel is (2 / S)^2 in [-1, 1] units
    return area


def _mistake_heatmap_area():
    return lambda sigma, size, kind: (math.pi * sigma ** 2 if kind == "gaussian" else math.pi * sigma ** 2 / 3)


check_heatmap_area = Exercise("4.3 heatmap area", _verify_heatmap_area, _solution_heatmap_area,
                              _mistake_heatmap_area)

EXERCISES = [check_discriminator_loss, check_r1, check_heatmap_area]
