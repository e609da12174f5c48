"""Checks for lesson 11 (your own photos: landmark coordinates in the folder's convention, the
mean-shape reference every landmark error is read against)."""
from __future__ import annotations

import numpy as np
import torch

from ...evaluation.metrics import mean_shape_error
from . import Exercise, expect_close, fail


# --------------------------------------------------------------------------------------------
# 11.1 a labelling tool's coordinates in the folder's convention

def _edges_to_centres_reference(u, v, width, height):
    return u * width - 0.5, v * height - 0.5


def _edges_to_centres_mistake(u, v, width, height):  # stretches [0, 1] over the first to the last centre
    return u * (width - 1), v * (height - 1)


def _verify_edges_to_centres(fn) -> None:
    title = "11.1 tool coordinates to pixel centres"
    cases = [  # (u, v, width, height) -> (x, y): corners, centre, a non-square image
        ((0.0, 0.0, 80, 60), (-0.5, -0.5)),
        ((1.0, 1.0, 80, 60), (79.5, 59.5)),
        ((0.5, 0.5, 80, 60), (39.5, 29.5)),
        ((0.25, 0.75, 200, 40), (49.5, 29.5)),
    ]
    for (u, v, w, h), expected in cases:
        got = fn(u, v, w, h)
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            fail(title, "return a pair (x, y) in pixels.")
        x, y = (float(c) for c in got)
        if abs(x - expected[0]) < 1e-9 and abs(y - expected[1]) < 1e-9:
            continue
        if abs(x - u * (w - 1)) < 1e-9 and abs(y - v * (h - 1)) < 1e-9:
            fail(title, "u = 0 and u = 1 are the image's outer edges, not the first and last pixel centres: "
                        "the centres lie half a pixel inside the edges.")
        if abs(x - u * w) < 1e-9 and abs(y - v * h) < 1e-9:
            fail(title, "almost: u * width is measured from the left edge; pixel 0's centre sits half a "
                        "pixel to the right of that edge.")
        if abs(x - v * h + 0.5) < 1e-9 or abs(y - u * w + 0.5) < 1e-9:
            fail(title, "x goes with the width and u, y with the height and v.")
        fail(title, f"not yet: for u = {u}, v = {v} on a {w} x {h} image the point is somewhere else. Draw "
                    "the first pixel: its left edge is u = 0, its centre is x = 0.")
    x, y = fn(np.array([0.1, 0.9]), np.array([0.2, 0.8]), 50, 100)
    if np.shape(x) != (2,) or np.shape(y) != (2,):
        fail(title, "make it work on arrays of points too (numpy broadcasting does it for you).")


check_edges_to_centres = Exercise("11.1 tool coordinates to pixel centres", _verify_edges_to_centres,
                                  lambda: _edges_to_centres_reference, lambda: _edges_to_centres_mistake)


# --------------------------------------------------------------------------------------------
# 11.2 the mean-shape reference

def _mean_shape_reference(train, test, eyes):
    mean = train.mean(dim=0)  # (L, 2): fitted on the training faces only
    iod = (test[:, eyes[0]] - test[:, eyes[1]]).norm(dim=-1)  # (N,): each test face's own eye distance
    return 100.0 * ((mean - test).norm(dim=-1).mean(dim=1) / iod).mean()


def _mean_shape_mistake(train, test, eyes):  # the mean of the faces it is scored on
    return _mean_shape_reference(test, test, eyes)


def _faces(n: int, seed: int) -> torch.Tensor:
    """n faces of 5 landmarks (eyes, nose, mouth corners) in pixels: a shape that moves and scales."""
    g = torch.Generator().manual_seed(seed)
    shape = torch.tensor([[12.0, 13.0], [20.0, 13.0], [16.0, 18.0], [13.0, 23.0], [19.0, 23.0]]) - 16.0
    scale = 0.7 + 0.6 * torch.rand(n, 1, 1, generator=g, dtype=torch.float64)
    shift = 16.0 + 3.0 * torch.randn(n, 1, 2, generator=g, dtype=torch.float64)
    return shape.double() * scale + shift + 0.5 * torch.randn(n, 5, 2, generator=g, dtype=torch.float64)


def _verify_mean_shape(fn) -> None:
    title = "11.2 the mean-shape reference"
    train, test = _faces(300, 1), _faces(120, 2) + torch.tensor([1.5, -1.0], dtype=torch.float64)  # test shifted
    eyes = (0, 1)
    got = fn(train, test, eyes)
    try:
        got = float(got)
    except (TypeError, ValueError):
        fail(title, "return one number: the mean error in % of the inter-ocular distance.")
    expected = mean_shape_error(train.numpy(), test.numpy(), eyes)
    if abs(got - float(_mean_shape_mistake(train, test, eyes))) < 1e-6:
        fail(title, "the mean shape is fitted on the training faces: a mean taken over the test faces "
                    "uses the answers it is scored on, and flatters the reference.")
    if abs(got - expected / 100.0) < 1e-9:
        fail(title, "the error is in percent of the inter-ocular distance, not a fraction.")
    per_face_pixels = (train.mean(dim=0) - test).norm(dim=-1).mean(dim=1)
    mean_iod = (test[:, 0] - test[:, 1]).norm(dim=-1).mean()
    if abs(got - float(100.0 * per_face_pixels.mean() / mean_iod)) < 1e-6:
        fail(title, "normalise each face by its own eye distance before averaging (a large face's error "
                    "counts as much as a small one's), not by the mean eye distance.")
    expect_close(title, torch.tensor(got), torch.tensor(expected, dtype=torch.float64), rtol=1e-6,
                 hint="per test face: the mean over landmarks of the distance to the train mean shape, divided by "
                      "that face's distance between the two eyes; then the mean over faces, times 100.")


check_mean_shape = Exercise("11.2 the mean-shape reference", _verify_mean_shape,
                            lambda: _mean_shape_reference, lambda: _mean_shape_mistake)

EXERCISES = [check_edges_to_centres, check_mean_shape]
