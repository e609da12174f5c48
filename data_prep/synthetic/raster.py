"""Soft-edged shapes rasterised for a whole batch at once: the drawing kit of the synthetic domains.

Coordinates follow the project convention: x to the right, y down, both in [-1, 1] over the
image, sampled at pixel centres x = (col + 0.5) * 2 / S - 1.  A shape is a signed distance d
(negative inside) measured in the units of a local `Frame`; its coverage of a pixel is
clamp(0.5 - d * px, 0, 1), with px the pixels per frame unit.  That one-pixel ramp is the exact
area of a straight edge crossing the pixel, so edges are anti-aliased without supersampling.

Every per-image parameter is a tensor of shape (B, 1, 1) so it broadcasts against (B, S, S)
maps; colours are (B, 3, 1, 1) or full (B, 3, S, S) textures, in [0, 1].
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor


def pixel_centres(size: int) -> Tensor:
    """(S,) coordinates of the pixel centres along one axis, in [-1, 1]."""
    return (torch.arange(size, dtype=torch.float32) + 0.5) * (2.0 / size) - 1.0


@dataclass
class Frame:
    """Local coordinates (u, v) of every pixel of every image, and the pixel size."""

    u: Tensor  # (B, S, S) local x of each pixel centre
    v: Tensor  # (B, S, S) local y of each pixel centre
    px: Tensor  # (B, 1, 1) pixels per local unit, turns distances into pixels

    @classmethod
    def image(cls, batch: int, size: int) -> "Frame":
        """The image frame itself: u = x, v = y, px = S / 2."""
        c = pixel_centres(size)
        u = c.view(1, 1, size).expand(batch, size, size)
        v = c.view(1, size, 1).expand(batch, size, size)
        return cls(u, v, torch.full((batch, 1, 1), size / 2.0))

    def child(self, cx: Tensor, cy: Tensor, angle: Tensor | None = None, scale: Tensor | float = 1.0,
              flip: Tensor | None = None) -> "Frame":
        """Frame whose origin sits at (cx, cy) of this one, turned by `angle` (radians, clockwise on
        screen because y points down), one unit = `scale` units of this frame, mirrored in u where
        `flip` is -1."""
        du, dv = self.u - cx, self.v - cy
        if angle is not None:
            c, s = torch.cos(angle), torch.sin(angle)
            du, dv = du * c + dv * s, dv * c - du * s
        if not isinstance(scale, float) or scale != 1.0:
            du, dv = du / scale, dv / scale
        if flip is not None:
            du = du * flip
        return Frame(du, dv, self.px * scale)


@dataclass
class Window:
    """A W x W crop of every image, placed per image around a point.  Small shapes (eyes, beaks,
    limbs) are drawn on their window instead of the whole image, which costs W^2 instead of S^2
    per operation; anything outside the window is not drawn, so W must cover the shape."""

    frame: Frame  # image coordinates (x, y) of the window's pixel centres, (B, W, W)
    flat: Tensor  # (B, W * W) index of each window pixel in the flattened S x S image
    size: int  # S, side of the full image

    @classmethod
    def around(cls, size: int, cx: Tensor, cy: Tensor, radius: Tensor | float) -> "Window":
        """Window covering the disc of `radius` around (cx, cy), all in image units, (B, 1, 1)."""
        b = cx.shape[0]
        r_px = float(torch.as_tensor(radius).max()) * size / 2.0
        w = min(size, 2 * math.ceil(r_px) + 3)
        c0 = torch.floor((cx.view(b) + 1.0) * size / 2.0 - w / 2.0).long().clamp_(0, size - w)
        r0 = torch.floor((cy.view(b) + 1.0) * size / 2.0 - w / 2.0).long().clamp_(0, size - w)
        steps = torch.arange(w)
        cols = (c0.view(b, 1) + steps).view(b, 1, w)
        rows = (r0.view(b, 1) + steps).view(b, w, 1)
        x = ((cols.float() + 0.5) * (2.0 / size) - 1.0).expand(b, w, w)
        y = ((rows.float() + 0.5) * (2.0 / size) - 1.0).expand(b, w, w)
        frame = Frame(x, y, torch.full((b, 1, 1), size / 2.0))
        return cls(frame, (rows * size + cols).view(b, w * w), size)


def to_parent(u: Tensor, v: Tensor, cx: Tensor, cy: Tensor, angle: Tensor | None = None,
              scale: Tensor | float = 1.0, flip: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """Inverse of `Frame.child` for points: local (u, v) -> parent coordinates."""
    if flip is not None:
        u = u * flip
    u, v = u * scale, v * scale
    if angle is not None:
        c, s = torch.cos(angle), torch.sin(angle)
        u, v = u * c - v * s, u * s + v * c
    return u + cx, v + cy


def coverage(d: Tensor, px: Tensor) -> Tensor:
    """Anti-aliased coverage in [0, 1] from a signed distance in frame units (overwrites d)."""
    return d.mul_(-px).add_(0.5).clamp_(0.0, 1.0)


def _length(x: Tensor, y: Tensor) -> Tensor:
    """sqrt(x^2 + y^2), overwriting x (cheaper than torch.hypot here)."""
    return x.mul_(x).addcmul_(y, y).sqrt_()


def ellipse(f: Frame, cx, cy, rx, ry, angle: Tensor | None = None) -> Tensor:
    """Signed distance to an ellipse (first-order estimate k0 (k0 - 1) / k1, exact on the edge)."""
    du, dv = f.u - cx, f.v - cy
    if angle is not None:
        c, s = torch.cos(angle), torch.sin(angle)
        du, dv = du * c + dv * s, (dv * c).addcmul_(du, s, value=-1.0)
    du.div_(rx)
    dv.div_(ry)
    k0 = _length(du.clone(), dv)
    k1 = _length(du.div_(rx), dv.div_(ry)).clamp_(min=1e-6)
    return (k0 - 1.0).mul_(k0).div_(k1)


def circle(f: Frame, cx, cy, r) -> Tensor:
    return _length(f.u - cx, f.v - cy).sub_(r)


def capsule(f: Frame, ax, ay, bx, by, r) -> Tensor:
    """Signed distance to the segment a-b thickened by radius r (limbs, necks, stems)."""
    pax, pay = f.u - ax, f.v - ay
    bax, bay = torch.as_tensor(bx - ax, dtype=torch.float32), torch.as_tensor(by - ay, dtype=torch.float32)
    inv = 1.0 / (bax * bax + bay * bay + 1e-9)
    h = (pax * bax).addcmul_(pay, bay).mul_(inv).clamp_(0.0, 1.0)
    pax.addcmul_(h, bax, value=-1.0)
    pay.addcmul_(h, bay, value=-1.0)
    return _length(pax, pay).sub_(r)


def convex(f: Frame, points: list[tuple[Tensor, Tensor]]) -> Tensor:
    """Signed distance (exact inside, slightly low outside corners) to a convex polygon whose
    vertices are listed clockwise on screen (y down)."""
    d = None
    n = len(points)
    for i in range(n):
        (x0, y0), (x1, y1) = points[i], points[(i + 1) % n]
        ex = torch.as_tensor(x1 - x0, dtype=torch.float32)
        ey = torch.as_tensor(y1 - y0, dtype=torch.float32)
        inv = 1.0 / torch.sqrt(ex * ex + ey * ey).clamp(min=1e-9)
        # Outward normal of a clockwise (on screen) edge is (-ey, ex) / |e|.
        di = ((f.u - x0) * (-ey * inv)).addcmul_(f.v - y0, ex * inv)
        d = di if d is None else torch.maximum(d, di, out=d)
    return d


def intersect(*ds: Tensor) -> Tensor:
    out = ds[0]
    for d in ds[1:]:
        out = torch.maximum(out, d)
    return out


def union(*ds: Tensor) -> Tensor:
    out = ds[0]
    for d in ds[1:]:
        out = torch.minimum(out, d)
    return out


class Canvas:
    """RGB image and hard part labels, painted back to front."""

    def __init__(self, background: Tensor):
        self.rgb = background.contiguous()  # (B, 3, S, S) in [0, 1]
        b, _, s, _ = background.shape
        # Labels are kept as floats: a lerp towards the label with a 0/1 weight is far cheaper on
        # CPU than masked_fill_ with a boolean mask.
        self._labels = torch.zeros(b, s, s)  # (B, S, S)

    @property
    def labels(self) -> Tensor:
        """(B, S, S) uint8, 0 = background."""
        return self._labels.to(torch.uint8)

    def paint(self, alpha: Tensor, colour: Tensor, label: int | None = None, window: Window | None = None) -> None:
        """Blend `colour` over the canvas with coverage `alpha` (B, S, S), or (B, W, W) on `window`;
        pixels covered more than half take `label` (None keeps the label underneath, for details
        inside a part)."""
        if window is None:
            self.rgb.lerp_(colour, alpha.unsqueeze(1))
        else:
            b, w = alpha.shape[0], alpha.shape[-1]
            idx = window.flat.unsqueeze(1).expand(b, 3, w * w)
            flat = self.rgb.view(b, 3, -1)
            patch = flat.gather(2, idx).view(b, 3, w, w)
            patch.lerp_(colour, alpha.unsqueeze(1))
            flat.scatter_(2, idx, patch.view(b, 3, w * w))
        if label is not None:
            self.mark(alpha, label, window)

    def mark(self, alpha: Tensor, label: int, window: Window | None = None) -> None:
        """Give `label` to pixels covered at least half (rounding), without painting."""
        target = torch.tensor(float(label))
        if window is None:
            self._labels.lerp_(target, alpha.round())
        else:
            b = alpha.shape[0]
            flat = self._labels.view(b, -1)
            patch = flat.gather(1, window.flat)
            patch.lerp_(target, alpha.reshape(b, -1).round())
            flat.scatter_(1, window.flat, patch)


class RandomPool:
    """Uniform random numbers for the images of one chunk, one column per scalar drawn.

    Columns are generated lazily, in blocks, from the chunk's generator.  Image i of the chunk
    always reads row i, so the values an image gets do not depend on how the chunk is split
    into batches for drawing."""

    BLOCK = 256  # columns generated at a time

    def __init__(self, generator: torch.Generator, rows: int):
        self.g = generator
        self.rows = rows
        self.data = torch.empty(rows, 0)

    def columns(self, start: int, count: int) -> Tensor:
        while self.data.shape[1] < start + count:
            block = torch.rand(self.rows, self.BLOCK, generator=self.g)
            self.data = torch.cat([self.data, block], dim=1)
        return self.data[:, start:start + count]


class Sampler:
    """Per-image random parameters for rows `rows` of a `RandomPool`, always (B, 1, 1) shaped.

    Every draw consumes the same columns whatever the batch, so a domain's `draw` may run on any
    slice of a chunk and give each image the same scene."""

    def __init__(self, pool: RandomPool, rows: slice | None = None):
        self.pool = pool
        self.rows = rows if rows is not None else slice(0, pool.rows)
        self.n = len(range(pool.rows)[self.rows])
        self.col = 0

    def _take(self, k: int) -> Tensor:
        out = self.pool.columns(self.col, k)[self.rows]
        self.col += k
        return out  # (B, k) in [0, 1)

    def uniform(self, lo: float, hi: float) -> Tensor:
        return lo + (hi - lo) * self._take(1).view(self.n, 1, 1)

    def standard_normal(self, *shape: int) -> Tensor:
        """(B, *shape) standard normal numbers (inverse CDF of the pool's uniforms)."""
        k = 1
        for d in shape:
            k *= d
        u = self._take(k).clamp(1e-6, 1.0 - 1e-6)
        return (torch.erfinv(2.0 * u - 1.0) * 2.0 ** 0.5).view(self.n, *shape)

    def normal(self, mean: float, std: float, clip: float = 2.5) -> Tensor:
        return mean + std * self.standard_normal(1, 1).clamp_(-clip, clip)

    def bernoulli(self, p: float) -> Tensor:
        """1.0 with probability p, else 0.0."""
        return (self._take(1).view(self.n, 1, 1) < p).float()

    def sign(self) -> Tensor:
        return self.bernoulli(0.5) * 2.0 - 1.0

    def integers(self, lo: int, hi: int) -> Tensor:
        """Integers in [lo, hi) as float, (B, 1, 1)."""
        return torch.floor(self.uniform(lo, hi)).clamp_(lo, hi - 1)

    def pick(self, palette: Tensor, jitter: float = 0.0) -> Tensor:
        """A colour per image from an (K, 3) palette in [0, 1], jittered; (B, 3, 1, 1)."""
        k = palette.shape[0]
        idx = torch.floor(self._take(1).view(self.n) * k).long().clamp_(0, k - 1)
        c = palette[idx] + jitter * self.standard_normal(3)
        return c.clamp_(0.0, 1.0).view(self.n, 3, 1, 1)

    def hsv(self, h: tuple[float, float], s: tuple[float, float], v: tuple[float, float]) -> Tensor:
        """Random colours from ranges in HSV (hue in [0, 1), may wrap); (B, 3, 1, 1)."""
        hh = torch.remainder(self.uniform(*h), 1.0).view(self.n)
        ss = self.uniform(*s).view(self.n)
        vv = self.uniform(*v).view(self.n)
        return hsv_to_rgb(hh, ss, vv).view(self.n, 3, 1, 1)


def hsv_to_rgb(h: Tensor, s: Tensor, v: Tensor) -> Tensor:
    """(N,) hue, saturation, value in [0, 1] -> (N, 3) RGB."""
    k = torch.tensor([5.0, 3.0, 1.0])
    t = torch.remainder(k + h.unsqueeze(1) * 6.0, 6.0)
    return v.unsqueeze(1) - v.unsqueeze(1) * s.unsqueeze(1) * torch.clamp(torch.minimum(t, 4.0 - t), 0.0, 1.0)


def rgb(*hex_codes: str) -> Tensor:
    """Palette from hex strings, (K, 3) in [0, 1]."""
    vals = [[int(h[i:i + 2], 16) / 255.0 for i in (1, 3, 5)] for h in hex_codes]
    return torch.tensor(vals, dtype=torch.float32)


def smoothstep(x: Tensor, lo: float, hi: float) -> Tensor:
    t = ((x - lo) / (hi - lo)).clamp_(0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


DEG = math.pi / 180.0
