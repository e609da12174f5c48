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
# 3.1 the background mask read back from a moved background (eq. 11)

def _moved_pair(seed: int) -> tuple[torch.Tensor, ...]:
    """Blended features before and after the background changes, with the two backgrounds.

    Some channels of B' - B are exactly zero at some pixels (as where a background feature is
    flat), so dividing channel by channel is undefined there; every pixel still has channels
    that moved.
    """
    fg, bg, mask = _maps(seed)
    g = torch.Generator().manual_seed(seed + 100)
    bg_moved = bg + torch.randn(bg.shape, generator=g)
    flat = torch.rand(bg.shape, generator=g) < 0.3
    flat[:, 0] = False  # at least one channel moves at every pixel
    bg_moved = torch.where(flat, bg, bg_moved)
    return torch.lerp(fg, bg, mask), torch.lerp(fg, bg_moved, mask), bg, bg_moved, mask


def _verify_recover_mask(fn) -> None:
    title = "3.1 background mask from a moved background"
    blend, blend_moved, bg, bg_moved, mask = _moved_pair(31)
    out = fn(blend, blend_moved, bg, bg_moved)
    if isinstance(out, torch.Tensor) and tuple(out.shape) == tuple(mask.shape) and not torch.isfinite(out).all():
        fail(title, "NaN or inf: at some pixels a channel of B' - B is zero, so a channel-by-channel ratio "
                    "is 0/0 there. One unknown per pixel, D equations: combine all channels (least squares).")
    out = expect_tensor(title, out, tuple(mask.shape), "M_bg (B, 1, H, W)")
    if torch.allclose(out, 1 - mask, atol=1e-4):
        fail(title, "that is 1 - M_bg, the foreground's weight; where the background shows, the blend moves.")
    expect_close(title, out, mask, "not M_bg yet: write eq. 11's blend before and after, subtract, and see "
                 "what cancels; then solve for the one number per pixel that scales B' - B into the change.",
                 atol=1e-4)


def _solution_recover_mask():
    def recover(blend, blend_moved, bg, bg_moved):
        change, moved = blend_moved - blend, bg_moved - bg  # change = M_bg * moved, channel by channel
        return (change * moved).sum(1, keepdim=True) / moved.pow(2).sum(1, keepdim=True)
    return recover


def _mistake_recover_mask():
    return lambda blend, blend_moved, bg, bg_moved: ((blend_moved - blend) / (bg_moved - bg)).mean(1, keepdim=True)


check_recover_bg_mask = Exercise("3.1 background mask from a moved background", _verify_recover_mask,
                                 _solution_recover_mask, _mistake_recover_mask)


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
# 3.3 eq. 7 run backwards: the masks read back from W_fg

def _verify_unmix(fn) -> None:
    title = "3.3 masks from W_fg"
    g = torch.Generator().manual_seed(33)
    masks = torch.softmax(torch.randn(2, 4, 6, 6, generator=g) * 3, dim=1)  # K = 3 parts + background last
    emb = torch.randn(2, 3, 5, generator=g)  # D_emb = 5 >= K: the embeddings are independent
    w_fg = embedding_map(masks[:, :-1], emb)
    out = expect_tensor(title, fn(w_fg, emb), tuple(masks.shape), "all K + 1 masks (B, K + 1, H, W)")
    if torch.allclose(out, torch.cat((masks[:, -1:], masks[:, :-1]), 1), atol=1e-4):
        fail(title, "the background is in the first channel; the library keeps it *last*.")
    projection = torch.einsum("bkd,bdhw->bkhw", emb, w_fg)
    if torch.allclose(out[:, :-1], projection, atol=1e-4):
        fail(title, "dot products with the embeddings give the masks only if the embeddings are orthonormal; "
                    "these are not. W_fg(p) is a linear combination of the w_k: solve for its coefficients.")
    if torch.allclose(out[:, :-1], masks[:, :-1], atol=1e-4) and not torch.allclose(out, masks, atol=1e-4):
        fail(title, "the K part masks are right; the background mask is not in W_fg, but the masks of a pixel "
                    "are a softmax: what do all K + 1 sum to?")
    expect_close(title, out, masks, "not yet: at every pixel W_fg is a combination of the K embeddings with "
                 "the masks as weights; find the weights (a linear system per sample), then the background.",
                 atol=1e-4)


def _solution_unmix():
    def unmix(w_fg, embeddings):
        b, d, h, w = w_fg.shape
        parts = torch.linalg.lstsq(embeddings.transpose(1, 2), w_fg.reshape(b, d, h * w)).solution  # (B, K, HW)
        parts = parts.reshape(b, -1, h, w)
        return torch.cat((parts, 1 - parts.sum(1, keepdim=True)), dim=1)
    return unmix


def _mistake_unmix():
    def unmix(w_fg, embeddings):
        parts = torch.einsum("bkd,bdhw->bkhw", embeddings, w_fg)
        return torch.cat((parts, 1 - parts.sum(1, keepdim=True)), dim=1)
    return unmix


check_masks_from_wfg = Exercise("3.3 masks from W_fg", _verify_unmix, _solution_unmix, _mistake_unmix)

EXERCISES = [check_recover_bg_mask, check_adain, check_masks_from_wfg]
