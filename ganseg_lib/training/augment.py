"""Differentiable augmentation of the discriminator's inputs (DiffAugment, Zhao et al. 2020).

With a few thousand real images the discriminator memorises them and its gradient stops
telling the generator anything useful.  Augmenting *both* real and generated images, with the
same random distribution and differentiably (the generator's gradient flows through the
augmentation), hides the individual training images from D without teaching G to produce
augmented images: D only ever sees augmented images of either kind.

Only D's inputs are touched.  The generator, its masks and its translation equivariance are
unchanged; R1 (eq. 15) is taken with respect to the un-augmented real images, through the
augmentation.

Three operations, each applied to a sample with probability `p` (1 = always, DiffAugment;
smaller values as in ADA, Karras et al. 2020, whose adaptive `p` is `AdaptiveP` below):

- "color": brightness + U(-0.5, 0.5), saturation x U(0, 2) around the pixel's grey value,
  contrast x U(0.5, 1.5) around the image mean (images in [-1, 1]);
- "translation": an integer shift of up to 1/8 of the side in x and y, zeros shifted in;
- "cutout": a square of half the side at a uniform position set to zero.

`jitter_reals` is the other kind: it moves, enlarges and mirrors the *real* images only, so the
generator must learn to draw faces at varied places and sizes.  On a set of aligned crops, where
every face sits at the same place, a generator can cover the image with parts at fixed places
and still fool D; once the face moves, the parts' points are the cheapest way to move it, and
the parts then follow the face.

All randomness comes from the `generator` passed in (the training sampler), so a resumed run
draws the same augmentations as an uninterrupted one.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ..model.generator import from_host


def _uniform(n: int, low: float, high: float, generator: torch.Generator, like: torch.Tensor) -> torch.Tensor:
    u = torch.rand(n, generator=generator, dtype=like.dtype)
    return from_host(low + (high - low) * u, like.device)


def _chosen(n: int, p: float, generator: torch.Generator, like: torch.Tensor) -> torch.Tensor:
    """(n,) bool: which samples an operation applies to (drawn even when p = 1, to keep the stream fixed)."""
    return from_host(torch.rand(n, generator=generator) < p, like.device)


def color(x: torch.Tensor, p: float, generator: torch.Generator) -> torch.Tensor:
    """Brightness, saturation and contrast jitter; (B, 3, H, W) -> same."""
    b = x.shape[0]
    on = _chosen(b, p, generator, x)[:, None, None, None]
    brightness = _uniform(b, -0.5, 0.5, generator, x)[:, None, None, None]
    saturation = _uniform(b, 0.0, 2.0, generator, x)[:, None, None, None]
    contrast = _uniform(b, 0.5, 1.5, generator, x)[:, None, None, None]
    y = x + brightness
    grey = y.mean(dim=1, keepdim=True)
    y = grey + (y - grey) * saturation
    mean = y.mean(dim=(1, 2, 3), keepdim=True)
    y = mean + (y - mean) * contrast
    return torch.where(on, y, x)


def translation(x: torch.Tensor, p: float, generator: torch.Generator, ratio: float = 0.125) -> torch.Tensor:
    """Shift each image by an integer (dx, dy) in [-r, r] px, r = round(ratio * side), zero fill."""
    b, c, h, w = x.shape
    r = max(1, round(ratio * min(h, w)))
    on = _chosen(b, p, generator, x)
    shift = from_host(torch.randint(-r, r + 1, (b, 2), generator=generator), x.device) * on[:, None]
    padded = F.pad(x, [r, r, r, r])  # (B, C, H + 2r, W + 2r)
    rows = torch.arange(h, device=x.device)[None] + r - shift[:, 1:2]  # (B, H): output row i reads i - dy
    cols = torch.arange(w, device=x.device)[None] + r - shift[:, 0:1]  # (B, W)
    batch = torch.arange(b, device=x.device)[:, None, None, None]
    chans = torch.arange(c, device=x.device)[None, :, None, None]
    return padded[batch, chans, rows[:, None, :, None], cols[:, None, None, :]]


def cutout(x: torch.Tensor, p: float, generator: torch.Generator, ratio: float = 0.5) -> torch.Tensor:
    """Zero one square of side round(ratio * side) per image, its centre uniform over the image."""
    b, _, h, w = x.shape
    sh, sw = round(ratio * h), round(ratio * w)
    on = _chosen(b, p, generator, x)
    cy = from_host(torch.randint(0, h + (1 - sh % 2), (b,), generator=generator), x.device)
    cx = from_host(torch.randint(0, w + (1 - sw % 2), (b,), generator=generator), x.device)
    ys = torch.arange(h, device=x.device)[None]  # (1, H)
    xs = torch.arange(w, device=x.device)[None]
    inside_y = (ys >= (cy - sh // 2)[:, None]) & (ys < (cy - sh // 2 + sh)[:, None])  # (B, H)
    inside_x = (xs >= (cx - sw // 2)[:, None]) & (xs < (cx - sw // 2 + sw)[:, None])  # (B, W)
    hole = inside_y[:, :, None] & inside_x[:, None, :] & on[:, None, None]  # (B, H, W)
    return x * (~hole)[:, None].to(x.dtype)


_APPLY = {"color": color, "translation": translation, "cutout": cutout}


def augment(x: torch.Tensor, policy: tuple[str, ...], p: float, generator: torch.Generator) -> torch.Tensor:
    """Apply the operations of `policy` in order, each to a sample with probability p."""
    for name in policy:
        x = _APPLY[name](x, p, generator)
    return x


def jitter_reals(x: torch.Tensor, zoom: float, shift: float, flip: bool, generator: torch.Generator) -> torch.Tensor:
    """Enlarge each image by U(1, 1 + zoom) about a random centre, shift it by up to `shift` of its
    side beyond what the enlargement leaves room for, and mirror it with probability 1/2 if `flip`.

    (B, C, H, W) -> same, bilinear, reflected at the border.  The enlargement alone never reads
    beyond the outermost pixel centres: a window of 1/s of the image, s in [1, 1 + zoom], stays
    inside them, so no pixel is read from the padding.
    With zoom = shift = 0 and no flip the images come back unchanged."""
    b, side = x.shape[0], min(x.shape[-2:])
    scale = 1.0 / _uniform(b, 1.0, 1.0 + zoom, generator, x)  # window side / image side
    inner = 1.0 - 1.0 / side  # the outermost pixel centres lie at +-inner in [-1, 1] units
    room = (1.0 - scale) * inner + 2.0 * shift  # how far the window centre may move
    centre = _uniform(2 * b, -1.0, 1.0, generator, x).view(b, 2) * room[:, None]
    mirror = _chosen(b, 0.5 if flip else 0.0, generator, x)
    sign = 1.0 - 2.0 * mirror.to(x.dtype)
    theta = torch.zeros(b, 2, 3, dtype=x.dtype, device=x.device)
    theta[:, 0, 0] = scale * sign
    theta[:, 1, 1] = scale
    theta[:, :, 2] = centre
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="reflection", align_corners=False)


class AdaptiveP:
    """ADA's controller: raise p while D is over-confident on reals, lower it otherwise.

    The overfitting signal is r_t = E[sign(D(x_real))] over the last `interval` D steps: 0 when
    D cannot tell, 1 when it is sure of every real image.  Every `interval` steps,
    p <- clamp(p + sign(r_t - target) * interval * batch / speed_images, 0, 1), so p can move from
    0 to 1 in `speed_images` real images.
    """

    def __init__(self, target: float, speed_images: int, batch: int, interval: int = 4, p: float = 0.0):
        self.target, self.speed_images, self.batch, self.interval = target, speed_images, batch, interval
        self.p = p
        self._signs = 0.0
        self._count = 0

    def observe(self, real_sign: torch.Tensor | float) -> None:
        """Record one D step's mean sign of D(x_real); adjust p every `interval` calls (a tensor
        is summed where it is and read on the host only then)."""
        self._signs += real_sign
        self._count += 1
        if self._count == self.interval:
            r_t = float(self._signs) / self._count
            step = self.interval * self.batch / self.speed_images
            self.p = min(1.0, max(0.0, self.p + (step if r_t > self.target else -step)))
            self._signs, self._count = 0.0, 0

    def state_dict(self) -> dict:
        return {"p": self.p, "signs": float(self._signs), "count": self._count}

    def load_state_dict(self, state: dict) -> None:
        self.p, self._signs, self._count = float(state["p"]), float(state["signs"]), int(state["count"])
