"""Training objectives (Sec. 3.4), each a pure function of tensors.

Conventions: logits are (B,); masks (B, K, H, W) are the K part channels (background excluded);
coordinates are (x, y) in [-1, 1] with pixel centres as in `coords.make_grid`.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from .coords import make_grid


def generator_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """Non-saturating generator loss, eq. 13: E_z log(1 + exp(-D(G(z)))) = mean softplus(-D(G(z)))."""
    return F.softplus(-fake_logits).mean()


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """Logistic discriminator loss, eq. 14: mean softplus(D(G(z))) + mean softplus(-D(x))."""
    return F.softplus(fake_logits).mean() + F.softplus(-real_logits).mean()


def lazy(term: torch.Tensor, interval: int) -> torch.Tensor:
    """A regulariser that runs only every `interval` steps, multiplied by the interval so that
    its average strength is unchanged (lazy regularisation, StyleGAN2)."""
    return interval * term


def r1_penalty(real_logits: torch.Tensor, real_images: torch.Tensor, gamma: float, interval: int = 1) -> torch.Tensor:
    """Gradient penalty on real data, eq. 15 in its R1 form (Mescheder et al. 2018):

        interval * gamma / 2 * E_x ||grad_x D(x)||^2

    `real_images` must have requires_grad=True before D saw them.  Run lazily every
    `interval` D steps (`lazy`).
    """
    (grad,) = torch.autograd.grad(real_logits.sum(), real_images, create_graph=True)
    return lazy(0.5 * gamma * grad.pow(2).flatten(1).sum(1).mean(), interval)


def concentration_loss(part_masks: torch.Tensor, centers: torch.Tensor) -> torch.Tensor:
    """Geometric concentration, eq. 16: sum_p M_k(p) / sum_p' M_k(p') * ||p - x_k||^2.

    (B, K, H, W), (B, K, 2) -> scalar.  Averaged over parts and batch: the paper writes a sum
    over k, but its Table-4 weights lambda_con were tuned with the mean over parts (released
    code; eq. 26 makes lambda_con proportional to K for the same reason).
    """
    grid = make_grid(part_masks.shape[-1], 0, dtype=part_masks.dtype, device=part_masks.device)  # (H, W, 2)
    weights = part_masks / (part_masks.sum(dim=(-2, -1), keepdim=True) + 1e-6)
    dist2 = (grid[None, None] - centers[:, :, None, None, :]).pow(2).sum(-1)  # (B, K, H, W)
    return (weights * dist2).sum(dim=(-2, -1)).mean()


def area_loss(heatmaps: torch.Tensor, part_masks: torch.Tensor) -> torch.Tensor:
    """Area loss, eq. 17: sum_k max(0, sum_p H_k(p) - sum_p M_k(p)), areas in pixels.

    (B, K, H, W) twice -> scalar, summed over parts, averaged over the batch.  A part whose
    mask covers less than its heatmap is pushed to grow its mask or shrink its points.
    """
    deficit = heatmaps.sum(dim=(-2, -1)) - part_masks.sum(dim=(-2, -1))
    return deficit.clamp_min(0.0).sum(dim=1).mean()
