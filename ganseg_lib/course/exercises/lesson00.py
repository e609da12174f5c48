"""Checks for lesson 00 (the overview: coordinates and masks as the library stores them)."""
from __future__ import annotations

import torch

from ...coords import make_grid
from . import Exercise, expect_close, expect_tensor, fail


# --------------------------------------------------------------------------------------------
# 0.1 from [-1, 1] coordinates to pixel indices

def _verify_to_pixel(fn) -> None:
    title = "0.1 coordinates to pixels"
    size = 8
    grid = make_grid(size, 0)  # pixel centres, (H, W, 2) as (x, y)
    xy = grid.reshape(-1, 2)
    rows, cols = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
    expected = torch.stack((cols, rows), dim=-1).reshape(-1, 2).float()
    got = expect_tensor(title, fn(xy, size), tuple(xy.shape), "the pixel positions (N, 2)")
    if torch.allclose(got, expected.flip(-1), atol=1e-4):
        fail(title, "row and column are swapped: x runs along columns (to the right), y along rows (down).")
    if torch.allclose(got, expected + 0.5, atol=1e-4):
        fail(title, "off by half a pixel: coordinates name pixel *centres*, so the centre of the top-left "
                    "pixel must come out as (0, 0).")
    expect_close(title, got, expected, "not yet: the coordinate -1 is the image's left (or top) edge and +1 "
                 "its right (or bottom) edge; pixel centres sit half a pixel inside.", atol=1e-4)


def _solution_to_pixel():
    return lambda xy, size: (xy + 1) * size / 2 - 0.5


def _mistake_to_pixel():
    return lambda xy, size: (xy + 1) * size / 2


check_to_pixel = Exercise("0.1 coordinates to pixels", _verify_to_pixel, _solution_to_pixel, _mistake_to_pixel)


# --------------------------------------------------------------------------------------------
# 0.2 how much of the image each mask covers

def _verify_areas(fn) -> None:
    title = "0.2 mask areas"
    g = torch.Generator().manual_seed(2)
    masks = torch.softmax(torch.randn(3, 5, 6, 6, generator=g) * 2, dim=1)
    areas = expect_tensor(title, fn(masks), (3, 5), "the areas (B, K+1)")
    if torch.allclose(areas, masks.sum(dim=(2, 3)), atol=1e-4):
        fail(title, "those are pixel counts; give each channel's share of the image (they sum to 1 per sample).")
    expect_close(title, areas, masks.mean(dim=(2, 3)), "not yet: for each sample and channel, average the soft "
                 "mask over all pixels.", atol=1e-5)


def _solution_areas():
    return lambda masks: masks.mean(dim=(2, 3))


def _mistake_areas():
    return lambda masks: masks.sum(dim=(2, 3))


check_mask_areas = Exercise("0.2 mask areas", _verify_areas, _solution_areas, _mistake_areas)

EXERCISES = [check_to_pixel, check_mask_areas]
