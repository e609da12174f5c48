"""Automatic checks for the course exercises, one module per lesson (`lesson01`, `lesson02`, ...).

The pattern, shared by every lesson:

    def part_centers(points):          # the exercise cell: the student replaces the stub
        raise NotImplementedError      # (value exercises start as `answer = ...`)

    lesson01.check_part_centers(part_centers)   # the check cell

A check is an `Exercise`.  Called on an attempt it

* passes quietly with a one-line "correct" when the attempt is right;
* raises `ExerciseError` (an AssertionError) with a hint when it is wrong; the hint says what
  is off (shape, axis, sign, scale), never the expected numbers;
* when the attempt is still the stub (it raises NotImplementedError or is `...`), prints a
  reminder, unless solutions are on (`GANSEG_SOLUTIONS=1`, or fast/CI mode): then the
  reference solution kept in the lesson module goes through the same check, so CI runs every
  check for real on every run.

Each lesson module lists its exercises in `EXERCISES`; `tests/test_exercises.py` checks that
every one accepts its reference solution and rejects its recorded typical mistake.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Callable

import torch

from .. import fast_mode


class ExerciseError(AssertionError):
    """A wrong answer; the message is a hint for the student."""


def solutions_enabled() -> bool:
    """True when a stub should be replaced by the reference solution: GANSEG_SOLUTIONS=1 or fast mode."""
    flag = os.environ.get("GANSEG_SOLUTIONS", "").strip().lower()
    if flag in ("0", "false", "no"):
        return False
    return flag in ("1", "true", "yes") or fast_mode()


def not_attempted(attempt: Any) -> bool:
    """The stub of a value exercise is `...` (Ellipsis) or None."""
    return attempt is ... or attempt is None


@dataclass(frozen=True)
class Exercise:
    """One automatically checked exercise.

    verify(attempt) raises ExerciseError with a hint (or NotImplementedError, raised by a
    stub it called); solution() and mistake() return a right and a typically wrong attempt.
    """

    title: str  # e.g. "1.1 part centres", shown in every message
    verify: Callable[[Any], None]
    solution: Callable[[], Any]
    mistake: Callable[[], Any]

    def __call__(self, attempt: Any) -> None:
        """Check an attempt: print a verdict, or raise ExerciseError with a hint."""
        try:
            if not_attempted(attempt):
                raise NotImplementedError
            self.verify(attempt)
        except NotImplementedError:
            if not solutions_enabled():
                print(f"[{self.title}] not attempted yet: replace the stub with your code and run this cell again.")
                return
            self.verify(self.solution())
            print(f"[{self.title}] not attempted; solutions mode: the reference solution passes this check.")
            return
        print(f"[{self.title}] correct.")


# --------------------------------------------------------------------------------------------
# helpers for writing checks

def fail(title: str, hint: str) -> None:
    raise ExerciseError(f"[{title}] not yet right: {hint}")


def expect_tensor(title: str, value: Any, shape: tuple[int, ...], what: str) -> torch.Tensor:
    """Fail with a hint unless value is a tensor of the given shape."""
    if not isinstance(value, torch.Tensor):
        fail(title, f"{what} should be a torch.Tensor, got {type(value).__name__}.")
    if tuple(value.shape) != tuple(shape):
        fail(title, f"{what} should have shape {tuple(shape)}, got {tuple(value.shape)}.")
    if not torch.isfinite(value).all():
        fail(title, f"{what} contains NaN or inf.")
    return value


def expect_close(title: str, value: torch.Tensor, reference: torch.Tensor, hint: str,
                 rtol: float = 1e-4, atol: float = 1e-5) -> None:
    """Fail with `hint` (which must not give the answer away) unless value matches reference."""
    if not torch.allclose(torch.as_tensor(value, dtype=reference.dtype), reference, rtol=rtol, atol=atol):
        fail(title, hint)
