"""Checks for lesson 08 (training: the EMA generator, and measuring sample diversity)."""
from __future__ import annotations

import copy

import torch
from torch import nn

from ...training.gan import ema_update
from . import Exercise, expect_close, fail


# --------------------------------------------------------------------------------------------
# 8.1 one EMA update

def _verify_ema(fn) -> None:
    title = "8.1 EMA update"
    torch.manual_seed(71)
    model = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2))
    ema = copy.deepcopy(model)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p))
    model_before = [p.detach().clone() for p in model.parameters()]
    ema_params = [p.detach().clone() for p in ema.parameters()]
    params = [p.detach().clone() for p in model.parameters()]
    result = fn(ema_params, params, 0.9)
    if not isinstance(result, (list, tuple)) or len(result) != len(params):
        fail(title, f"return a list with one tensor per parameter ({len(params)}), got {type(result).__name__}.")
    for r, p in zip(result, params):
        if not isinstance(r, torch.Tensor) or r.shape != p.shape:
            fail(title, "each returned tensor must have the shape of its parameter.")
    if any(not torch.equal(a, b) for a, b in zip(params, model_before)):
        fail(title, "you changed the model's parameters; only the EMA copy moves.")
    ema_update(ema, model, 0.9)
    swapped = [0.1 * e + 0.9 * p for e, p in zip(ema_params, params)]
    if all(torch.allclose(r, s, atol=1e-6) for r, s in zip(result, swapped)):
        fail(title, "the weights are swapped: the EMA keeps `decay` of its *own* value and takes only "
                    "1 - decay of the new parameters, so it moves slowly.")
    for r, e in zip(result, ema.parameters()):
        expect_close(title, r, e.detach(), "not yet: ema <- decay * ema + (1 - decay) * params, elementwise, for "
                     "every parameter.", atol=1e-6)


def _solution_ema():
    def ema_step(ema_params, params, decay):
        return [decay * e + (1 - decay) * p for e, p in zip(ema_params, params)]
    return ema_step


def _mistake_ema():
    def ema_step(ema_params, params, decay):
        return [(1 - decay) * e + decay * p for e, p in zip(ema_params, params)]
    return ema_step


check_ema_step = Exercise("8.1 EMA update", _verify_ema, _solution_ema, _mistake_ema)


# --------------------------------------------------------------------------------------------
# 8.2 how far back does the EMA look?

def _verify_horizon(answer) -> None:
    title = "8.2 EMA horizon"
    try:
        value = float(answer)
    except (TypeError, ValueError):
        fail(title, "answer with one number of steps.")
    if abs(value - 0.005) < 1e-9 or abs(value - 0.995) < 1e-9:
        fail(title, "that is a weight, not a number of steps: sum n * (1 - b) * b^n over n = 0, 1, 2, ...")
    if abs(value - 200) <= 1.5 and abs(value - 199) > 0.5:
        fail(title, "close: 1 / (1 - b) = 200 is the usual rule of thumb; the mean age itself is b / (1 - b).")
    if abs(value - 199) > 0.5:
        fail(title, "not yet: a value from n steps ago has weight (1 - b) b^n in the EMA; its mean age is "
                    "sum_n n (1 - b) b^n, a geometric series (differentiate sum_n b^n = 1 / (1 - b)).")


check_ema_horizon = Exercise("8.2 EMA horizon", _verify_horizon, lambda: 0.995 / 0.005, lambda: 200)


# --------------------------------------------------------------------------------------------
# 8.3 a diversity score that sees mode collapse

def _verify_diversity(fn) -> None:
    title = "8.3 diversity"
    g = torch.Generator().manual_seed(73)
    one = torch.rand(1, 3, 8, 8, generator=g) * 2 - 1  # a textured image
    same = one.repeat(6, 1, 1, 1)
    varied = torch.rand(6, 3, 8, 8, generator=g) * 2 - 1
    for batch in (same, varied):
        value = fn(batch)
        try:
            float(value)
        except (TypeError, ValueError):
            fail(title, f"return one number, got {type(value).__name__}.")
    if abs(float(fn(same))) > 1e-6:
        fail(title, "six copies of one textured image should score 0: you measured how much pixels vary "
                    "*within* images (contrast). Take the spread across the batch, pixel by pixel.")
    expect_close(title, torch.tensor(float(fn(varied))), varied.std(dim=0).mean(),
                 "not yet: the standard deviation over the batch dimension at every pixel and channel "
                 "(torch's default, unbiased), averaged over pixels and channels.", atol=1e-5)


def _solution_diversity():
    return lambda images: images.std(dim=0).mean().item()


def _mistake_diversity():
    return lambda images: images.std().item()


check_diversity = Exercise("8.3 diversity", _verify_diversity, _solution_diversity, _mistake_diversity)

EXERCISES = [check_ema_step, check_ema_horizon, check_diversity]
