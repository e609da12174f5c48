# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Lesson 05 — Translation equivariance: move the points, the picture follows
#
# [![Open in Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/ganseg-course/ganseg-course/blob/v0.1.0/notebooks/05_equivariance.ipynb)
#
# Lessons 01-03 built the generator level by level and kept saying "relative positions only,
# valid convolutions, margins". This lesson shows what all that buys: **translation
# equivariance**. Move every point by some distance and the masks and the image move by
# exactly that distance; move one part's points and, mostly, only that part changes. The paper
# calls this the crucial inductive bias of GANSeg (Sec. 1 and Appendix E): a network that
# cannot see absolute position can only place a part where its points are, so the points —
# and the masks built from them — have to mean something.
#
# **After this lesson you can**
# 1. state translation equivariance for the generator (eq. 20) and say why the background
#    needs its own shift;
# 2. move all points or one part with a widget and read the difference map;
# 3. check equivariance numerically in float64 and explain why only shifts by whole pixels of
#    the coarsest grid are exact;
# 4. build a small zero-padded stack with a fixed margin, as in the paper, find where it leaks
#    absolute position, and compare it with valid convolutions and planned margins.
#
# Lesson 06 states the same property as a derivative (eq. 21-25).
#
# **Runtime:** 30-60 s on a 2-core CPU in either mode (no training; the small models stay on the
# CPU, so a GPU changes nothing).

# %%
# Set-up. In Colab: fetch the course, install it and turn on Colab's widget manager; anywhere
# else this cell only says it is not in Colab. `setup_course` is a copy of
# ganseg_lib/course/colab.py (the library is not installed yet when this cell runs in Colab);
# the cell is written by `python -m ganseg_lib.course.stamp` from pyproject.toml.
import glob
import os
import subprocess
import sys
import zipfile

COURSE_REPO = "https://github.com/ganseg-course/ganseg-course"
COURSE_REF = "v0.1.0"  # the course release these notebooks belong to
COURSE_PUBLISHED = False  # False: the URL is a placeholder (the cell then says what to do)


def setup_course(repo, ref, published, folder="ganseg-course", run=subprocess.run):
    """In Colab: clone `repo` at `ref` (or use an uploaded zip), pip-install it, enable widgets.

    Returns one line saying what happened; never raises for a failed clone or install.
    GANSEG_COURSE_REPO overrides `repo` (a fork; its default branch unless GANSEG_COURSE_REF
    names one).  Outside Colab it does nothing.
    """
    try:
        from google.colab import output
    except ImportError:
        return "not in Colab: nothing to set up (install locally with `pip install -e \".[course]\"`)"
    fork = os.environ.get("GANSEG_COURSE_REPO", "").strip()
    if fork:
        repo, ref = fork, os.environ.get("GANSEG_COURSE_REF", "").strip() or None
    zips = [z for z in sorted(glob.glob("*.zip")) if zipfile.is_zipfile(z) and any(
        n.endswith("ganseg_lib/__init__.py") for n in zipfile.ZipFile(z).namelist())]
    if not os.path.isdir(folder):
        if zips:
            zipfile.ZipFile(zips[0]).extractall(folder)
        elif not (published or fork):
            return (f"the course is not published at {repo} yet: set os.environ['GANSEG_COURSE_REPO'] "
                    "to a fork's URL, or upload the repository as a .zip (Files panel), then rerun this cell")
        else:
            branch = ["--branch", ref] if ref else []
            done = run(["git", "clone", "--quiet", "--depth", "1", *branch, repo, folder],
                       capture_output=True, text=True)
            if done.returncode != 0:
                why = (done.stderr.strip().splitlines() or ["no message"])[-1]
                return f"could not clone {repo} at {ref or 'its default branch'} ({why}); rerun with another URL or a zip"
    tops = [d for d, _, files in os.walk(folder) if "pyproject.toml" in files and os.path.isdir(f"{d}/ganseg_lib")]
    if not tops:
        return f"{folder}/ holds no ganseg_lib/ and pyproject.toml: delete it and rerun this cell"
    source = os.path.abspath(min(tops, key=len))
    done = run([sys.executable, "-m", "pip", "install", "--quiet", "-e", source, "ipywidgets==8.1.9"],
               capture_output=True, text=True)
    if done.returncode != 0:
        return f"pip could not install {source} ({(done.stderr.strip().splitlines() or ['no message'])[-1]})"
    if source not in sys.path:
        sys.path.insert(0, source)
    output.enable_custom_widget_manager()
    return f"the course from {source} is installed; widgets are on"


print(setup_course(COURSE_REPO, COURSE_REF, COURSE_PUBLISHED))

# %%
# %matplotlib inline
import copy
import dataclasses
import math

import ipywidgets as widgets
import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from IPython.display import display
from torch import nn

from ganseg_lib import Latents, course, viz
from ganseg_lib.course.exercises import lesson05 as ex
from ganseg_lib.coords import make_grid
from ganseg_lib.model.layers import LEAK, RelativePositionalEncoding, crop, init_weights

print(course.describe_runtime())

# %%
g, trained = course.course_generator()
cfg = g.cfg
K, S = cfg.n_parts, cfg.image_size
COARSE = cfg.resolutions[0]  # side of the first (coarsest) level, px
FACTOR = S // COARSE  # output pixels per pixel of the coarsest grid
latents = g.sample_latents(1, generator=torch.Generator().manual_seed(0))
with torch.no_grad():
    out = g(latents)
print(f"{'trained' if trained else 'untrained'} generator: {S} px, K = {K}, levels {cfg.resolutions}; "
      f"one coarse pixel = {FACTOR} output pixels")

# %% [markdown]
# ## 1. The property (eq. 20)
#
# Think of the generator's output at pixel $\mathbf{p}$ as a function $\mathbf{I}(\mathbf{p},
# \mathbf{x})$ of the pixel position and a point $\mathbf{x}$. **Translation equivariance**
# says that moving the point by $\Delta\mathbf{t}$ moves the picture by $\Delta\mathbf{t}$:
#
# $$\mathbf{I}(\mathbf{p} - \Delta\mathbf{t}, \mathbf{x}) = \mathbf{I}(\mathbf{p}, \mathbf{x} + \Delta\mathbf{t}). \tag{20}$$
#
# Read it as: the value that sat at $\mathbf{p} - \Delta\mathbf{t}$ now sits at $\mathbf{p}$.
# For GANSeg, "the point" is all $K n_\text{per}$ level-1 points, and the picture is every
# level: heatmaps, masks, foreground, and the image.
#
# The **background** is the exception that proves the rule. It does not depend on the points at
# all (lesson 03): moving the object does not move the wall behind it. So eq. 20 holds for the
# whole image only when the background's own position $\mathbf{u}$ (`bg_shift`) moves too;
# moving only the points moves the object in front of a fixed background. The paper makes this
# the reason to generate foreground and background apart (Appendix E, "Background Handling").
#
# In code: `g(latents, points=out.points + d)` with `latents.bg_shift + d`, where `d` is the
# shift in $[-1, 1]$ units; $s$ output pixels are $d = 2s / S$.

# %%
def moved_output(sx: int, sy: int, part: int | None = None, move_background: bool = True, gen=None,
                 lat: Latents | None = None, points: torch.Tensor | None = None):
    """The generator output with all points (part=None) or one part's points moved by (sx, sy) output px.

    With move_background (and part=None) the background shift u moves by the same amount.
    """
    gen = g if gen is None else gen
    lat = latents if lat is None else lat
    points = out.points if points is None else points
    d = torch.tensor([sx, sy], dtype=points.dtype) * (2.0 / S)  # output px -> [-1, 1] units
    moved = points.clone()
    if part is None:
        moved = moved + d
    else:
        moved[:, part] = moved[:, part] + d
    if part is None and move_background:
        lat = dataclasses.replace(lat, bg_shift=lat.bg_shift + d)
    with torch.no_grad():
        return gen(lat, points=moved)


after = moved_output(FACTOR, 0)
fig = viz.shift_comparison(out, after, (FACTOR, 0),
                           title=f"all points and the background moved right by {FACTOR} px (one coarse pixel)")
plt.show()
float32_error = (after.image[..., FACTOR:] - out.image[..., :-FACTOR]).abs().max().item()
print(f"max |after - before moved| = {float32_error:.1e} on an image whose values span [-1, 1]")

# %% [markdown]
# The last panel compares the new image with the old one moved by the same number of pixels,
# on the pixels both show (the strip that enters from the left was outside the old image). What
# is left is float32 rounding — isolated pixels, far below what the eye sees (float32 keeps about
# seven significant digits; an untrained network, whose activations before the final $\tanh$
# are large, shows its rounding sooner). The picture moved; nothing else changed. Section 3
# makes this precise.
#
# ## 2. Move the points yourself
#
# The widget moves **all points** (with or without the background) or **one part**, by whole
# output pixels. In "all points" mode the last panel compares with the old image moved by the
# same shift; in "one part" mode it shows $|\text{after} - \text{before}|$, i.e. what changed.
#
# Things to try:
# * all points, background on, shifts that are multiples of the coarse pixel ($\pm$`FACTOR`,
#   $\pm 2\cdot$`FACTOR`): the difference stays at rounding level. Then shift by 1 px: it does
#   not (section 3 explains).
# * all points, background off: the difference appears wherever the background shows.
# * one part: the change concentrates around that part. It does not vanish elsewhere: the
#   mask stack's starting tensor (eq. 5) mixes *all* points, and each part competes with the
#   others in the softmax. With the shipped checkpoint the change is strongest on and around
#   the part you moved (the hair, the face, the neck or the shoulders), but a good share of it
#   spreads over the rest of the portrait, where the other parts give way.

# %%
def draw_move(mode: str = "all points", part: int = 0, sx: int = FACTOR, sy: int = 0,
              move_background: bool = True) -> plt.Figure:
    """The figure the widget shows: sample 0 after moving all points or one part by (sx, sy) px."""
    one_part = mode == "one part"
    result = moved_output(sx, sy, part if one_part else None, move_background)
    what = f"part {part}" if one_part else "all points" + (" and background" if move_background else "")
    return viz.shift_comparison(out, result, (0, 0) if one_part else (sx, sy),
                                title=f"{what} moved by ({sx:+d}, {sy:+d}) px")


controls = {
    "mode": widgets.ToggleButtons(options=["all points", "one part"], value="all points", description="move"),
    "part": widgets.Dropdown(options=list(range(K)), value=0, description="part k"),
    "sx": widgets.IntSlider(value=FACTOR, min=-3 * FACTOR, max=3 * FACTOR, description="right (px)"),
    "sy": widgets.IntSlider(value=0, min=-3 * FACTOR, max=3 * FACTOR, description="down (px)"),
    "move_background": widgets.Checkbox(value=True, description="move background too"),
}
display(course.widget_figure(draw_move, controls, layout="vertical"))

# %% [markdown]
# ## 3. The numeric check, and which shifts are exact
#
# A figure is not a proof. We repeat the shift in **float64**, where rounding errors are
# around $10^{-15}$, so anything larger is structure, not rounding: with every point and the
# background moved by one pixel of the coarsest grid, masks, foreground, background and image
# must equal the old ones moved by `FACTOR` output pixels.

# %%
g64 = copy.deepcopy(g).double().eval()
lat64 = Latents(*(t.double() for t in (latents.z_point, latents.z_app, latents.z_bg, latents.bg_shift)))
with torch.no_grad():
    base64 = g64(lat64)


def shifted_errors(shifts_px: list[tuple[int, int]]) -> list[dict[str, float]]:
    """For each (sx, sy) >= 0: max |after - before moved by (sx, sy) px| of every spatial output, float64.

    All shifts go through the generator as one batch (in eval mode the samples do not interact).
    """
    n = len(shifts_px)
    d = torch.tensor(shifts_px, dtype=torch.float64) * (2.0 / S)  # (n, 2) in [-1, 1] units
    lat = Latents(*(t.expand(n, -1) for t in (lat64.z_point, lat64.z_app, lat64.z_bg)), lat64.bg_shift + d)
    with torch.no_grad():
        moved = g64(lat, points=base64.points + d[:, None, None, :])
    result = []
    for i, (sx, sy) in enumerate(shifts_px):
        errs = {}
        for name in ("heatmaps", "masks", "foreground", "background", "image"):
            a, b = getattr(base64, name)[0], getattr(moved, name)[i]
            errs[name] = (b[..., sy:, sx:] - a[..., :S - sy, :S - sx]).abs().max().item()
        result.append(errs)
    return result


exact = shifted_errors([(FACTOR, FACTOR)])[0]  # one coarse pixel right and one down
for name, err in exact.items():
    print(f"{name:10s} max error {err:.1e}")
equivariance_error = max(exact.values())

# %% [markdown]
# Every output moved exactly, to about $10^{-12}$ or better (float64 rounding accumulated
# through a few dozen layers). Now sweep the shift over every whole output pixel from 0 to three
# coarse pixels:

# %%
shifts = list(range(0, course.pick(2, 3) * FACTOR + 1))  # fast mode (CI): two coarse pixels
sweep = shifted_errors([(s, 0) for s in shifts])
fig = viz.curve_panels(
    {"max error after a shift (float64)": {name: (shifts, [max(e[name], 1e-17) for e in sweep])
                                           for name in ("heatmaps", "masks", "image")}},
    xlabel="shift of all points and background, output px",
    vlines={f"multiples of {FACTOR} px (one coarse pixel)": FACTOR}, log_y=("max error after a shift (float64)",),
    panel_inches=6.0, title="exact at whole coarse pixels, approximate in between")
for s in range(2 * FACTOR, shifts[-1] + 1, FACTOR):
    fig.axes[0].axvline(s, color="0.4", linestyle="--", linewidth=1)
plt.show()
inexact = {s: e["masks"] for s, e in zip(shifts, sweep) if s % FACTOR}
print("masks error at shifts that are not multiples of", FACTOR, "px:",
      {s: f"{e:.1e}" for s, e in inexact.items()})

# %% [markdown]
# The **heatmaps** are exact at every shift: they are computed directly on the output grid,
# from $\mathbf{p} - \mathbf{x}_k$ (eq. 4). The **masks and the image** are exact only when the
# shift is a whole number of *coarse* pixels. The reason is sampling. The first level evaluates
# the relative encoding (eq. 5) on a coarse grid, one value per coarse pixel. Shift the points
# by a whole coarse pixel, and the new samples are the old samples, one column over: every
# later layer — convolution, up-sampling, normalisation — then computes the same numbers one
# column over. Shift by a quarter of a coarse pixel, and the coarse grid samples the encoding
# at positions it never saw before; after a nonlinearity and a bilinear up-sampling, the result
# is a *different* image, not a shift of the old one. A network that works on a pixel grid can
# only be exactly equivariant on the lattice of its coarsest grid. Between lattice points it
# is approximately so when its outputs vary smoothly with the points — true of a trained
# generator, much less of an untrained one, whose masks and image are sharp and saturated
# (errors of order 1 in the sweep above when the course's trained checkpoint is absent).
#
# ## 4. Why valid convolutions: the paper's zero padding, rebuilt on purpose
#
# The paper keeps zero padding and protects the image with a fixed 10-px margin, cropped back
# after each x2 up-sampling (eq. 12). A zero-padded 3x3 conv changes the pixels next to the map's
# edge, so each one pushes a *band* of border-dependent values one pixel inwards; up-sampling
# doubles the band's width, and the crop removes only a fixed margin. If the band outgrows the
# margin, values that depend on where the map's edge is — absolute position — reach the image.
#
# To see it we build a small stack on purpose, with the paper's *layout* — four levels shaped
# like 32, 32, 64, 128 (here 8, 8, 16, 32) — and, per level, four 3x3 convs: the reach of one
# SPADE ResBlock (its condition convs reach 2 px, its two main convs 2 more). It starts from the
# library's relative positional encoding of three points, exactly like the mask stack. Weights
# are random (He init), which is enough: equivariance is a property of the structure.
#
# * **paper style:** zero-padded convs, a fixed margin of $M$ px at every level, crop to $M$
#   after up-sampling;
# * **library style:** valid convs (no padding), and the margins worked out backwards from the
#   image, as `layers.plan_margins` does for the real generator (lesson 02, exercise 2.3).

# %%
LEVELS = (8, 8, 16, 32)  # the paper's (32, 32, 64, 128) / 4
CONVS_PER_LEVEL = 4  # the reach of one SPADE ResBlock, px
WIDTH = 8
torch.manual_seed(0)
toy_start = RelativePositionalEncoding(n_points=3, channels=WIDTH).double().requires_grad_(False)
toy_convs = nn.ModuleList(nn.Conv2d(WIDTH, WIDTH, 3) for _ in range(len(LEVELS) * CONVS_PER_LEVEL)).double()
init_weights(toy_convs)
toy_convs.requires_grad_(False)


def toy_stack(points: torch.Tensor, margins: tuple[int, ...], zero_padding: bool) -> torch.Tensor:
    """Encoding of p - x on the first level's grid, then CONVS_PER_LEVEL convs per level; (1, C, 32, 32).

    margins[i] is the margin (px) of level i's input grid.  Zero padding keeps a map's size, so the
    margin stays margins[i] through the level; valid convs eat one px each.
    """
    x = toy_start(points, make_grid(LEVELS[0], margins[0], dtype=torch.float64))
    for i, side in enumerate(LEVELS):
        for conv in toy_convs[i * CONVS_PER_LEVEL:(i + 1) * CONVS_PER_LEVEL]:
            x = F.leaky_relu(F.conv2d(x, conv.weight, conv.bias, padding=1 if zero_padding else 0), LEAK)
        margin = margins[i] if zero_padding else margins[i] - CONVS_PER_LEVEL
        if i + 1 == len(LEVELS):
            return crop(x, margin)  # the image: no margin left
        if LEVELS[i + 1] != side:  # bilinear x2: margin m becomes 2m (its outermost px is clamped)
            x = F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=False)
            margin *= 2
        x = crop(x, margin - margins[i + 1])


def planned_margins() -> tuple[int, ...]:
    """Smallest input margin per level for valid convs: work backwards from 0 px at the image."""
    margins, needed = [0] * len(LEVELS), 0
    for i in reversed(range(len(LEVELS))):
        margins[i] = needed + CONVS_PER_LEVEL
        if i and LEVELS[i] != LEVELS[i - 1]:
            needed = (margins[i] + 2) // 2  # 2 m - 1 usable px after up-sampling must cover margins[i]
        elif i:
            needed = margins[i]
    return tuple(margins)


def toy_error_map(margins: tuple[int, ...], zero_padding: bool) -> torch.Tensor:
    """|after - before moved| for the toy stack, points moved by one coarse pixel right and down: (28, 28)."""
    step, s = 2.0 / LEVELS[0], LEVELS[-1] // LEVELS[0]
    with torch.no_grad():  # before and after as one batch of two
        a, b = toy_stack(torch.cat((toy_points, toy_points + step)), margins, zero_padding)
    return (b[:, s:, s:] - a[:, :-s, :-s]).abs().amax(dim=0)


def leak_band(err: torch.Tensor, tol: float = 1e-12) -> int:
    """Width (px) of the border band outside of which the error map is below tol."""
    n = err.shape[-1]
    for w in range(n // 2 + 1):
        if not (err[w:n - w, w:n - w] > tol).any():
            return w
    return n // 2


toy_points = torch.tensor([[[-0.3, -0.1], [0.2, 0.25], [0.05, -0.35]]], dtype=torch.float64)
valid_margins = planned_margins()
valid_err = toy_error_map(valid_margins, zero_padding=False)
print("valid convs, planned margins per level:", valid_margins, f"-> max error {valid_err.max():.1e}")
margin_sweep = list(range(1, 15))
padded_errs = {m: toy_error_map((m,) * len(LEVELS), zero_padding=True) for m in margin_sweep}
for m in (4, 10, 12):
    print(f"zero padding, fixed margin {m:2d} px: max error {padded_errs[m].max():.1e}, "
          f"leaks into a {leak_band(padded_errs[m])}-px band of the image")

# %%
fig = viz.curve_panels(
    {"max error of a one-coarse-pixel shift": {
        "zero padding, fixed margin M": (margin_sweep, [max(padded_errs[m].max().item(), 1e-17) for m in margin_sweep]),
        "valid convs, planned margins": (margin_sweep, [max(valid_err.max().item(), 1e-17)] * len(margin_sweep))},
     "border band that leaks (px of 28)": {
        "zero padding, fixed margin M": (margin_sweep, [leak_band(padded_errs[m]) for m in margin_sweep]),
        "valid convs, planned margins": (margin_sweep, [leak_band(valid_err)] * len(margin_sweep))}},
    xlabel="margin M kept at every level, px", vlines={"the paper's 10 px": 10},
    log_y=("max error of a one-coarse-pixel shift",), title="zero padding needs a margin that grows with depth")
plt.show()
log_err = {f"zero pad, M = {m}": padded_errs[m] for m in (4, 10, 12)} | {"valid, planned": valid_err}
fig = viz.map_row({k: torch.log10(v + 1e-17) for k, v in log_err.items()}, cmap="magma", vmin=-17, vmax=0,
                  colorbar=True, title="log10 |after - before moved|, one-coarse-pixel shift", panel_inches=2.2)
plt.show()

# %% [markdown]
# Read the two figures together. With zero padding and a small margin the border signal covers
# the whole image. At the paper's 10 px it is confined to a band of a few pixels along the
# border — small errors, but the network *can* tell where the border is there, and a trained
# network will use any such cue. Only from $M = 12$ does the crop remove the band entirely for
# this depth: zero padding with a large enough margin is exact too, but the margin needed grows
# with every level (the band doubles at each up-sampling, plus the reach of the new block).
#
# The valid version needs no tuning: it never reads a value that is not computed from
# $\mathbf{p} - \mathbf{x}$, and its margins are exactly what the convs consume. For the toy
# stack they are `valid_margins` at levels 8, 8, 16, 32; for the course generator
# `plan_margins` gave:

# %%
print("mask stack input margins per level:", g.level2.margins, "| foreground:", g.foreground.margins,
      "| background:", g.background.margins)

# %% [markdown]
# ## 5. Exercises
#
# **Exercise 5.1 — the shift error.** Write `shift_error(before, after, sx, sy)`: two maps
# $(\dots, H, W)$ where `after` should be `before` moved right by `sx` and down by `sy` whole
# pixels (either may be negative). Return the largest absolute difference over the pixels both
# maps show (a float). This is the measurement behind sections 1-4.

# %%
def shift_error(before: torch.Tensor, after: torch.Tensor, sx: int, sy: int) -> float:
    # YOUR CODE HERE
    raise NotImplementedError


# %%
ex.check_shift_error(shift_error)

# %% [markdown]
# **Exercise 5.2 — which shifts are exact?** A 64-px generator whose coarsest level is 16 px
# (the `cpu-small` preset). Which shifts of all points and background, in whole output pixels
# from 1 to 12, give *exact* equivariance? Replace `...` with a list.

# %%
exact_shifts = ...  # YOUR ANSWER HERE

# %%
ex.check_exact_shifts(exact_shifts)

# ## 6. Lesson check

# %%
# eq. 20 for the generator: a whole coarse pixel moves every output exactly (float64)
assert equivariance_error < 1e-9, f"generator not equivariant: max error {equivariance_error:.2e}"
assert all(max(e.values()) < 1e-9 for s, e in zip(shifts, sweep) if s % FACTOR == 0)
# ... while a shift by a fraction of a coarse pixel is not exact for the masks (sampling), but the heatmaps are
assert all(e["masks"] > 1e-7 for s, e in zip(shifts, sweep) if s % FACTOR)
assert all(e["heatmaps"] < 1e-9 for e in sweep)
# moving the points without the background breaks eq. 20 wherever the background shows
no_bg = moved_output(FACTOR, 0, move_background=False, gen=g64, lat=lat64, points=base64.points)
assert (no_bg.background[..., FACTOR:] - base64.background[..., :-FACTOR]).abs().max() > 1e-6
assert torch.equal(no_bg.background, base64.background)
# the toy stack: valid convs with planned margins are exact; zero padding with the paper's margin leaks a band
assert valid_err.max() < 1e-12
assert padded_errs[10].max() > 1e-8 and 0 < leak_band(padded_errs[10]) < 14
assert padded_errs[1].max() > padded_errs[10].max()
# the widget's drawing function reacts to its controls
figs = [draw_move(sx=0), draw_move(mode="one part", part=K - 1, sx=-2, sy=3, move_background=False)]
panels = [f.axes[1].images[0].get_array() for f in figs]  # "after: masks"
assert (panels[0] != panels[1]).any(), "moving a part must change the masks panel"
plt.close("all")
print("lesson 05 checks passed")

# %% [markdown]
# ## Summary
#
# * Translation equivariance (eq. 20): moving all points — and the background's own shift —
#   moves heatmaps, masks, foreground, background and image by the same amount. The library's
#   generator has it exactly, in float64, for shifts by whole pixels of its coarsest grid; in
#   between it is approximate, because every level samples a grid.
# * The background is not a function of the points, so it needs its own position $\mathbf{u}$;
#   without moving $\mathbf{u}$ only the object moves.
# * Zero padding plus a fixed margin (the paper) leaks absolute position in a border band
#   unless the margin outgrows a band that doubles with every up-sampling; valid convolutions
#   with margins planned backwards (`layers.plan_margins`) never read a made-up value.
#
# **Next — lesson 06:** the same property as a derivative (eq. 21), why it forces relative
# positions, and the many-point version (eq. 25) checked on the mask stack's inputs.

# %% [markdown]
# ## Review questions
#
# Try to answer each question before opening its answer.
#
# **1.** All points and $\mathbf{u}$ move right by one coarse pixel, `FACTOR` output pixels. Where
# does the value at pixel (row $i$, column $j$) go, and why does the check compare `after[...,
# FACTOR:]` with `before[..., :-FACTOR]`?
#
# <details><summary>Answer</summary>
#
# It moves to column $j + $ `FACTOR`, same row (eq. 20: the value at $\mathbf{p} -
# \Delta\mathbf{t}$ now sits at $\mathbf{p}$). The first `FACTOR` columns of the new image show a
# strip that was outside the old image, so only the pixels both images show can be compared.
#
# </details>
#
# **2.** Why are the heatmaps exact at every whole-pixel shift, but the masks and the image only
# at multiples of `FACTOR`?
#
# <details><summary>Answer</summary>
#
# The heatmaps are computed directly on the output grid from $\mathbf{p} - \mathbf{x}_k$. The
# masks start from the encoding sampled on the coarse grid: a shift by a whole coarse pixel gives
# the same samples one column over, so every later layer computes the same numbers one column
# over. A fraction of a coarse pixel samples the encoding at new positions, and after
# nonlinearities and bilinear up-sampling the result is a different image, not a shifted one.
#
# </details>
#
# **3.** The points move but $\mathbf{u}$ does not. Which outputs still satisfy eq. 20, and where
# does the image fail it?
#
# <details><summary>Answer</summary>
#
# Heatmaps, masks and foreground move with the points; the background does not depend on the
# points, so it stays where it was. The image therefore breaks eq. 20 wherever the background
# shows ($\mathbf{M}_\text{bg} > 0$): the object moves in front of a fixed background.
#
# </details>
#
# **4.** With zero padding and a fixed margin $M$ at every level, why does the margin needed to
# keep the image clean grow with the depth of the network?
#
# <details><summary>Answer</summary>
#
# Each zero-padded 3x3 conv pushes the band of border-dependent values one pixel further inwards,
# and each x2 up-sampling doubles the band's width, while the crop removes only $M$ pixels per
# level. A deeper stack makes a wider band, so a margin that is enough for one depth leaks at a
# larger one. Valid convs with margins planned backwards never read a made-up value, so they need
# no such tuning.
#
# </details>

# %% [markdown]
# ## What to try next
#
# * In the widget, in "all points" mode with the background on, set the shift to 1 px instead of
#   `FACTOR` and read the difference panel; then switch "move background too" off and see where
#   the difference appears.
# * Set `CONVS_PER_LEVEL = 6` (or change `LEVELS`) and rerun section 4: watch the smallest
#   zero-padding margin without a leaking band move, while the valid stack's planned margins
#   simply grow (extend `margin_sweep` if no margin up to 14 is clean). The lesson check is
#   written for the default values.
#
# **Next:** lesson 06 states eq. 20 as a derivative (eq. 21) and checks it, and its
# many-point form (eq. 25), by finite differences.
