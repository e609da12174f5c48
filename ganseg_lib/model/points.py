"""Level 1 (eq. 1-3): points, part centres and scales, part appearance embeddings."""
from __future__ import annotations

import torch
from torch import nn

from ..config import GeneratorConfig
from .layers import mlp


def part_centers_and_scales(points: torch.Tensor, scale: str = "std") -> tuple[torch.Tensor, torch.Tensor]:
    """Part location x_k and scale sigma_k from its n_per points (eq. 1).

    points (B, K, n_per, 2) -> centres (B, K, 2), scales (B, K).
    "std": sigma_k = sqrt(sum_i ||x_k^i - x_k||^2 / (n_per - 1)) as in the paper;
    "mad": the mean absolute deviation of the coordinates, as in the released code.
    """
    centers = points.mean(dim=2)
    offsets = points - centers.unsqueeze(2)
    if scale == "std":
        scales = (offsets.pow(2).sum(dim=(2, 3)) / (points.shape[2] - 1)).clamp_min(1e-12).sqrt()
    else:
        scales = offsets.abs().mean(dim=(2, 3))
    return centers, scales + 1e-6


class PointGenerator(nn.Module):
    """z_point -> K * n_per points in [-1, 1]^2; z_app -> w_k = w_dynamic * w_k_const."""

    def __init__(self, cfg: GeneratorConfig):
        super().__init__()
        self.cfg = cfg
        n_points = cfg.n_parts * cfg.points_per_part
        self.point_mlp = mlp(cfg.z_dim, cfg.mlp_width, 2 * n_points, cfg.point_mlp_layers)  # eq. 1
        self.app_mlp = mlp(cfg.z_dim, cfg.mlp_width, cfg.embed_dim, cfg.app_mlp_layers)  # eq. 2
        self.part_const = nn.Parameter(torch.randn(cfg.n_parts, cfg.embed_dim))  # w_k^const, eq. 3

    def points(self, z_point: torch.Tensor) -> torch.Tensor:
        """(B, z_dim) -> (B, K, n_per, 2); tanh keeps them in the image, the divisor sets the initial spread."""
        h = self.point_mlp(z_point)
        return torch.tanh(h / self.cfg.point_divisor).view(-1, self.cfg.n_parts, self.cfg.points_per_part, 2)

    def embeddings(self, z_app: torch.Tensor) -> torch.Tensor:
        """(B, z_dim) -> w_k (B, K, D_emb): one dynamic vector modulated by a learned constant per part (eq. 3)."""
        return self.app_mlp(z_app).unsqueeze(1) * self.part_const
