"""Checks for lesson 05 (translation equivariance: shifted outputs and which shifts are exact, eq. 20)."""
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
# 5.2 which shifts are exact?

def _verify_exact_shifts(answer) -> None:
    title = "5.2 exact shifts"
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


check_exact_shifts = Exercise("5.2 exact shifts", _verify_exact_shifts, lambda: [4, 8, 12],
                              lambda: list(range(1, 13)))

EXERCISES = [check_shift_error, check_exact_shifts]
