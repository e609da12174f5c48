"""Checks for lesson 04 (losses: GAN eq. 13-14, R1 eq. 15, concentration eq. 16, area eq. 17)."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ... import losses
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
# 4.3 the area loss, eq. 17

def _verify_area(fn) -> None:
    title = "4.3 area loss"
    g = torch.Generator().manual_seed(43)
    heat = torch.rand(2, 3, 5, 5, generator=g)
    masks = torch.rand(2, 3, 5, 5, generator=g) * torch.tensor([0.2, 1.5, 0.9]).view(1, 3, 1, 1)
    value = _scalar(title, fn(heat, masks))
    deficit = heat.sum(dim=(2, 3)) - masks.sum(dim=(2, 3))
    if torch.allclose(value, deficit.sum(1).mean(), atol=1e-4):
        fail(title, "a part whose mask is larger than its heatmap must not earn a negative loss: clamp each "
                    "part's difference at 0 (the max in eq. 17) before summing.")
    if torch.allclose(value, (-deficit).clamp_min(0).sum(1).mean(), atol=1e-4):
        fail(title, "the sign is flipped: the loss is positive when the *heatmap* area exceeds the mask area.")
    if torch.allclose(value, deficit.clamp_min(0).mean(), atol=1e-4):
        fail(title, "eq. 17 sums over parts; average only over the batch.")
    expect_close(title, value, losses.area_loss(heat, masks), "not eq. 17 yet: per sample and part, the heatmap "
                 "area (sum over pixels) minus the mask area, clamped at 0; sum over parts, mean over the batch.",
                 atol=1e-4)


def _solution_area():
    return lambda heatmaps, masks: (heatmaps.sum(dim=(2, 3)) - masks.sum(dim=(2, 3))).clamp_min(0).sum(1).mean()


def _mistake_area():
    return lambda heatmaps, masks: (heatmaps.sum(dim=(2, 3)) - masks.sum(dim=(2, 3))).sum(1).mean()


check_area_loss = Exercise("4.3 area loss", _verify_area, _solution_area, _mistake_area)

EXERCISES = [check_discriminator_loss, check_r1, check_area_loss]
