# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Lesson 06 — Equivariance as a derivative: eq. 21 to 25
#
# [![Open in Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/ganseg-course/ganseg-course/blob/v0.1.0/notebooks/06_equivariance_derivatives.ipynb)
#
# Lesson 05 showed translation equivariance as a shift: move every point (and the background's
# position) by a whole coarse pixel and every output moves by exactly that much. The paper
# (Appendix E) also states it as a derivative, which is the form that explains *why* the
# library feeds its networks relative positions only: a function that satisfies the derivative
# form for every shift can depend on $\mathbf{p} - \mathbf{x}$ and nothing else.
#
# **After this lesson you can**
# 1. derive eq. 21 from eq. 20 and say what its general solution is;
# 2. check eq. 21 by central finite differences in float64 on the library's positional encoding
#    and heatmaps, and see an absolute-position term break it;
# 3. derive the gradient of a heatmap with respect to its point in closed form and recognise
#    eq. 21 in it;
# 4. state eq. 25 for many points and check it over a whole image on the mask stack's inputs.
#
# **Runtime:** 15-30 s on a 2-core CPU in either mode (no training; a GPU changes nothing).

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

import matplotlib.pyplot as plt
import torch

from ganseg_lib import course, viz
from ganseg_lib.course.exercises import lesson06 as ex
from ganseg_lib.coords import make_grid
from ganseg_lib.model.layers import RelativePositionalEncoding, embedding_map
from ganseg_lib.model.masks import heatmaps
from ganseg_lib.model.points import part_centers_and_scales

print(course.describe_runtime())

# %%
g, trained = course.course_generator()
cfg = g.cfg
K, S = cfg.n_parts, cfg.image_size
latents = g.sample_latents(1, generator=torch.Generator().manual_seed(0))
with torch.no_grad():
    out = g(latents)
print(f"{'trained' if trained else 'untrained'} generator: {S} px, K = {K}; its points, centres, scales "
      f"and embeddings feed section 3")

# %% [markdown]
# ## 1. Eq. 21: the same statement as a derivative
#
# Divide eq. 20 by $\Delta\mathbf{t}$ and let it go to zero (each axis separately):
#
# $$-\frac{\partial \mathbf{I}(\mathbf{p}, \mathbf{x})}{\partial \mathbf{p}} = \frac{\partial \mathbf{I}(\mathbf{p}, \mathbf{x})}{\partial \mathbf{x}}. \tag{21}$$
#
# Moving the point a little to the right changes the value at $\mathbf{p}$ exactly as moving
# the pixel a little to the *left* would. Its general solution is any function of
# $\mathbf{p} - \mathbf{x}$ alone — which is why the library feeds the network only relative
# positions: the heatmaps $\exp(-\lVert\mathbf{p} - \mathbf{x}_k\rVert^2 / \sigma_k^2)$ and the
# encoding $\sin/\cos(\pi\,\mathrm{FC}(\mathbf{p} - \mathbf{x}))$.
#
# We check eq. 21 on a small function built from the library's pieces: one point, its
# relative encoding read out by a fixed random vector, plus a heatmap around it,
#
# $$I(\mathbf{p}, \mathbf{x}) = \mathbf{a}^\top \mathbf{M}^{(0)}(\mathbf{p}; \mathbf{x}) + 2\, H(\mathbf{p}; \mathbf{x}, \sigma),$$
#
# and take both derivatives by central finite differences in float64.

# %%
torch.manual_seed(1)
enc1 = RelativePositionalEncoding(n_points=1, channels=8).double().requires_grad_(False)
readout = torch.randn(8, dtype=torch.float64)
SIGMA = torch.tensor([[0.4]], dtype=torch.float64)


def feature(p: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """I(p, x) for pixel positions p (N, 2) and one point x (2,): (N,)."""
    grid = p.view(-1, 1, 2)  # the N pixels as an (N, 1) grid
    m0 = enc1(x.view(1, 1, 2), grid)[0, :, :, 0]  # (8, N)
    h = heatmaps(x.view(1, 1, 2), SIGMA, grid)[0, 0, :, 0]  # (N,)
    return readout @ m0 + 2.0 * h


def central_grad(f, v: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """Gradient of a function of v (2,) returning (N,), by central differences: (N, 2)."""
    cols = []
    for i in range(v.numel()):
        step = torch.zeros_like(v)
        step[i] = eps
        cols.append((f(v + step) - f(v - step)) / (2 * eps))
    return torch.stack(cols, dim=-1)


x0 = torch.tensor([0.3, 0.05], dtype=torch.float64)
p0 = torch.tensor([[0.1, -0.2]], dtype=torch.float64)
dI_dp = central_grad(lambda q: feature(q.view(1, 2), x0), p0[0])[0]
dI_dx = central_grad(lambda q: feature(p0, q), x0)[0]
print("-dI/dp =", [round(v, 6) for v in (-dI_dp).tolist()], "| dI/dx =", [round(v, 6) for v in dI_dx.tolist()])
eq21_residual = (dI_dp + dI_dx).abs().max().item()
print(f"eq. 21 residual {eq21_residual:.1e} (central differences are accurate to ~eps^2 = 1e-10)")

# %% [markdown]
# ## 2. Along a row, and what an absolute position does to it
#
# Now the same along a whole row of pixels, and — for contrast — for a feature that also sees
# the absolute position, like the constant input of StyleGAN or a "CoordConv" coordinate
# channel would: $I_\text{abs}(\mathbf{p}, \mathbf{x}) = I(\mathbf{p}, \mathbf{x}) + \sin(2 p_x)$.

# %%
row = torch.stack((torch.linspace(-1, 1, 201, dtype=torch.float64), torch.full((201,), -0.2, dtype=torch.float64)), -1)
shift = torch.tensor([0.25, 0.0], dtype=torch.float64)


def feature_abs(p: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    return feature(p, x) + torch.sin(2.0 * p[:, 0])


def row_derivatives(f):
    """-dI/dp_x at every pixel of the row (by moving the row) and dI/dx_x (by moving the point)."""
    eps = 1e-5
    e = torch.tensor([eps, 0.0], dtype=torch.float64)
    minus_dp = -(f(row + e, x0) - f(row - e, x0)) / (2 * eps)
    dx = (f(row, x0 + e) - f(row, x0 - e)) / (2 * eps)
    return minus_dp, dx


rel_dp, rel_dx = row_derivatives(feature)
abs_dp, abs_dx = row_derivatives(feature_abs)
px = row[:, 0]
fig = viz.curve_panels(
    {"I along a row (eq. 20)": {"point at x": (px, feature(row, x0)), "point at x + 0.25": (px, feature(row, x0 + shift))},
     "relative features: eq. 21 holds": {"-dI/dp_x": (px, rel_dp), "dI/dx_x": (px, rel_dx)},
     "with an absolute term: it fails": {"-dI/dp_x": (px, abs_dp), "dI/dx_x": (px, abs_dx)}},
    xlabel="pixel position p_x", title="moving the point moves the curve; only relative features obey eq. 21")
plt.show()
print(f"max |residual| along the row: relative {(rel_dp - rel_dx).abs().max():.1e}, "
      f"with the absolute term {(abs_dp - abs_dx).abs().max():.2f}")

# %% [markdown]
# Left: moving the point by 0.25 moves the whole curve by 0.25 (eq. 20). Middle: the two
# derivatives are the same curve (eq. 21). Right: the absolute term adds $2\cos(2p_x)$ to
# $\partial I / \partial \mathbf{p}$ and nothing to $\partial I / \partial \mathbf{x}$.
#
# ## 3. Many points (eq. 22-25)
#
# With $K$ parts, each pixel may feel several points. Assuming the feature is a sum of per-part contributions (eq. 23, which is how $\mathbf{W}_\text{mask} =
# \sum_k \mathbf{H}_k \mathbf{w}_k$ is built), moving every point by $\Delta\mathbf{t}$ moves
# the picture, and in the limit
#
# $$\frac{\partial \mathbf{I}(\mathbf{p}, \mathbf{X})}{\partial \mathbf{p}} = -\sum_{k=1}^{K} \frac{\partial \mathbf{I}_k(\mathbf{p}, \mathbf{X})}{\partial \mathbf{x}_k}. \tag{25}$$
#
# We check it over a whole grid on the real inputs of the mask stack: our sample's points,
# centres, scales and embeddings, $\mathbf{W}_\text{mask}$ from the library's `heatmaps` and
# `embedding_map`, plus the mask stack's own starting tensor $\mathbf{M}^{(0)}$ (eq. 5), read
# out by fixed random vectors. The left side comes from moving the grid, the right side from
# moving all $K n_\text{per}$ points at once (a directional derivative of the sum over $k$).

# %%
torch.manual_seed(2)
start64 = copy.deepcopy(g.level2.start).double().requires_grad_(False)  # the mask stack's relative encoding, eq. 5
emb64 = out.part_embeddings.double()
read_w = torch.randn(emb64.shape[-1], dtype=torch.float64)
read_m = torch.randn(start64.fc.out_features * 2, dtype=torch.float64)


def mask_stack_inputs(points: torch.Tensor, grid: torch.Tensor) -> torch.Tensor:
    """A scalar per pixel from the mask stack's inputs: read_w . W_mask(p) + read_m . M0(p), (H, W)."""
    centers, scales = part_centers_and_scales(points, cfg.scale)
    w_mask = embedding_map(heatmaps(centers, scales, grid, cfg.heatmap), emb64)[0]  # (D, H, W), eq. 4
    m0 = start64(points.flatten(1, 2), grid)[0]  # (C, H, W), eq. 5
    return torch.einsum("d,dhw->hw", read_w, w_mask) + torch.einsum("c,chw->hw", read_m, m0)


pts64 = out.points.double()
grid64 = make_grid(S, 0, dtype=torch.float64)
eps = 1e-6
with torch.no_grad():
    lhs, rhs = [], []
    for axis in range(2):
        e = torch.zeros(2, dtype=torch.float64)
        e[axis] = eps
        lhs.append((mask_stack_inputs(pts64, grid64 + e) - mask_stack_inputs(pts64, grid64 - e)) / (2 * eps))
        rhs.append(-(mask_stack_inputs(pts64 + e, grid64) - mask_stack_inputs(pts64 - e, grid64)) / (2 * eps))
eq25_residual = max((a - b).abs().max().item() for a, b in zip(lhs, rhs))
scale25 = max(a.abs().max().item() for a in lhs)
fig = viz.map_row({"dI/dp_x (grid moved)": lhs[0], "-sum_k dI/dx_k (points)": rhs[0],
                   "difference": lhs[0] - rhs[0]}, cmap="RdBu_r", vmin=-scale25, vmax=scale25, colorbar=True,
                  title=f"eq. 25, x-components, over the whole image (max residual {eq25_residual:.1e})",
                  panel_inches=2.6)
plt.show()

# %% [markdown]
# Both sides agree to finite-difference accuracy at every pixel. The convolutions that follow
# keep the property (Appendix E, "Convolution"): a 3x3 conv at $\mathbf{p}$ reads
# $\mathbf{p} + \Delta\mathbf{p}$, still a function of the differences — as long as it never
# reads a made-up border value, which is what section 4 was about.
#
# %% [markdown]
# ## 4. Exercises
#
# **Exercise 6.1 — the heatmap's gradient, by hand.** Take the library's Gaussian heatmap
# $H(\mathbf{p}; \mathbf{x}, \sigma) = \exp(-\lVert\mathbf{p} - \mathbf{x}\rVert^2 / \sigma^2)$
# (note: $\sigma^2$, not $2\sigma^2$). Differentiate it with respect to the point $\mathbf{x}$ on
# paper, then write `heatmap_grad_x(p, x, sigma)` for pixels `p` $(N, 2)$, one point `x` $(2,)$
# and a float `sigma`, returning $\partial H / \partial \mathbf{x}$ of shape $(N, 2)$ in closed
# form (no autograd, no finite differences). The check compares with autograd. Then read your
# formula: which way does it point, relative to $\mathbf{p} - \mathbf{x}$, and how does it
# show eq. 21 without computing $\partial H / \partial \mathbf{p}$?

# %%
def heatmap_grad_x(p: torch.Tensor, x: torch.Tensor, sigma: float) -> torch.Tensor:
    # YOUR CODE HERE
    raise NotImplementedError


# %%
ex.check_heatmap_grad_x(heatmap_grad_x)

# %% [markdown]
# **Exercise 6.2 — design an equivariant feature.** Write `my_feature(p, x)` for pixel positions
# `p` and points `x`, both $(N, 2)$, returning $(N,)$: any feature you like that depends on both
# and satisfies eq. 21 (the check uses autograd at 64 random pairs). Then add a term that breaks
# it and watch the check say why.

# %%
def my_feature(p: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    # YOUR CODE HERE
    raise NotImplementedError


# %%
ex.check_equivariant_feature(my_feature)

# %% [markdown]
# ## 5. Lesson check

# %%
# eq. 21 at one pixel, along a row, and broken by an absolute term
assert eq21_residual < 1e-8
assert (rel_dp - rel_dx).abs().max() < 1e-7 and (abs_dp - abs_dx).abs().max() > 0.1
# the absolute term's gap is exactly 2 cos(2 p_x) (up to finite-difference error)
assert torch.allclose(abs_dx - abs_dp, 2 * torch.cos(2 * px), atol=1e-6)
# eq. 25 on the mask stack's real inputs, over the whole image
assert eq25_residual < 1e-5 * max(1.0, scale25)
# the central differences agree with autograd on the feature (float64)
p_req = p0.clone().requires_grad_(True)
(auto_dp,) = torch.autograd.grad(feature(p_req, x0).sum(), p_req)
assert torch.allclose(auto_dp[0], dI_dp, atol=1e-8)
plt.close("all")
print("lesson 06 checks passed")

# %% [markdown]
# ## Summary
#
# * Eq. 21, $-\partial\mathbf{I}/\partial\mathbf{p} = \partial\mathbf{I}/\partial\mathbf{x}$, is
#   eq. 20 in the limit of small shifts. Its general solution is any function of
#   $\mathbf{p} - \mathbf{x}$, which is why the heatmaps and the positional encoding use only
#   relative positions.
# * A term that sees the absolute position (a constant input, a coordinate channel) adds to
#   $\partial\mathbf{I}/\partial\mathbf{p}$ only, and eq. 21 fails by exactly that term's
#   derivative.
# * For many points (eq. 25) the derivative with respect to the pixel equals minus the sum of the
#   derivatives with respect to every point; it holds over the whole image on the mask stack's
#   inputs, built from the library's `heatmaps`, `embedding_map` and relative encoding.
#
# **Next — lesson 07:** what a *trained* generator has learned about its parts: the part
# embeddings $\mathbf{w}_k$, visualised with T-SNE as in the paper's Fig. 13.

# %% [markdown]
# ## Review questions
#
# Try to answer each question before opening its answer.
#
# **1.** Show that any feature $I(\mathbf{p}, \mathbf{x}) = f(\mathbf{p} - \mathbf{x})$ satisfies
# eq. 21, and compute by how much $I_\text{abs} = I + \sin(2 p_x)$ violates it.
#
# <details><summary>Answer</summary>
#
# By the chain rule, $\partial I/\partial \mathbf{p} = f'(\mathbf{p} - \mathbf{x})$ and $\partial
# I/\partial \mathbf{x} = -f'(\mathbf{p} - \mathbf{x})$, so $-\partial I/\partial\mathbf{p} =
# \partial I/\partial\mathbf{x}$. The absolute term adds $2\cos(2p_x)$ to $\partial I/\partial
# p_x$ and nothing to $\partial I/\partial x_x$, so the two sides differ by $2\cos(2p_x)$, the gap
# in the right-hand panel.
#
# </details>
#

# **2.** Central differences $(f(v + \epsilon) - f(v - \epsilon)) / 2\epsilon$ are used here
# with $\epsilon = 10^{-5}$ in float64. Why not $\epsilon = 10^{-12}$, and why float64 rather than
# float32?
#
# <details><summary>Answer</summary>
#
# The truncation error of a central difference falls like $\epsilon^2$ ($10^{-10}$ here), but the
# rounding error grows like (machine precision) / $\epsilon$. In float64, precision is about
# $10^{-16}$: at $\epsilon = 10^{-5}$ the rounding part is about $10^{-11}$, at $10^{-12}$ it
# would be about $10^{-4}$, far worse. In float32 (precision about $10^{-7}$) the best
# $\epsilon$ gives only about $10^{-5}$ in total, too coarse to tell a residual of $10^{-8}$ from
# a broken equation.
#
# </details>
#
# **3.** Eq. 25 is derived assuming the feature is a sum of per-part contributions (eq. 23). The
# mask stack's starting tensor $\mathbf{M}^{(0)}$ (eq. 5) mixes all points in one FC layer
# before the sine. Why does the check of section 3 still pass on it?
#
# <details><summary>Answer</summary>
#
# Because moving *every* point by the same $\Delta\mathbf{t}$ is all eq. 25's right-hand side
# needs here: $\mathbf{M}^{(0)}$ is a function of the differences $\mathbf{p} - \mathbf{x}_j$
# for all points $j$, so moving the grid by $\epsilon$ equals moving all points by $-\epsilon$.
# The check takes the directional derivative along all points at once, which is the sum over $k$
# of eq. 25, whether or not the feature splits into per-part terms. What needs eq. 23 is the
# stronger statement that moving *one* part moves only its own contribution.
#
# </details>
#
# **4.** With your closed form of exercise 6.1: at which distance from the point is
# $\lVert\partial H/\partial\mathbf{x}\rVert$ largest, and what does that say about which pixels
# change most when a part's point moves?
#
# <details><summary>Answer</summary>
#
# The gradient is $\frac{2}{\sigma^2}(\mathbf{p} - \mathbf{x})\, H$; its size is $\frac{2r}{\sigma^2} e^{-r^2/\sigma^2}$ with $r = \lVert\mathbf{p} - \mathbf{x}\rVert$,
# zero at the centre and far away, largest on the ring $r = \sigma / \sqrt{2}$. Moving the point
# changes the heatmap most on the flanks of the blob, not at its peak: the blob slides, its edge
# moves through the pixels. By eq. 21 this is minus the heatmap's spatial gradient.
#
# </details>

# %% [markdown]
# ## What to try next
#
# * In the eq. 21 cell add a term that depends on the point alone, e.g. `+ x[0] ** 2` inside
#   `feature`, and see which side of eq. 21 it changes. Then try exercise 6.2 with it.
# * Change `SIGMA`, `x0` or `p0` in section 1 and check that the eq. 21 residual stays at
#   finite-difference accuracy.
# * In exercise 6.1, switch to the cone heatmap $\max(0, 1 - r/\sigma)$ and derive its gradient:
#   where is it undefined, and what does autograd return there?
#
# **Next:** lesson 07 looks at what the parts' embeddings $\mathbf{w}_k$ of a trained generator
# look like, with T-SNE as in the paper's Fig. 13.
