# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Lesson 03 — Level 3: foreground, background and the blend
#
# [![Open in Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/ganseg-course/ganseg-course/blob/v0.1.0/notebooks/03_foreground_background.ipynb)
#
# Level 2 produced $K+1$ masks. Level 3 paints with them: a **foreground** generator paints the
# parts, conditioned on the masks and part embeddings; an independent **background** generator
# paints a background that can slide by a random offset; and the background mask blends the two
# before a small convolutional head turns the result into RGB.
#
# **After this lesson you can**
# 1. build the foreground's embedding map $\mathbf{W}_\text{fg}$ (eq. 7) and say how it differs
#    from $\mathbf{W}_\text{mask}$;
# 2. explain the background generator (eq. 9-10) and compute AdaIN with BatchNorm statistics;
# 3. compute the blend and output head of eq. 11 and check them against the generator;
# 4. explain what the background shift is for, and verify that moving it moves only the
#    background.
#
# **Runtime:** about 30 s on a 2-core CPU; the same with a GPU: the lesson's small models run on the CPU (no training).

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
import dataclasses

import ipywidgets as widgets
import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from IPython.display import display

from ganseg_lib import course, viz
from ganseg_lib.course.exercises import lesson03 as ex
from ganseg_lib.model.layers import LEAK, AdaIN, crop, embedding_map

print(course.describe_runtime())

# %%
g, trained = course.course_generator()
cfg = g.cfg
K, S = cfg.n_parts, cfg.image_size
latents = g.sample_latents(1, generator=torch.Generator().manual_seed(0))
with torch.no_grad():
    out = g(latents)
print(f"{'trained' if trained else 'untrained'} generator, {S} px, K = {K}, "
      f"background shift drawn uniformly within +-{cfg.bg_shift_max} (x, y)")
note = "" if trained else " (untrained: features and image are noise)"
fig = viz.generator_levels(out, 0, panels=("masks", "foreground", "bg_mask", "background", "blend", "image"),
                           title="level 3 of one sample" + note, panel_inches=2.0)
plt.show()

# %% [markdown]
# The figure is the whole lesson in one row: masks (level 2), the foreground features $F$, the
# background mask $M_\text{bg}$, the background features $B$, their blend, and the image.
# Feature maps have $D_\text{emb}$ channels; the panels show the first three as RGB.
#
# ## 1. The foreground (eq. 7-8)
#
# The foreground is conditioned like the mask stack, with one change: instead of heatmaps it
# uses the **masks** themselves to place the part embeddings,
#
# $$\mathbf{W}_\text{fg}(\mathbf{p}) = \sum_{k=1}^{K} \mathbf{M}_k(\mathbf{p})\, \mathbf{w}_k .$$
#
# Heatmaps are blobs around points; masks have the part's real shape. So level 2 decides the
# *shape* of each part and level 3 paints *inside* that shape with the part's appearance. The
# foreground starts from a relative positional encoding of the $K$ part centres (like eq. 5)
# and runs SPADE ResBlocks conditioned on $\mathbf{W}_\text{fg}$ (at each resolution, the
# final masks average-pooled to that size):
#
# $$\mathbf{F}^{(i)} = \text{SPADE ResBlock}(\mathbf{F}^{(i-1)}, \mathbf{W}_\text{fg}), \qquad \mathbf{F} = \mathbf{F}^{(T_\text{fg})}.$$
#
# Note that the library stores the background mask in the **last** channel (the paper writes
# it first); the part masks are `masks[:, :-1]`.

# %%
w_fg = embedding_map(out.masks[:, :-1], out.part_embeddings)  # (B, D_emb, S, S), eq. 7
w_mask = embedding_map(out.heatmaps, out.part_embeddings)  # eq. 4, for comparison
print("W_fg", tuple(w_fg.shape), "| foreground F", tuple(out.foreground.shape))
fig = viz.map_row({"W_mask ch 0 (heatmaps)": w_mask[0, 0], "W_fg ch 0 (masks)": w_fg[0, 0],
                   "W_mask ch 1": w_mask[0, 1], "W_fg ch 1": w_fg[0, 1]}, cmap="RdBu_r",
                  title="the same embeddings placed by heatmaps (level 2) and by masks (level 3)")
plt.show()

# %% [markdown]
# ## 2. The background (eq. 9-10)
#
# The background has its own noise and its own position. An MLP gives the background's
# appearance vector, and the starting tensor is a positional encoding of the pixel position
# relative to a random **background shift** $\mathbf{u}$:
#
# $$\mathbf{w}_\text{bg} = \mathrm{MLP}_\text{bg\_app}(\mathbf{z}_\text{bg\_app}), \qquad
# \mathbf{B}^{(0)}(\mathbf{p}) = \big[\sin(\pi\,\mathrm{FC}(\mathbf{p} - \mathbf{u})),\ \cos(\pi\,\mathrm{FC}(\mathbf{p} - \mathbf{u}))\big].$$
#
# Then AdaIN ConvBlocks (Huang and Belongie, 2017) style it with $\mathbf{w}_\text{bg}$:
#
# $$\mathbf{B}^{(i)} = \text{AdaIN ConvBlock}(\mathbf{B}^{(i-1)}, \mathbf{w}_\text{bg}), \qquad
# \mathrm{AdaIN}(\mathbf{x}, \mathbf{w}) = (1 + \boldsymbol{\gamma}(\mathbf{w})) \odot \mathrm{BN}(\mathbf{x}) + \boldsymbol{\beta}(\mathbf{w}).$$
#
# Unlike SPADE, $\boldsymbol{\gamma}$ and $\boldsymbol{\beta}$ are one number per channel, the
# same at every pixel: the style vector says *what* the background looks like, never *where*.
# The original AdaIN normalises each sample on its own (instance norm); GANSeg uses BatchNorm
# statistics instead (Appendix B.3). One AdaIN layer by hand, in training mode:

# %%
torch.manual_seed(0)
adain = AdaIN(channels=4, style_dim=6, hidden=8).train()
x, style = torch.randn(3, 4, 5, 5), torch.randn(3, 6)
gamma, beta = adain.gamma_beta(F.leaky_relu(adain.hidden(style), LEAK)).chunk(2, dim=1)  # (B, C) each
x_hat = F.batch_norm(x, None, None, training=True, eps=adain.norm.eps)
assert torch.allclose((1 + gamma[:, :, None, None]) * x_hat + beta[:, :, None, None], adain(x, style), atol=1e-5)
print("AdaIN by hand matches layers.AdaIN; gamma is", tuple(gamma.shape), "(one value per channel)")

# %% [markdown]
# ## 3. The blend and the output head (eq. 11)
#
# $$\mathbf{I} = \mathrm{Conv}\big((1 - \mathbf{M}_\text{bg}) \odot \mathbf{F} + \mathbf{M}_\text{bg} \odot \mathbf{B}\big)$$
#
# Where the background mask is 1 the image is painted from $\mathbf{B}$, where it is 0 from
# $\mathbf{F}$. "Conv" is a small head (leaky ReLU, 3x3 conv, leaky ReLU, 3x3 conv) followed
# by $\tanh$ into $[-1, 1]$. Its convs are valid, so they eat 2 px per side: fed with the
# $S \times S$ maps the generator returns, the head reproduces the central $(S-4) \times (S-4)$
# pixels of the image exactly (the generator itself feeds it maps with a 2-px margin).

# %%
blended = (1 - out.masks[:, -1:]) * out.foreground + out.masks[:, -1:] * out.background
with torch.no_grad():
    h = g.head.conv1(F.leaky_relu(blended, LEAK))
    image_centre = torch.tanh(g.head.conv2(F.leaky_relu(h, LEAK)))
err = (image_centre - crop(out.image, 2)).abs().max()
print(f"head by hand: {tuple(image_centre.shape)}, max difference to the generator's image {err:.1e}")
assert err < 1e-4

# %% [markdown]
# ## 4. What the background shift is for
#
# During training $\mathbf{u}$ is drawn at random for every image (here uniformly within
# $\pm$`bg_shift_max`; the paper samples $[-1, 1]^2$, and for Taichi keeps the vertical position
# fixed, since the floor line is always at the same height). Three things follow.
#
# * **The background cannot anchor the parts.** Everything the background generator computes
#   depends on $\mathbf{p} - \mathbf{u}$ only, and $\mathbf{u}$ is independent of the points. A
#   background structure therefore never sits at a fixed image position, nor at a fixed
#   position relative to the parts; nothing in it can tell the foreground where it is.
# * **Foreground and background must be separated.** Appendix E: the foreground is (nearly)
#   additive over parts and moves with its points; a background cannot be — it covers every
#   pixel, and moving the object does not move it. Generating it apart, with its own position,
#   and blending with $\mathbf{M}_\text{bg}$ lets the foreground be equivariant in the points
#   while the background stays put, or slides on its own.
# * **Real data have it.** In photos the object sits at different places in front of a
#   background that is cropped differently each time; the shift lets the generator produce the
#   same background at any offset, so the discriminator cannot tell generated backgrounds by
#   their position.
#
# Let us check the mechanics: change only $\mathbf{u}$, by one pixel of the coarsest grid.

# %%
step = 2 / cfg.resolutions[0]  # one coarse pixel in [-1, 1] units
factor = S // cfg.resolutions[0]  # ... in output pixels
moved_latents = dataclasses.replace(latents, bg_shift=latents.bg_shift + torch.tensor([step, 0.0]))
with torch.no_grad():
    moved = g(moved_latents)
print("masks unchanged:     ", torch.equal(moved.masks, out.masks))
print("foreground unchanged:", torch.equal(moved.foreground, out.foreground))
bg_err = (moved.background[..., factor:] - out.background[..., :-factor]).abs().max()
print(f"background moved right by {factor} px, max error {bg_err:.1e}")
blend_change = (out.masks[:, -1:] * (moved.background - out.background)).norm(dim=1)[0]  # (S, S)
changed = (moved.image - out.image).abs().amax(dim=1)[0]  # (S, S)
fig = viz.map_row({"background mask": out.masks[0, -1], "|blend change|": blend_change,
                   "|image change|": changed},
                  cmap="magma", vmin=0, title="moving u changes the picture only where the background shows")
plt.show()

# %% [markdown]
# The blended features change exactly where $\mathbf{M}_\text{bg} > 0$. The image changes
# there too, and a little around it through the head's 3x3 convs: with the shipped generator
# the change map is bright around the head and shoulders, where the background shows, and
# nearly dark on the face and hair. (An untrained generator's head can saturate its $\tanh$ into
# flat colour, which hides much of the change in its image.)
#
# ## 5. Slide the background yourself
#
# The sliders set $\mathbf{u} = (u_x, u_y)$ for our sample. Foreground and masks stay fixed;
# the background features slide, and the image changes only where (and near where, through the
# head's 3x3 convs) the background mask is non-zero.

# %%
def draw_shift(ux: float = 0.0, uy: float = 0.0) -> plt.Figure:
    """The figure the widget shows: sample 0 with background shift (ux, uy)."""
    lat = dataclasses.replace(latents, bg_shift=torch.tensor([[ux, uy]]))
    with torch.no_grad():
        result = g(lat)
    return viz.generator_levels(result, 0, panels=("bg_mask", "background", "blend", "image"),
                                title=f"background shift u = ({ux:+.2f}, {uy:+.2f})")


bound_x, bound_y = cfg.bg_shift_max
controls = {  # the full range of u; an axis the preset keeps fixed (bound 0) still gets a small range
    "ux": widgets.FloatSlider(value=0.0, min=-max(bound_x, 0.05), max=max(bound_x, 0.05), step=0.05,
                              description="u_x"),
    "uy": widgets.FloatSlider(value=0.0, min=-max(bound_y, 0.05), max=max(bound_y, 0.05), step=0.05,
                              description="u_y"),
}
display(course.widget_figure(draw_shift, controls))

# %% [markdown]
# ## 6. Exercises
#
# **Exercise 3.1 — read the background mask off a moved background.** Section 4 moved only
# $\mathbf{u}$ and printed that the masks and the foreground did not change. Suppose you are given
# only the blended features before and after such a change, `blend` and `blend_moved` (both
# $(B, D, H, W)$), and the two backgrounds `bg` and `bg_moved`, but not $\mathbf{F}$ and not
# $\mathbf{M}_\text{bg}$. Write eq. 11's blend for both, subtract, and see what is left; then
# write `recover_bg_mask(blend, blend_moved, bg, bg_moved)` returning $\mathbf{M}_\text{bg}$ of
# shape $(B, 1, H, W)$. Careful: at some pixels some channels of $\mathbf{B}' - \mathbf{B}$ are
# exactly zero (a flat background feature), and you have $D$ equations for one unknown per pixel.

# %%
def recover_bg_mask(blend: torch.Tensor, blend_moved: torch.Tensor, bg: torch.Tensor,
                    bg_moved: torch.Tensor) -> torch.Tensor:
    # YOUR CODE HERE
    raise NotImplementedError


# %%
ex.check_recover_bg_mask(recover_bg_mask)

# %% [markdown]
# **Exercise 3.2 — AdaIN.** Write `adain(x, gamma, beta)`: features $(B, C, H, W)$ and per-sample,
# per-channel `gamma`, `beta` of shape $(B, C)$ $\to$ $(1 + \gamma) \odot \mathrm{BN}(x) + \beta$,
# with BatchNorm statistics of the batch (biased variance, $\epsilon = 10^{-5}$, no learned affine).

# %%
def adain(x: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor) -> torch.Tensor:
    # YOUR CODE HERE
    raise NotImplementedError


# %%
ex.check_adain(adain)

# %% [markdown]
# **Exercise 3.3 — eq. 7 backwards.** Eq. 7 mixes the $K$ part embeddings with the masks as
# weights. Given only $\mathbf{W}_\text{fg}$ $(B, D, H, W)$ and the embeddings $(B, K, D)$, can
# the masks be read back? Write `masks_from_wfg(w_fg, embeddings)` returning all $K + 1$ masks
# $(B, K + 1, H, W)$ in the library's order (background last). The embeddings are not
# orthonormal. Before you code: what must hold between $D$ and $K$ for this to be possible, and
# where does the background mask come from, since it takes no part in eq. 7?

# %%
def masks_from_wfg(w_fg: torch.Tensor, embeddings: torch.Tensor) -> torch.Tensor:
    # YOUR CODE HERE
    raise NotImplementedError


# %%
ex.check_masks_from_wfg(masks_from_wfg)
print(f"this generator: D_emb = {cfg.embed_dim}, K = {K}")

# %% [markdown]
# ## 7. Lesson check

# %%
# eq. 11: the blend and the head reproduce the generator's image
assert err < 1e-4
# the background shift moves the background only, and moves it exactly
assert torch.equal(moved.masks, out.masks) and torch.equal(moved.foreground, out.foreground)
assert bg_err < 1e-3, f"the background did not follow u (max error {bg_err:.2e})"
# so the blended features change by exactly M_bg (B' - B): nothing of the foreground moves
blend_out = torch.lerp(out.foreground, out.background, out.masks[:, -1:])
blend_moved = torch.lerp(moved.foreground, moved.background, moved.masks[:, -1:])
assert torch.allclose(blend_moved - blend_out, out.masks[:, -1:] * (moved.background - out.background), atol=1e-4)
# eq. 7 by the library's embedding_map equals the explicit sum over parts
explicit = sum(out.masks[:, k, None] * out.part_embeddings[:, k, :, None, None] for k in range(K))
assert torch.allclose(w_fg, explicit, atol=1e-5)
# the widget's drawing function reacts to the shift
panels = [draw_shift(ux).axes[1].images[0].get_array() for ux in (0.0, 0.25)]
assert (panels[0] != panels[1]).any()
plt.close("all")
print("lesson 03 checks passed")

# %% [markdown]
# ## Summary
#
# * The foreground paints inside the masks: $\mathbf{W}_\text{fg} = \sum_k \mathbf{M}_k \mathbf{w}_k$
#   conditions SPADE ResBlocks that start from an encoding relative to the part centres.
# * The background has its own noise, its own position $\mathbf{u}$ and AdaIN styling; it knows
#   nothing about the parts.
# * $\mathbf{M}_\text{bg}$ blends the two and a small head makes the RGB image (eq. 11).
# * The random background shift keeps the background from anchoring the parts and forces the
#   masks to separate object from background.
#
# **Next — lesson 04:** the losses that train all this: the GAN losses, R1, and the
# concentration and area losses that shape the masks.

# %% [markdown]
# ## Review questions
#
# Try to answer each question before opening its answer.
#
# **1.** $\mathbf{W}_\text{fg}$ (eq. 7) places the part embeddings with the masks $\mathbf{M}_k$,
# where $\mathbf{W}_\text{mask}$ (eq. 4) used the heatmaps $\mathbf{H}_k$. What does each level
# decide, and why does the foreground use the masks?
#
# <details><summary>Answer</summary>
#
# Heatmaps are blobs around the points; the masks have the part's real shape, decided by level 2.
# Conditioning the foreground on the masks makes level 3 paint each part's appearance inside the
# shape level 2 gave it, so what is painted and what is segmented agree.
#
# </details>
#
# **2.** SPADE's $\boldsymbol{\gamma}, \boldsymbol{\beta}$ vary per pixel; AdaIN's are one number
# per channel. Why is AdaIN the right choice for the background?
#
# <details><summary>Answer</summary>
#
# The background is styled by $\mathbf{w}_\text{bg}$ alone, which should say *what* the background
# looks like, never *where* anything is. Per-channel modulation is the same at every pixel, so it
# cannot inject positions; all spatial structure comes from the encoding of $\mathbf{p} -
# \mathbf{u}$.
#
# </details>
#
# **3.** Only $\mathbf{u}$ changes. Derive how the blended features of eq. 11 change, and say
# where the image can change.
#
# <details><summary>Answer</summary>
#
# Masks and foreground do not depend on $\mathbf{u}$, so the blend $(1 - \mathbf{M}_\text{bg})
# \odot \mathbf{F} + \mathbf{M}_\text{bg} \odot \mathbf{B}$ changes by exactly
# $\mathbf{M}_\text{bg} \odot (\mathbf{B}' - \mathbf{B})$: zero wherever $\mathbf{M}_\text{bg} =
# 0$. The image can change there and, through the head's 3x3 convs, a little around those pixels.
#
# </details>
#
# **4.** Fed with the $S \times S$ maps the generator returns, the output head reproduces only the
# central $(S-4) \times (S-4)$ pixels of the image. Why 4?
#
# <details><summary>Answer</summary>
#
# The head has two 3x3 convolutions, both valid: each removes one pixel on every side, so two
# remove 2 px per side, 4 in each dimension. The generator itself feeds the head maps with a 2-px
# margin, so its image is full size.
#
# </details>
#
# **5.** Why does drawing $\mathbf{u}$ at random for every training image stop the background from
# anchoring the parts?
#
# <details><summary>Answer</summary>
#
# The background is computed from $\mathbf{p} - \mathbf{u}$ only, and $\mathbf{u}$ is independent
# of the points. Any structure in the background therefore sits at a random place, both in the
# image and relative to the parts, so the foreground cannot use it to tell where it is. It also
# forces the masks to separate the object from a background that moves on its own.
#
# </details>

# %% [markdown]
# ## What to try next
#
# * Move the `u_x` and `u_y` sliders to their ends and compare the image with the background mask
#   panel: the picture should change only where (and just around where) the background shows.
# * Give the sample new background noise, e.g. `dataclasses.replace(latents,
#   z_bg=g.sample_latents(1, generator=torch.Generator().manual_seed(1)).z_bg)`, and check that
#   masks and foreground stay identical while the background changes.
# * In section 4, shift $\mathbf{u}$ by half a coarse pixel (`step / 2`) and compare with the
#   background moved by `factor // 2` pixels (when `factor` is even): is the background still
#   exactly shifted?
# * Plot more channels of `w_mask` and `w_fg` in section 1 (`w_mask[0, c]`, `w_fg[0, c]` for other
#   `c`) and compare the blob-shaped and mask-shaped placements.
#
# **Next:** lesson 04, the losses that train all this: the GAN losses, R1, and the concentration
# and area losses.
