"""Checks for lesson 10 (benchmarks: eq. 26, and judging a difference between two models)."""
from __future__ import annotations

import math

import torch

from . import Exercise, expect_close, fail


# --------------------------------------------------------------------------------------------
# 10.1 eq. 26: the concentration weight for another number of parts

def _verify_lambda_con(answer) -> None:
    title = "10.1 lambda_con(K)"
    if not isinstance(answer, dict) or set(answer) != {4, 16}:
        fail(title, "answer with a dict {4: ..., 16: ...}: lambda_con for K = 4 and for K = 16.")
    try:
        got = {k: float(v) for k, v in answer.items()}
    except (TypeError, ValueError):
        fail(title, "the values should be numbers.")
    if abs(got[4] - 10.0) < 1e-9 and abs(got[16] - 10.0) < 1e-9:
        fail(title, "Table 4's lambda_con = 10 belongs to K = 8; eq. 26 makes the weight proportional to K.")
    if abs(got[4] - 1.25 / 4) < 1e-9:
        fail(title, "eq. 26 multiplies C_con by K; it does not divide.")
    if abs(got[4] - 5.0) > 1e-9 or abs(got[16] - 20.0) > 1e-9:
        fail(title, "not yet: lambda_con(K) = C_con * K with C_con = 1.25 for CelebA in the wild.")


check_lambda_con = Exercise("10.1 lambda_con(K)", _verify_lambda_con, lambda: {4: 5.0, 16: 20.0},
                            lambda: {4: 10.0, 16: 10.0})


# --------------------------------------------------------------------------------------------
# 10.2 a bootstrap confidence interval for a mean error

def _verify_bootstrap(fn) -> None:
    title = "10.2 bootstrap interval"
    g = torch.Generator().manual_seed(92)
    errors = torch.rand(200, generator=g, dtype=torch.float64) ** 2 * 40  # skewed per-image errors, %
    result = fn(errors, 2000, 0)
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        fail(title, "return a pair (low, high).")
    low, high = (float(v) for v in result)
    mean = errors.mean().item()
    if not low < mean < high:
        fail(title, f"the interval ({low:.3g}, {high:.3g}) should contain the mean error {mean:.3g}.")
    if abs(float(fn(errors, 2000, 0)[0]) - low) > 1e-12:
        fail(title, "the same seed must give the same interval: draw from a torch.Generator seeded with `seed`.")
    normal_half = 1.96 * errors.std().item() / math.sqrt(len(errors))
    if (high - low) < 0.2 * normal_half:
        fail(title, "the interval is far too narrow: resample *images* with replacement (n of them, n = "
                    "len(errors)), take each resample's mean, and use the 2.5 and 97.5 percentiles of those means.")
    if (high - low) > 5 * normal_half:
        fail(title, "the interval is far too wide: it should describe the uncertainty of the *mean* over n "
                    "images, not the spread of single images' errors.")
    if abs((high - low) / (2 * normal_half) - 1) > 0.2:
        fail(title, "close, but the width is off: percentiles 2.5 and 97.5 of the resampled means.")


def _solution_bootstrap():
    def bootstrap_interval(errors, n_boot, seed):
        g = torch.Generator().manual_seed(seed)
        idx = torch.randint(len(errors), (n_boot, len(errors)), generator=g)
        means = errors[idx].mean(dim=1)
        return means.quantile(0.025).item(), means.quantile(0.975).item()
    return bootstrap_interval


def _mistake_bootstrap():
    def bootstrap_interval(errors, n_boot, seed):  # percentiles of single images, not of means
        return errors.quantile(0.025).item(), errors.quantile(0.975).item()
    return bootstrap_interval


check_bootstrap_interval = Exercise("10.2 bootstrap interval", _verify_bootstrap, _solution_bootstrap,
                                    _mistake_bootstrap)


# --------------------------------------------------------------------------------------------
# 10.3 comparing two models on the same images: the paired difference

def _verify_paired(fn) -> None:
    title = "10.3 paired difference"
    g = torch.Generator().manual_seed(93)
    hardness = torch.rand(150, generator=g, dtype=torch.float64) * 30  # some images are hard for everyone
    a = hardness + torch.randn(150, generator=g, dtype=torch.float64)
    b = hardness + 0.5 + torch.randn(150, generator=g, dtype=torch.float64)
    result = fn(a, b)
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        fail(title, "return a pair (mean difference, standard error).")
    diff, se = (float(v) for v in result)
    d = b - a
    if abs(diff + d.mean().item()) < 1e-9:
        fail(title, "the sign is flipped: return mean(b - a).")
    expect_close(title, torch.tensor(diff), d.mean(), "the mean difference should be mean(b - a).", atol=1e-9)
    unpaired = math.sqrt(a.var().item() / len(a) + b.var().item() / len(b))
    if abs(se - unpaired) < 1e-9:
        fail(title, "that is the unpaired standard error, inflated by how hard each image is for both models; "
                    "the models saw the same images, so take the differences per image first.")
    expect_close(title, torch.tensor(se), d.std() / math.sqrt(len(d)), "not yet: the standard error of the mean "
                 "of the per-image differences, std(b - a) / sqrt(n) (torch's default, unbiased std).", atol=1e-9)


def _solution_paired():
    def paired_difference(errors_a, errors_b):
        d = errors_b - errors_a
        return d.mean().item(), (d.std() / math.sqrt(len(d))).item()
    return paired_difference


def _mistake_paired():
    def paired_difference(errors_a, errors_b):
        return ((errors_b.mean() - errors_a.mean()).item(),
                math.sqrt(errors_a.var().item() / len(errors_a) + errors_b.var().item() / len(errors_b)))
    return paired_difference


check_paired_difference = Exercise("10.3 paired difference", _verify_paired, _solution_paired, _mistake_paired)

EXERCISES = [check_lambda_con, check_bootstrap_interval, check_paired_difference]
