"""Checks for lesson 05 (translation equivariance: shifted outputs, eq. 20-25 by finite differences)."""
from __future__ import annotations

import math

import torch

from . import Exercise, expect_close, fail


# --------------------------------------------------------------------------------------------
# 5.1 how far is `after` from `before` moved by (sx, sy) pixels?

def _field(seed: int, size: int = 20, margin: int = 6) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(2, 3, size + 2 * margin, size + 2 * margin, generator=g, dtype=torch.float64)


def _reference_shift_error(before: torch.Tensor, after: torch.Tensor, sx: int, sy: int) -> float:
    h, w = before.shape[-2:]
    b = before[..., max(0, -sy):h - max(0, sy), max(0, -sx):w - max(0, sx)]
    a = after[..., max(0, sy):h - max(0, -sy), max(0, sx):w - max(0, -sx)]
    return float((a - b).abs().max())


def _verify_shift_error(fn) -> None:
    title = "5.1 shift error"
    size, margin = 20, 6
    field = _field(51, size, margin)
    before = field[..., margin:margin + size, margin:margin + size]
    for sx, sy in ((3, 0), (0, 2), (2, -4), (-5, 1), (0, 0)):
        # the same scene seen through a window moved by (-sx, -sy): its content moves by (+sx, +sy)
        after = field[..., margin - sy:margin - sy + size, margin - sx:margin - sx + size]
        value = fn(before, after, sx, sy)
        try:
            value = float(value)
        except (TypeError, ValueError):
            fail(title, f"return one number (a float or a 0-d tensor), got {type(value).__name__}.")
        if not math.isfinite(value):
            fail(title, "the result is NaN or inf; is the overlap you compare empty?")
        if value > 1e-12:
            if abs(value - _reference_shift_error(after, before, sx, sy)) < 1e-9:
                fail(title, f"for (sx, sy) = ({sx}, {sy}) your alignment is the wrong way round: `after` is "
                            "`before` moved right by sx and down by sy, so after[row + sy, col + sx] "
                            "should equal before[row, col].")
            fail(title, f"for an exactly shifted pair with (sx, sy) = ({sx}, {sy}) you report an error of "
                        f"{value:.3g}, but it should be 0: compare only the pixels both maps show.")
    other = _field(52, size, margin)[..., margin:margin + size, margin:margin + size]
    for sx, sy in ((3, 1), (-2, 0)):
        expect_close(title, torch.tensor(float(fn(before, other, sx, sy)), dtype=torch.float64),
                     torch.tensor(_reference_shift_error(before, other, sx, sy), dtype=torch.float64),
                     "right on shifted pairs, but the value on an unrelated pair is off: return the "
                     "largest absolute difference over every channel and every pixel of the overlap.",
                     atol=1e-9)


def _solution_shift_error():
    def shift_error(before, after, sx, sy):
        h, w = before.shape[-2:]
        b = before[..., max(0, -sy):h - max(0, sy), max(0, -sx):w - max(0, sx)]
        a = after[..., max(0, sy):h - max(0, -sy), max(0, sx):w - max(0, -sx)]
        return (a - b).abs().max().item()
    return shift_error


def _mistake_shift_error():
    def shift_error(before, after, sx, sy):  # aligned the wrong way round
        h, w = before.shape[-2:]
        a = after[..., max(0, -sy):h - max(0, sy), max(0, -sx):w - max(0, sx)]
        b = before[..., max(0, sy):h - max(0, -sy), max(0, sx):w - max(0, -sx)]
        return (a - b).abs().max().item()
    return shift_error


check_shift_error = Exercise("5.1 shift error", _verify_shift_error, _solution_shift_error, _mistake_shift_error)


# --------------------------------------------------------------------------------------------
# 5.2 a gradient by central differences

def _test_function(v: torch.Tensor) -> torch.Tensor:
    return torch.sin(3.0 * v[0]) * torch.exp(v[1]) + v[0] ** 3 * v[2] - torch.cos(v[1] * v[2])


def _test_gradient(v: torch.Tensor) -> torch.Tensor:
    a, b, c = v[0], v[1], v[2]
    return torch.stack((3.0 * torch.cos(3.0 * a) * torch.exp(b) + 3.0 * a ** 2 * c,
                        torch.sin(3.0 * a) * torch.exp(b) + c * torch.sin(b * c),
                        a ** 3 + b * torch.sin(b * c)))


def _verify_central_difference(fn) -> None:
    title = "5.2 central differences"
    v = torch.tensor([0.3, -0.7, 1.1], dtype=torch.float64)
    before = v.clone()
    grad = fn(_test_function, v, 1e-4)
    if not isinstance(grad, torch.Tensor):
        fail(title, f"return a tensor of the same shape as v, got {type(grad).__name__}.")
    if tuple(grad.shape) != (3,):
        fail(title, f"the gradient should have v's shape (3,), got {tuple(grad.shape)}.")
    if not torch.equal(v, before):
        fail(title, "your function changed v in place; perturb a copy instead.")
    exact = _test_gradient(v)
    if torch.allclose(grad, 2 * exact, atol=1e-5):
        fail(title, "every component is twice too large: f(v + eps e_i) - f(v - eps e_i) spans 2 eps.")
    if not torch.allclose(grad, exact, atol=1e-5):
        fail(title, "the gradient is off: perturb one coordinate at a time by +eps and -eps and divide the "
                    "difference of f by the distance between the two points.")
    if not torch.allclose(grad, exact, atol=1e-7):
        fail(title, "close, but only to about eps: one-sided differences (f(v + eps) - f(v)) / eps are "
                    "first-order accurate; the symmetric difference is second-order (error ~ eps^2).")


def _solution_central_difference():
    def central_difference(f, v, eps):
        grad = torch.zeros_like(v)
        for i in range(v.numel()):
            step = torch.zeros_like(v)
            step[i] = eps
            grad[i] = (f(v + step) - f(v - step)) / (2 * eps)
        return grad
    return central_difference


def _mistake_central_difference():
    def central_difference(f, v, eps):  # one-sided
        grad = torch.zeros_like(v)
        for i in range(v.numel()):
            step = torch.zeros_like(v)
            step[i] = eps
            grad[i] = (f(v + step) - f(v)) / eps
        return grad
    return central_difference


check_central_difference = Exercise("5.2 central differences", _verify_central_difference,
                                    _solution_central_difference, _mistake_central_difference)


# --------------------------------------------------------------------------------------------
# 5.3 design a feature that satisfies eq. 21

def _verify_equivariant_feature(fn) -> None:
    title = "5.3 an equivariant feature"
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


check_equivariant_feature = Exercise("5.3 an equivariant feature", _verify_equivariant_feature,
                                     _solution_equivariant_feature, _mistake_equivariant_feature)


# --------------------------------------------------------------------------------------------
# 5.4 which shifts are exact?

def _verify_exact_shifts(answer) -> None:
    title = "5.4 exact shifts"
    try:
        chosen = sorted({int(s) for s in answer})
    except (TypeError, ValueError):
        fail(title, "answer with a list of whole numbers of output pixels, e.g. [2, 5].")
    if chosen == list(range(1, 13)):
        fail(title, "not every shift is exact: a shift that is not a whole number of pixels of the coarsest "
                    "grid samples the first level at new relative positions (section 3's sweep shows it).")
    if chosen and chosen[0] == 1:
        fail(title, "a one-pixel shift at 64 px is a quarter pixel of the 16-px level: not exact.")
    if chosen != [4, 8, 12]:
        fail(title, "not quite: the exact shifts are the whole multiples of (output side / coarsest side) "
                    "output pixels, within 1..12.")


check_exact_shifts = Exercise("5.4 exact shifts", _verify_exact_shifts, lambda: [4, 8, 12],
                              lambda: list(range(1, 13)))

EXERCISES = [check_shift_error, check_central_difference, check_equivariant_feature, check_exact_shifts]
