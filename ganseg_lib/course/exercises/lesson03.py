"""Checks for lesson 03 (level 3: foreground, background, blend; eq. 7-11)."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ...model.layers import embedding_map
from . import Exercise, expect_close, expect_tensor, fail


def _maps(seed: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    fg = torch.randn(2, 5, 6, 6, generator=g)
    bg = torch.randn(2, 5, 6, 6, generator=g) + 3.0
    mask = torch.rand(2, 1, 6, 6, generator=g)
    return fg, bg, mask


# --------------------------------------------------------------------------------------------
# 3.1 the blend inside eq. 11

def _verify_blend(fn) -> None:
    title = "3.1 blend"
    fg, bg, mask = _maps(31)
    out = expect_tensor(title, fn(fg, bg, mask), tuple(fg.shape), "the blended features")
    if torch.allclose(out, mask * fg + (1 - mask) * bg, atol=1e-5):
        fail(title, "foreground and background are swapped: M_bg is the weight of the *background*.")
    expect_close(title, out, torch.lerp(fg, bg, mask), "not the blend of eq. 11 yet: each pixel mixes F and B "
                 "with weights that sum to one, the background weighted by M_bg.", atol=1e-5)


def _solution_blend():
    return lambda fg, bg, bg_mask: (1 - bg_mask) * fg + bg_mask * bg


def _mistake_blend():
    return lambda fg, bg, bg_mask: bg_mask * fg + (1 - bg_mask) * bg


check_blend = Exercise("3.1 blend", _verify_blend, _solution_blend, _mistake_blend)


# --------------------------------------------------------------------------------------------
# 3.2 AdaIN with BatchNorm statistics (Appendix B.3)

def _verify_adain(fn) -> None:
    title = "3.2 AdaIN"
    g = torch.Generator().manual_seed(32)
    x = torch.randn(3, 4, 5, 5, generator=g) * 2 + 1
    gamma, beta = torch.randn(3, 4, generator=g), torch.randn(3, 4, generator=g)
    out = expect_tensor(title, fn(x, gamma, beta), tuple(x.shape), "the AdaIN output")
    eps = 1e-5
    bn = F.batch_norm(x, None, None, training=True, eps=eps)
    instance = F.instance_norm(x, eps=eps)
    if torch.allclose(out, (1 + gamma[:, :, None, None]) * instance + beta[:, :, None, None], atol=1e-4):
        fail(title, "that is the original AdaIN with instance statistics (per sample); GANSeg normalises "
                    "with BatchNorm statistics, per channel over the whole batch and all pixels.")
    if torch.allclose(out, gamma[:, :, None, None] * bn + beta[:, :, None, None], atol=1e-4):
        fail(title, "the scale is applied as gamma; the library (like SPADE) uses (1 + gamma), so a zero "
                    "style leaves the normalised features unchanged.")
    expect_close(title, out, (1 + gamma[:, :, None, None]) * bn + beta[:, :, None, None],
                 "not yet: normalise each channel with the batch's mean and (biased) variance, eps = 1e-5, "
                 "then scale by 1 + gamma and shift by beta, both broadcast over pixels.", atol=1e-4)


def _solution_adain():
    def adain(x, gamma, beta):
        mean = x.mean(dim=(0, 2, 3), keepdim=True)
        var = x.var(dim=(0, 2, 3), unbiased=False, keepdim=True)
        x_hat = (x - mean) / torch.sqrt(var + 1e-5)
        return (1 + gamma[:, :, None, None]) * x_hat + beta[:, :, None, None]
    return adain


def _mistake_adain():
    def adain(x, gamma, beta):
        mean = x.mean(dim=(2, 3), keepdim=True)
        var = x.var(dim=(2, 3), unbiased=False, keepdim=True)
        return (1 + gamma[:, :, None, None]) * (x - mean) / torch.sqrt(var + 1e-5) + beta[:, :, None, None]
    return adain


check_adain = Exercise("3.2 AdaIN", _verify_adain, _solution_adain, _mistake_adain)


# --------------------------------------------------------------------------------------------
# 3.3 the foreground embedding map, eq. 7

def _verify_wfg(fn) -> None:
    title = "3.3 foreground embedding map"
    g = torch.Generator().manual_seed(33)
    masks = torch.softmax(torch.randn(2, 4, 6, 6, generator=g) * 3, dim=1)  # K = 3 parts + background last
    emb = torch.randn(2, 3, 5, generator=g)
    out = expect_tensor(title, fn(masks, emb), (2, 5, 6, 6), "W_fg (B, D_emb, H, W)")
    if torch.allclose(out, embedding_map(masks[:, 1:], emb), atol=1e-5):
        fail(title, "you dropped the first channel; the paper lists M_bg first, but the library keeps the "
                    "background in the *last* channel.")
    expect_close(title, out, embedding_map(masks[:, :-1], emb),
                 "not eq. 7 yet: weight each part's embedding by that part's mask at every pixel and sum "
                 "over the K parts (the background takes no part).", atol=1e-5)


def _solution_wfg():
    return lambda masks, embeddings: torch.einsum("bkhw,bkd->bdhw", masks[:, :-1], embeddings)


def _mistake_wfg():
    return lambda masks, embeddings: torch.einsum("bkhw,bkd->bdhw", masks[:, 1:], embeddings)


check_foreground_map = Exercise("3.3 foreground embedding map", _verify_wfg, _solution_wfg, _mistake_wfg)

EXERCISES = [check_blend, check_adain, check_foreground_map]
