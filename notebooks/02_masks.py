# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Lesson 02 — Level 2: from points to masks
#
# [![Open in Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/ganseg-course/ganseg-course/blob/v0.1.0/notebooks/02_masks.ipynb)
#
# Level 1 gave us points, part centres $\mathbf{x}_k$, scales $\sigma_k$ and embeddings
# $\mathbf{w}_k$. Level 2 turns them into $K+1$ soft masks, one per part plus the background,
# that tell every pixel which part it belongs to. Four ingredients do it: heatmaps, a relative
# positional encoding, SPADE normalisation, and margins. Each is chosen so that the masks can
# depend on *where the points are relative to a pixel* but never on the pixel's absolute
# position — the property (translation equivariance) that lets GANSeg learn parts at all.
#
# **After this lesson you can**
# 1. write the Gaussian heatmap of eq. 4 and the released code's cone variant;
# 2. explain why eq. 5 encodes $\mathbf{p} - \mathbf{x}$ rather than $\mathbf{p}$, and check it;
# 3. compute a SPADE layer by hand and say what it conditions on;
# 4. explain why zero padding leaks absolute position, how the paper's margins (eq. 12) limit
#    the leak, and how this library's valid convolutions remove it;
# 5. use K and $\sigma$ controls to see heatmaps and masks change.
#
# **Runtime:** about 40 s on a 2-core CPU; the same with a GPU: the lesson's small models run on the CPU (no training).

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
import math

import ipywidgets as widgets
import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from IPython.display import display

from ganseg_lib import Generator, course, viz
from ganseg_lib.course.exercises import lesson02 as ex
from ganseg_lib.coords import make_grid
from ganseg_lib.model.fast import PartCondition, condition_conv
from ganseg_lib.model.layers import LEAK, RelativePositionalEncoding, embedding_map
from ganseg_lib.model.masks import heatmaps
from ganseg_lib.model.spade import SPADE

print(course.describe_runtime())

# %%
g, trained = course.course_generator()
cfg = g.cfg
K, S = cfg.n_parts, cfg.image_size
latents = g.sample_latents(1, generator=torch.Generator().manual_seed(0))
with torch.no_grad():
    out = g(latents)
print(f"{'trained' if trained else 'untrained'} generator, {S} px, K = {K}, heatmap = {cfg.heatmap!r}, "
      f"level sides {cfg.resolutions}")

# %% [markdown]
# ## 1. Pixel coordinates
#
# Everything in level 2 is a function of pixel positions $\mathbf{p}$. `make_grid(side, margin)`
# returns the $(x, y)$ coordinates of pixel centres of a `side` x `side` image in $[-1, 1]$,
# extended by `margin` pixels on every side (we need those in section 5). Pixel $j$ sits at
# $x = (j - m + 0.5) \cdot 2 / \text{side} - 1$.

# %%
grid = make_grid(4, 0)
print("4 x 4 grid, x of row 0:", grid[0, :, 0].tolist(), "| y of column 0:", grid[:, 0, 1].tolist())
print("with a 1-px margin:", tuple(make_grid(4, 1).shape), "x of row 0:", make_grid(4, 1)[0, :, 0].tolist())

# %% [markdown]
# ## 2. Heatmaps (eq. 4)
#
# Each part gets a heatmap centred on $\mathbf{x}_k$ with width $\sigma_k$:
#
# $$\mathbf{H}_k(\mathbf{p}) = \exp\!\left(-\lVert \mathbf{p} - \mathbf{x}_k \rVert_2^2 / \sigma_k^2\right).$$
#
# The paper divides by $\sigma_k^2$ rather than the usual $2\sigma_k^2$ to get sharper maps.
# Here it is in three lines, checked against the library's `masks.heatmaps`:

# %%
grid = make_grid(S, 0)  # (S, S, 2)
dist2 = (grid[None, None] - out.part_centers[:, :, None, None]).pow(2).sum(-1)  # (B, K, S, S)
gauss = torch.exp(-dist2 / out.part_scales[:, :, None, None].pow(2))
assert torch.allclose(gauss, heatmaps(out.part_centers, out.part_scales, grid, "gaussian"), atol=1e-6)
print("Gaussian heatmaps", tuple(gauss.shape), "match masks.heatmaps")

# %% [markdown]
# The authors' released models use a **cone** instead, $\max(0, 1 - \lVert \mathbf{p} -
# \mathbf{x}_k\rVert / \sigma_k)$: exactly zero beyond $\sigma_k$, so a part's heatmap has a
# hard edge and a finite area. The library offers both (`GeneratorConfig.heatmap`); the
# paper's Gaussian is the default. You will write the cone in exercise 2.1.

# %%
r = torch.linspace(0, 2, 200)
fig = viz.heatmap_profiles({"Gaussian (paper, eq. 4)": (r, torch.exp(-r ** 2)),
                            "Gaussian with 2 sigma^2": (r, torch.exp(-r ** 2 / 2)),
                            "cone (released code)": (r, (1 - r).clamp_min(0))},
                           title="heatmap profile against distance in units of sigma_k")
plt.show()

# %% [markdown]
# ## 3. The embedding map $\mathbf{W}_\text{mask}$ (eq. 4, second line)
#
# A heatmap says *where* a part is; its embedding says *which* part it is. Multiplying them
# and summing over parts gives one feature vector per pixel,
#
# $$\mathbf{W}_\text{mask}(\mathbf{p}) = \sum_{k=1}^{K} \mathbf{H}_k(\mathbf{p})\, \mathbf{w}_k,$$
#
# a $D_\text{emb}$-channel map that is large near each part and carries that part's identity.
# It is the *condition* of every SPADE layer in the mask stack (section 5).

# %%
w_mask = embedding_map(gauss, out.part_embeddings)  # (B, D_emb, S, S)
by_hand = (gauss[:, :, None] * out.part_embeddings[:, :, :, None, None]).sum(dim=1)
assert torch.allclose(w_mask, by_hand, atol=1e-5)
print("W_mask", tuple(w_mask.shape))
fig = viz.map_row({f"W_mask channel {c}": w_mask[0, c] for c in range(4)}, cmap="RdBu_r",
                  title="a few channels of the embedding map")
plt.show()

# %% [markdown]
# ## 4. Relative positional encoding (eq. 5)
#
# The mask stack also needs a starting tensor $\mathbf{M}^{(0)}$. StyleGAN starts from a
# learned constant and SPADE from noise; both let the network learn absolute positions (the
# constant can simply encode "top-left"). GANSeg instead encodes every pixel's position
# **relative to all $n_\text{per} K$ points**, at low frequency:
#
# $$\mathbf{M}^{(0)}(\mathbf{p}) = \Big[\sin\!\big(\pi\,\mathrm{FC}([\mathbf{p} - \mathbf{x}_1^1, \dots, \mathbf{p} - \mathbf{x}_K^{n_\text{per}}])\big),\;
# \cos\!\big(\pi\,\mathrm{FC}([\dots])\big)\Big],$$
#
# with FC a linear layer. Because only differences $\mathbf{p} - \mathbf{x}$ enter, moving
# every point *and* the pixel by the same $\mathbf{d}$ changes nothing. The library evaluates
# FC in an equivalent, cheaper form (see `RelativePositionalEncoding`); in exercise 2.2 you
# write eq. 5 literally and check it against the library.

# %%
enc = g.level2.start  # the mask stack's RelativePositionalEncoding
points = out.points.flatten(1, 2)  # (1, K n_per, 2)
grid0 = make_grid(cfg.resolutions[0], 0)
d = torch.tensor([0.3, -0.2])
with torch.no_grad():
    m0 = enc(points, grid0)
    m0_shifted_both = enc(points + d, grid0 + d)  # points and pixels moved together
    m0_points_only = enc(points + d, grid0)  # points moved, pixels fixed
print("points and pixels moved together: max change", f"{(m0 - m0_shifted_both).abs().max():.1e}")
print("points moved alone:               max change", f"{(m0 - m0_points_only).abs().max():.2f}")
assert torch.allclose(m0, m0_shifted_both, atol=1e-4)
fig = viz.map_row({"M0 ch 0": m0[0, 0], "M0 ch 1": m0[0, 1], "ch 0, points moved": m0_points_only[0, 0],
                   "ch 1, points moved": m0_points_only[0, 1]}, cmap="RdBu_r", vmin=-1, vmax=1,
                  title="the starting tensor: moving the points moves its pattern")
plt.show()

# %% [markdown]
# ## 5. SPADE and the mask stack (eq. 6)
#
# The mask stack is a few **SPADE ResBlocks** (Park et al., 2019). A SPADE layer normalises
# its input with BatchNorm (no learned affine) and then re-scales and shifts it *per pixel*
# with maps predicted from a condition, here $\mathbf{W}_\text{mask}$:
#
# $$\mathrm{SPADE}(\mathbf{x}, \mathbf{W}) = (1 + \boldsymbol{\gamma}(\mathbf{W})) \odot \mathrm{BN}(\mathbf{x}) + \boldsymbol{\beta}(\mathbf{W}),$$
#
# where $\boldsymbol{\gamma}$ and $\boldsymbol{\beta}$ come from two 3x3 convolutions of the
# condition (a hidden one with leaky ReLU, then one producing both). So the parts' heatmaps
# and identities steer the features at every pixel, every block. (To run fast on a CPU, the
# course's `cpu-*` presets let the SPADE layers of a block share one hidden conv,
# `share_spade_hidden`, and use a 1x1 conv for $\boldsymbol{\gamma}, \boldsymbol{\beta}$,
# `spade_kernel=1`; the paper presets keep the layout above.) A ResBlock is
# SPADE → leaky ReLU → conv, twice, plus a shortcut; between resolutions the features are
# up-sampled x2 (bilinear). The last block outputs $K+1$ channels and a softmax over channels
# gives the masks,
#
# $$\mathbf{M}^{(i)} = \text{SPADE ResBlock}(\mathbf{M}^{(i-1)}, \mathbf{W}_\text{mask}), \qquad
# \mathbf{M} = \mathrm{softmax}(\mathbf{M}^{(T_\text{mask})}).$$
#
# One SPADE layer by hand (training mode, so BatchNorm uses the batch's statistics). Every conv
# is *valid* (no padding), so the condition must be 2 px larger per side than the input:

# %%
torch.manual_seed(0)
spade = SPADE(channels=6, cond_channels=4, hidden=8).train()
x = torch.randn(2, 6, 5, 5)
cond = torch.randn(2, 4, 9, 9)  # 2 valid 3x3 convs: 9 -> 7 -> 5
hidden = F.leaky_relu(spade.hidden(cond), LEAK)
gamma, beta = spade.gamma_beta(hidden).chunk(2, dim=1)
x_hat = (x - x.mean(dim=(0, 2, 3), keepdim=True)) / torch.sqrt(
    x.var(dim=(0, 2, 3), unbiased=False, keepdim=True) + spade.norm.eps)
assert torch.allclose((1 + gamma) * x_hat + beta, spade(x, cond), atol=1e-5)
print("SPADE by hand matches layers.SPADE; gamma and beta are", tuple(gamma.shape), "(one value per pixel)")

# %% [markdown]
# **A free speed-up from linearity.** The hidden conv reads $\mathbf{W}_\text{mask} =
# \sum_k \mathbf{H}_k \mathbf{w}_k$, and a convolution is linear, so
#
# $$\mathrm{Conv}(\mathbf{W}_\text{mask}) = \sum_k \mathrm{Conv}_{\mathbf{w}_k}(\mathbf{H}_k),
# \qquad \mathrm{Conv}_{\mathbf{w}_k}[o] = \sum_d \mathrm{Conv}[o, d]\, w_{k,d}:$$
#
# the same conv applied to the $K$ heatmaps with weights mixed per sample from the embeddings.
# It reads $K$ channels instead of $D_\text{emb}$ (8 instead of 64 in the paper), so the
# library's `PartCondition` computes the SPADE hidden convs this way (`fast.condition_conv`):
# the same numbers, up to float rounding, for a fraction of the work.

# %%
emb_demo = torch.randn(2, 3, 4)  # B = 2 samples, K = 3 parts, D_emb = 4
maps_demo = torch.rand(2, 3, 9, 9)  # K per-part maps (heatmaps here)
factored = condition_conv(spade.hidden, PartCondition(maps_demo, emb_demo))
dense = spade.hidden(embedding_map(maps_demo, emb_demo))
factored_err = (factored - dense).abs().max().item()
print(f"per-part conv vs conv of W: max difference {factored_err:.1e}; multiply-adds per pixel "
      f"{maps_demo.shape[1]} vs {emb_demo.shape[2]} input channels")

# %% [markdown]
# The masks are a softmax over $K+1$ channels, so at every pixel they sum to one: each pixel
# is shared out between the parts and the background. Here is each channel of our sample.

# %%
assert torch.allclose(out.masks.sum(dim=1), torch.ones(1, S, S), atol=1e-5)
names = [f"part {k}" for k in range(K)] + ["background"]
fig = viz.map_row(dict(zip(names, out.masks[0])), cmap="magma", vmin=0, vmax=1,
                  title="the K+1 mask channels" + ("" if trained else " (untrained generator)"))
plt.show()

# %% [markdown]
# ## 6. Margins (eq. 12): why, and two ways to get them
#
# A convolution with **zero padding** sees made-up zeros at the border, so its output near the
# border differs from the interior even for a perfectly uniform input: the network can tell
# where the border is, i.e. it learns *absolute* position. A valid convolution has no border
# effect, but its output is smaller.

# %%
flat = torch.ones(1, 1, 8, 8)
kernel = torch.ones(1, 1, 3, 3) / 9
padded, valid = F.conv2d(flat, kernel, padding=1), F.conv2d(flat, kernel)
print("zero padding, uniform input -> distinct values", sorted(set(padded.flatten().tolist())))
print("valid conv,   uniform input -> distinct values", sorted(set(valid.flatten().tolist())))
fig = viz.map_row({"input, 8x8 uniform": flat[0, 0], "zero-padded 3x3: 8x8": padded[0, 0],
                   "valid 3x3: 6x6": valid[0, 0]},
                  cmap="viridis", vmin=0, vmax=1, title="zero padding marks the border; valid convs do not")
plt.show()

# %% [markdown]
# **The paper's answer** computes every level on a grid larger than the image by a 10-px
# margin, $[-1 - 20/H_0,\ 1 + 20/H_0] \times [-1 - 20/W_0,\ 1 + 20/W_0]$ (eq. 12), keeps zero
# padding, and crops back to a 10-px margin after every x2 up-sampling. The border effect then
# mostly stays in the margin and is cropped away — mostly: each zero-padded conv pushes it one
# pixel further inwards and each up-sampling doubles its width, so the image is only
# *approximately* translation equivariant.
#
# **This library's answer** uses only valid convolutions, which never see a made-up value. Each
# 3x3 conv eats one pixel of margin, so `plan_margins` works backwards from the image through
# every conv and up-sampling and gives each level *exactly* the margin it needs. The result is
# exact equivariance: moving all points by one pixel of the coarsest grid moves the masks by
# the same distance, to float precision (lesson 05 studies this in depth). The margins this
# generator's modules got from `plan_margins`, in pixels at each level:

# %%
print("level sides            ", cfg.resolutions)
print("mask stack input margin", g.level2.margins, "-> logits margin", g.level2.out_margin,
      "at", cfg.resolutions[-1], "px")
print("foreground input margin", g.foreground.margins, "| background input margin", g.background.margins)
side0 = cfg.resolutions[0] + 2 * g.level2.margins[0]
print(f"so the mask stack starts on a {side0} x {side0} grid for a {cfg.resolutions[0]} x {cfg.resolutions[0]} level")

# %%
step = 2 / cfg.resolutions[0]  # one pixel of the coarsest grid, in [-1, 1] units
factor = S // cfg.resolutions[0]  # ... which is this many output pixels
with torch.no_grad():
    shifted = g(latents, points=out.points + torch.tensor([step, 0.0]))
err = (shifted.masks[..., factor:] - out.masks[..., :-factor]).abs().max()
print(f"all points moved right by {factor} output px: masks moved by exactly that, max error {err:.1e}")

# %% [markdown]
# ## 7. K and sigma, live
#
# The controls below build a layout of $K$ parts on a circle, each of four points with
# standard-deviation scale $\sigma$, and run the mask stack on it. The heatmap kind switches
# between the paper's Gaussian and the released cone. Watch how the heatmaps grow and overlap
# with $\sigma$. The masks come from a generator with $K$ parts (the course's trained one when
# its $K$ matches, otherwise an untrained one whose masks are a ragged mixture — training is
# what makes each part's mask follow its heatmap).

# %%
def circle_layout(n_parts: int, sigma: float, radius: float = 0.5) -> torch.Tensor:
    """(1, K, 4, 2): K parts evenly on a circle, each 4 points on a square whose std scale is sigma."""
    angle = torch.arange(n_parts) * 2 * math.pi / n_parts
    centers = radius * torch.stack((torch.cos(angle), torch.sin(angle)), dim=-1)
    a = sigma * math.sqrt(3 / 8)  # four points (+-a, +-a): sum of squares 8 a^2, over n_per - 1 = 3
    square = torch.tensor([[-a, -a], [a, -a], [a, a], [-a, a]])
    return (centers[:, None] + square[None])[None]


_generators = {}


def generator_for(n_parts: int, heatmap: str) -> Generator:
    """The course generator when it fits, else an untrained one with n_parts parts (built once)."""
    if n_parts == K and heatmap == cfg.heatmap:
        return g
    if (n_parts, heatmap) not in _generators:
        torch.manual_seed(0)
        gen_cfg = dataclasses.replace(cfg, n_parts=n_parts, heatmap=heatmap)
        _generators[n_parts, heatmap] = Generator(gen_cfg).eval()
    return _generators[n_parts, heatmap]


def draw_layout(n_parts: int = 4, sigma: float = 0.3, heatmap: str = "gaussian") -> plt.Figure:
    """The figure the widget shows: points, heatmaps and masks for K parts of scale sigma."""
    gen = generator_for(n_parts, heatmap)
    lat = gen.sample_latents(1, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        result = gen(lat, points=circle_layout(n_parts, sigma))
    return viz.generator_levels(result, 0, panels=("points", "heatmaps", "masks"),
                                title=f"K = {n_parts}, sigma = {sigma:.2f}, {heatmap} heatmaps")


controls = {
    "n_parts": widgets.IntSlider(value=4, min=2, max=10, description="K"),
    "sigma": widgets.FloatSlider(value=0.3, min=0.05, max=0.8, step=0.05, description="sigma"),
    "heatmap": widgets.ToggleButtons(options=["gaussian", "cone"], value="gaussian", description="heatmap"),
}
display(course.widget_figure(draw_layout, controls))

# %% [markdown]
# ## 8. Exercises
#
# Replace each stub and run the check cell below it (a wrong answer raises an error with a
# hint; an untouched stub prints a reminder).
#
# **Exercise 2.1 — the cone heatmap.** Write `cone_heatmap(centers, scales, grid)`:
# $(B, K, 2)$, $(B, K)$, grid $(H, W, 2)$ $\to (B, K, H, W)$, equal to
# $\max(0, 1 - \lVert \mathbf{p} - \mathbf{x}_k\rVert / \sigma_k)$.

# %%
def cone_heatmap(centers: torch.Tensor, scales: torch.Tensor, grid: torch.Tensor) -> torch.Tensor:
    # YOUR CODE HERE
    raise NotImplementedError


# %%
ex.check_cone_heatmap(cone_heatmap)

# %% [markdown]
# **Exercise 2.2 — eq. 5, literally.** Write `relative_encoding(points, grid, weight, bias)` for
# one sample: points $(N, 2)$, grid $(H, W, 2)$, and the linear layer's `weight` $(C/2, 2N)$ and
# `bias` $(C/2)$ $\to$ $\mathbf{M}^{(0)}$ of shape $(C, H, W)$, sine channels first. Build the
# vector $[\mathbf{p} - \mathbf{x}_1, \dots, \mathbf{p} - \mathbf{x}_N]$ (x then y for each
# point) at every pixel, apply the linear layer, multiply by $\pi$, take sin and cos.
# The check compares with the library's cheaper formulation.

# %%
def relative_encoding(points: torch.Tensor, grid: torch.Tensor, weight: torch.Tensor,
                      bias: torch.Tensor) -> torch.Tensor:
    # YOUR CODE HERE
    raise NotImplementedError


# %%
ex.check_relative_encoding(relative_encoding)

# %% [markdown]
# **Exercise 2.3 — margins, backwards.** A small stack works at side $r$ with two valid 3x3
# convs, then up-samples x2 (bilinear; a margin of $m$ px at side $r$ gives $2m - 1$ usable px at
# side $2r$), then two more valid 3x3 convs at side $2r$. Its output at side $2r$ must keep a
# 2-px margin. What is the smallest margin, in pixels at side $r$, its input needs? Replace
# `...` with a whole number.

# %%
margin_answer = ...  # YOUR ANSWER HERE

# %%
ex.check_margin(margin_answer)

# %% [markdown]
# ## 9. Lesson check

# %%
# eq. 4: the three-line Gaussian is the library's; the cone is zero beyond sigma
assert torch.allclose(gauss, heatmaps(out.part_centers, out.part_scales, grid, "gaussian"), atol=1e-6)
cone = heatmaps(out.part_centers, out.part_scales, grid, "cone")
assert (cone[dist2 > out.part_scales[:, :, None, None].pow(2) * 1.0001] == 0).all()
# eq. 5 depends on p - x only
probe = RelativePositionalEncoding(3, 8)
pts, grd = torch.rand(1, 3, 2), make_grid(6, 2)
with torch.no_grad():
    assert torch.allclose(probe(pts, grd), probe(pts + 0.37, grd + 0.37), atol=1e-4)
# the SPADE condition conv is linear in W_mask: per-part convs give the same result
assert factored_err < 1e-5
# eq. 6: masks are a partition of unity over K+1 channels
assert torch.allclose(out.masks.sum(dim=1), torch.ones_like(out.masks[:, 0]), atol=1e-5)
# valid convolutions and exact margins: moving all points moves the masks exactly
assert err < 1e-3, f"masks did not follow the points (max error {err:.2e})"
# the widget's drawing function reacts to K and sigma
panels = [draw_layout(4, s).axes[1].images[0].get_array() for s in (0.2, 0.5)]
assert (panels[0] != panels[1]).any()
assert len(draw_layout(6, 0.3).axes) == 3
plt.close("all")
print("lesson 02 checks passed")

# %% [markdown]
# ## Summary
#
# * Heatmaps (eq. 4) place each part; weighted by the part embeddings they form
#   $\mathbf{W}_\text{mask}$, the condition of every SPADE layer.
# * The starting tensor (eq. 5) encodes pixel positions relative to all points, so nothing in
#   level 2 knows absolute position.
# * SPADE ResBlocks turn it into $K+1$ mask logits; a softmax makes them a partition of unity.
# * Margins (eq. 12) keep the border out of the image. The paper pads with zeros and crops to
#   10 px (approximately equivariant); this library uses valid convs with margins computed by
#   `plan_margins` (exactly equivariant).
#
# **Next — lesson 03:** level 3 paints the parts (foreground), paints a background that can
# slide, and blends them with the background mask.

# %% [markdown]
# ## Review questions
#
# Try to answer each question before opening its answer.
#
# **1.** Eq. 4 divides by $\sigma_k^2$ rather than $2\sigma_k^2$. What value does the heatmap take
# at distance $\sigma_k$ from the centre, and at $2\sigma_k$? What does the cone heatmap give at
# the same distances?
#
# <details><summary>Answer</summary>
#
# $\exp(-1) \approx 0.37$ at $\sigma_k$ (the usual $2\sigma_k^2$ would give $\exp(-0.5) \approx
# 0.61$) and $\exp(-4) \approx 0.018$ at $2\sigma_k$: a sharper map. The cone $\max(0, 1 -
# \lVert\mathbf{p} - \mathbf{x}_k\rVert/\sigma_k)$ is already 0 at $\sigma_k$ and stays 0 beyond
# it, so its area is finite and its edge hard.
#
# </details>
#
# **2.** Predict what happens to the starting tensor $\mathbf{M}^{(0)}$ (eq. 5) when all points
# *and* the pixel grid move by the same $\mathbf{d}$, and when only the points move. Why is this
# better than a learned constant input?
#
# <details><summary>Answer</summary>
#
# Moving both changes nothing (up to float rounding), because only differences $\mathbf{p} -
# \mathbf{x}$ enter; moving only the points moves the pattern. A learned constant, like
# StyleGAN's, can encode absolute position ("top-left"), which would let the network place parts
# without looking at the points and break translation equivariance.
#
# </details>
#
# **3.** On a uniform $8 \times 8$ input, a zero-padded 3x3 averaging conv gives several distinct
# values, a valid one a single value. Explain where the distinct values come from and why this
# matters for GANSeg.
#
# <details><summary>Answer</summary>
#
# At the border the padded conv averages in made-up zeros: edge pixels see 6 real values out of 9,
# corners 4, the interior 9. So the output reveals how far a pixel is from the border, i.e. its
# absolute position, which the network could learn to use. The valid conv reads only real values,
# so its output is uniform, but it is smaller ($6 \times 6$).
#
# </details>
#
# **4.** Why does convolving the $K$ heatmaps with per-sample mixed weights give the same result
# as convolving $\mathbf{W}_\text{mask}$, and when does it save work?
#
# <details><summary>Answer</summary>
#
# A convolution is linear, so $\mathrm{Conv}(\sum_k \mathbf{H}_k \mathbf{w}_k) = \sum_k
# \mathrm{Conv}_{\mathbf{w}_k}(\mathbf{H}_k)$ with $\mathrm{Conv}_{\mathbf{w}_k}[o] = \sum_d
# \mathrm{Conv}[o, d]\, w_{k,d}$. It reads $K$ input channels instead of $D_\text{emb}$, so it
# saves work whenever $K < D_\text{emb}$ (8 against 64 in the paper).
#
# </details>
#
# **5.** The shift test of section 6 moves all points by `2 / cfg.resolutions[0]` and compares
# masks shifted by `S // cfg.resolutions[0]` output pixels. Where do these two numbers come from?
#
# <details><summary>Answer</summary>
#
# Coordinates span $[-1, 1]$, a width of 2, so one pixel of a grid of side $r$ is $2/r$ in
# coordinate units; `2 / cfg.resolutions[0]` is one pixel of the coarsest grid. At the output
# resolution $S$ the same distance is $S / r$ pixels. Lesson 05 explains why whole coarse pixels
# are the shifts that come out exact.
#
# </details>

# %% [markdown]
# ## What to try next
#
# * In the widget, set $K = 2$ and then $K = 10$, and slide $\sigma$ from 0.05 to 0.8: watch when
#   the heatmaps start to overlap. Switch to the cone and compare the edges. (The masks follow the
#   heatmaps only for the trained generator, i.e. when $K$ and the heatmap kind match it.)
# * In section 4 make `d` larger, e.g. `torch.tensor([0.8, 0.5])`: moving points and pixels
#   together should still change nothing beyond rounding, while moving the points alone changes
#   the pattern more.
# * In the zero-padding demo apply the padded conv twice, `F.conv2d(padded, kernel, padding=1)`,
#   and print its distinct values: the band that depends on the border gets one pixel wider with
#   each padded conv.
# * In the shift cell, move the points by half a coarse pixel, `step / 2`, and compare with the
#   masks moved by `factor // 2` pixels (when `factor` is even): the error is no longer at
#   rounding level. Lesson 05 explains why.
#
# **Next:** lesson 03, level 3: the foreground painted inside the masks, a background that can
# slide, and the blend.
