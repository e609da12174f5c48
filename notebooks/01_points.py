# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Lesson 01 — Level 1: points, part centres, scales and appearance
#
# [![Open in Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/ganseg-course/ganseg-course/blob/v0.1.0/notebooks/01_points.ipynb)
#
# GANSeg draws an image in three levels. This lesson is about the first one, where everything
# starts: a handful of 2-D **points** that say *where* each part is and how large it is, and
# one **embedding vector** per part that says *what it looks like*. Every later level is
# computed from these numbers, so an edit here (move a part's points) moves that part's mask
# and its pixels.
#
# **After this lesson you can**
# 1. say what level 1 of the generator outputs and what shape each tensor has;
# 2. compute a part's centre $\mathbf{x}_k$ and scale $\sigma_k$ from its points (eq. 1) and
#    its embedding $\mathbf{w}_k$ (eq. 2-3), and check them against the library;
# 3. edit one part's points with a widget and watch heatmaps, masks and image follow;
# 4. explain why position and appearance come from two independent noise vectors.
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
import ipywidgets as widgets
import matplotlib.pyplot as plt
import torch
from IPython.display import display

from ganseg_lib import course, viz
from ganseg_lib.course.exercises import lesson01 as ex
from ganseg_lib.model.points import part_centers_and_scales

print(course.describe_runtime())

# %% [markdown]
# ## 1. The generator and its random inputs
#
# A GAN generator turns random noise into an image. GANSeg's generator takes four random
# inputs (a `Latents` object):
#
# | input | shape | drives |
# |---|---|---|
# | `z_point` | $(B, D_\text{noise})$, Gaussian | where the parts are (level 1) |
# | `z_app` | $(B, D_\text{noise})$, Gaussian | what the parts look like (level 1) |
# | `z_bg` | $(B, D_\text{noise})$, Gaussian | what the background looks like (lesson 03) |
# | `bg_shift` | $(B, 2)$, uniform | where the background sits (lesson 03) |
#
# `course.course_generator()` returns the course's shipped, trained generator
# (`checkpoints/faces-32.pt`: the 32-px `cpu-tiny` preset, $K = 4$ parts, $n_\text{per} = 4$
# points per part, trained on synthetic faces). Its four parts settled on the hair, the face,
# the neck and the shoulders. (In a copy of the course without the checkpoint it returns an
# untrained 64-px `cpu-small` generator instead, which paints noise; the geometry of level 1 —
# points, centres, scales — and the way masks follow points are there even then, and the
# printout below says which one you have.)

# %%
g, trained = course.course_generator()
cfg = g.cfg
K, N_PER, S = cfg.n_parts, cfg.points_per_part, cfg.image_size
print(f"{'trained' if trained else 'untrained'} generator: {S} px, K = {K} parts, n_per = {N_PER} points per part")

latents = g.sample_latents(4, generator=torch.Generator().manual_seed(0))
with torch.no_grad():
    out = g(latents)
print("image", tuple(out.image.shape), "| masks", tuple(out.masks.shape), "| points", tuple(out.points.shape))

# %%
fig = viz.generator_levels(out, 0, panels=("points", "heatmaps", "masks", "image", "overlay"),
                           title="one sample, level by level" + ("" if trained else " (untrained: the image is noise)"))
plt.show()

# %% [markdown]
# Read the figure from left to right. **Level 1** made $K \cdot n_\text{per}$ points (dots,
# one colour per part), their centres (crosses) and a circle of radius $\sigma_k$ per part.
# Level 2 turned them into heatmaps and then into $K+1$ soft masks (grey is the background).
# Level 3 painted the image. The rest of the course explains each arrow; here we stay at the
# first panel.
#
# ## 2. Points (eq. 1, second line)
#
# A multi-layer perceptron maps the point noise to $n_\text{per} \times K$ points,
#
# $$\{\mathbf{x}_k^1, \dots, \mathbf{x}_k^{n_\text{per}}\}_{k=1}^{K} = \mathrm{MLP}_\text{point}(\mathbf{z}_\text{point}).$$
#
# Coordinates are $(x, y)$ in $[-1, 1]$, $x$ to the right and $y$ **down** (like image rows).
# The library squashes the MLP output with $\tanh(h / d)$ so points stay inside the image;
# the divisor $d$ sets how spread out they are at the start of training. The authors' code
# uses $d = 20$ (all points start near the centre); the CPU presets use $d = 2$, which we
# measured to learn diverse part positions much sooner.

# %%
with torch.no_grad():
    points = g.level1.points(latents.z_point)  # (B, K, n_per, 2)
print("points", tuple(points.shape), "| divisor", cfg.point_divisor,
      f"| range [{points.min():.2f}, {points.max():.2f}]")
assert torch.equal(points, out.points)

fig = viz.point_layouts(points, out.part_centers, out.part_scales, S,
                        title="level-1 points of four samples (crosses: centres, circles: scales)")
plt.show()

# %% [markdown]
# ## 3. Part centre and scale (eq. 1, first line)
#
# Each part is summarised by the mean and the spread of its own points:
#
# $$\mathbf{x}_k = \frac{1}{n_\text{per}} \sum_{i=1}^{n_\text{per}} \mathbf{x}_k^i, \qquad
# \sigma_k = \sqrt{\frac{\sum_{i=1}^{n_\text{per}} \lVert \mathbf{x}_k^i - \mathbf{x}_k \rVert^2}{n_\text{per} - 1}}.$$
#
# The paper's text calls $\sigma_k$ the *standard deviation* of the points; its typeset
# formula puts $n_\text{per} - 1$ outside the square root instead. The library follows the
# text (`scale="std"`, the default). The authors' released code uses a third variant, the
# mean absolute deviation of the coordinates (`scale="mad"`, exercise 1.3).
#
# Why predict $n_\text{per}$ points and average them, rather than predict $\mathbf{x}_k$ and
# $\sigma_k$ directly? The paper found training most stable that way: the scale is tied to a
# real spread of points, and with $n_\text{per} \le 2$ training collapsed (Appendix F).
#
# `part_centers_and_scales` implements eq. 1; you will write it yourself in exercise 1.1.

# %%
centers, scales = part_centers_and_scales(points, cfg.scale)
print("centres", tuple(centers.shape), "scales", tuple(scales.shape))
print("sample 0, sigma_k:", [round(float(s), 3) for s in scales[0]])
assert torch.allclose(centers, out.part_centers) and torch.allclose(scales, out.part_scales)

# %% [markdown]
# ## 4. Appearance embeddings (eq. 2-3)
#
# A second MLP maps the appearance noise to one vector per *sample*, and a learned constant
# per *part* turns it into one vector per part:
#
# $$\mathbf{w}^\text{dynamic} = \mathrm{MLP}_\text{app}(\mathbf{z}_\text{app}), \qquad
# \mathbf{w}_k = \mathbf{w}^\text{dynamic} \otimes \mathbf{w}_k^\text{const},$$
#
# with $\otimes$ the elementwise product. $\mathbf{w}_k^\text{const}$ gives each part an
# identity that is the same in every image (part 2 is always, say, "the left eye"), and
# $\mathbf{w}^\text{dynamic}$ varies it per image (eye colour, lighting). Here are the two
# lines, checked against the library:

# %%
with torch.no_grad():
    w_dynamic = g.level1.app_mlp(latents.z_app)  # (B, D_emb)
    w = w_dynamic.unsqueeze(1) * g.level1.part_const.unsqueeze(0)  # (B, K, D_emb), eq. 3
print("w_dynamic", tuple(w_dynamic.shape), "| w_k const", tuple(g.level1.part_const.shape), "| w", tuple(w.shape))
assert torch.allclose(w, out.part_embeddings)

# %% [markdown]
# Does the constant really give each part an identity? Take 8 samples and compare every
# part embedding with every other by cosine similarity, ordered part by part. Bright blocks
# on the diagonal: the same part looks alike across images, different parts differ — even
# before training, because the constants are random and independent. Training sharpens
# this (lesson 07 shows it with T-SNE, as in the paper's Fig. 13).

# %%
with torch.no_grad():
    w8 = g.level1.embeddings(g.sample_latents(8, generator=torch.Generator().manual_seed(1)).z_app)
fig = viz.embedding_similarity(w8, title="part embeddings of 8 samples")
plt.show()

# %% [markdown]
# **Two noise vectors, not one.** Position and appearance come from independent noise so that
# one cannot leak into the other: a network that could read the part positions from the
# appearance vector could cheat, for example by painting a part somewhere its points are not.
# With separate noise, the same appearance can be drawn at any layout. The library keeps them
# apart: changing `z_point` leaves every $\mathbf{w}_k$ unchanged.

# %%
other = g.sample_latents(4, generator=torch.Generator().manual_seed(7))
with torch.no_grad():
    mixed = g(type(latents)(other.z_point, latents.z_app, latents.z_bg, latents.bg_shift))
assert torch.equal(mixed.part_embeddings, out.part_embeddings)
assert not torch.allclose(mixed.points, out.points)
print("new z_point: points changed, embeddings identical")

# %% [markdown]
# ## 5. Move a part yourself
#
# `g(latents, points=...)` skips the point MLP and uses the points you give it. Below,
# `edit_part` shifts part $k$'s points by $(d_x, d_y)$ and spreads them around their centre
# by a factor (which multiplies $\sigma_k$ by the same factor). The figure shows points,
# heatmaps, masks and the image for the edited sample.
#
# What to look for: the part's heatmap follows its points exactly, and the spread slider
# grows or shrinks it with $\sigma_k$. Its mask moves with it, most strongly near the part:
# level 2 sees the points only through relative positions $\mathbf{p} - \mathbf{x}$ (lesson
# 02). Pixels far away can change too, because the mask stack's starting tensor mixes all
# points; only moving *all* points together (and the background shift with them) moves
# everything exactly, and then by whole pixels of the coarsest grid (lesson 05). With the
# shipped checkpoint a part is a whole region of the portrait, so moving one drags the hair,
# the face, the neck or the shoulders, and its neighbours' masks give way; at 32 px the change
# is coarse. (An untrained generator has huge parts, scales near 1, and paints noise, so there
# every edit changes much of the picture.)

# %%
def edit_part(points: torch.Tensor, k: int, dx: float, dy: float, spread: float) -> torch.Tensor:
    """Part k's points moved by (dx, dy) and spread by `spread` about their centre; a new tensor."""
    edited = points.clone()
    center = points[:, k].mean(dim=1, keepdim=True)
    edited[:, k] = center + spread * (points[:, k] - center) + torch.tensor([dx, dy])
    return edited


def draw_edit(part: int = 0, dx: float = 0.0, dy: float = 0.0, spread: float = 1.0) -> plt.Figure:
    """The figure the widget shows: sample 0 with part `part` edited."""
    with torch.no_grad():
        edited = g(latents[:1], points=edit_part(out.points[:1], part, dx, dy, spread))
    return viz.generator_levels(edited, 0, panels=("points", "heatmaps", "masks", "image"),
                                title=f"part {part} moved by ({dx:+.2f}, {dy:+.2f}), spread x{spread:.2f}")


controls = {
    "part": widgets.Dropdown(options=list(range(K)), value=0, description="part k"),
    "dx": widgets.FloatSlider(value=0.0, min=-0.6, max=0.6, step=0.05, description="dx"),
    "dy": widgets.FloatSlider(value=0.0, min=-0.6, max=0.6, step=0.05, description="dy"),
    "spread": widgets.FloatSlider(value=1.0, min=0.3, max=2.0, step=0.1, description="spread"),
}
display(course.widget_figure(draw_edit, controls))

# %% [markdown]
# Headless runs (CI, `nbconvert`) draw the figure once with the default values. Calling the
# plain function is the same as moving the sliders; the next cell moves part 1 to the right
# and checks that its centre moved by exactly that much while its scale stayed the same.

# %%
with torch.no_grad():
    moved = g(latents[:1], points=edit_part(out.points[:1], 1, 0.3, 0.0, 1.0))
assert torch.allclose(moved.part_centers[0, 1] - out.part_centers[0, 1], torch.tensor([0.3, 0.0]), atol=1e-6)
assert torch.allclose(moved.part_scales[0, 1], out.part_scales[0, 1], atol=1e-6)
changed = (moved.masks[0] - out.masks[0]).abs().sum(dim=0) > 1e-3
print(f"moving part 1 changed the masks at {changed.float().mean():.0%} of the pixels")

# %% [markdown]
# ## 6. Exercises
#
# Each exercise is a cell with a stub (`raise NotImplementedError`); replace it with your code
# and run the check cell below it. A wrong answer raises an error with a hint; an untouched
# stub prints a reminder (in the course's CI the reference solution is checked instead).
#
# **Exercise 1.1 — eq. 1.** Write `centers_and_scales(points)`: points $(B, K, n_\text{per}, 2)$
# $\to$ centres $(B, K, 2)$ and scales $(B, K)$, with $\sigma_k$ the standard deviation as in
# section 3. Use only tensor operations (no loops).

# %%
def centers_and_scales(points: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    # YOUR CODE HERE
    raise NotImplementedError


# %%
ex.check_centers_and_scales(centers_and_scales)

# %% [markdown]
# **Exercise 1.2 — rotate a part.** Moving points can do more than translate a part: rotating
# part $k$'s points about its centre rotates the part (paper, Fig. 14c). Write
# `rotate_part(points, k, angle)` returning a **new** tensor in which part $k$'s points are
# rotated by `angle` radians about $\mathbf{x}_k$, applying
# $\begin{pmatrix}\cos a & -\sin a\\ \sin a & \cos a\end{pmatrix}$ to each $(x, y)$ offset
# (with $y$ pointing down this turns clockwise on screen). Other parts stay put.

# %%
def rotate_part(points: torch.Tensor, k: int, angle: float) -> torch.Tensor:
    # YOUR CODE HERE
    raise NotImplementedError


# %%
ex.check_rotate_part(rotate_part)

# %% [markdown]
# **Exercise 1.3 — the released code's scale.** The authors' code measures a part's size by
# the mean absolute deviation: the absolute $x$ and $y$ offsets of the $n_\text{per}$ points
# from $\mathbf{x}_k$, averaged over points and both coordinates. Write `mad_scale(points)`
# $\to (B, K)$.

# %%
def mad_scale(points: torch.Tensor) -> torch.Tensor:
    # YOUR CODE HERE
    raise NotImplementedError


# %%
ex.check_mad_scale(mad_scale)

# %% [markdown]
# **Exercise 1.4 — predict, then check.** Four points sit on the corners of a square of side
# $2a$ centred on $\mathbf{x}_k$. Which scale is larger, eq. 1's $\sigma_k$ or the released
# code's mean absolute deviation, and by what factor? Work it out on paper (it does not depend
# on $a$) and replace `...` with the ratio $\sigma_\text{std} / \sigma_\text{mad}$ as a number.
# The check computes both scales with `part_centers_and_scales` and compares.

# %%
square_ratio = ...  # YOUR ANSWER HERE

# %%
ex.check_square_ratio(square_ratio)

# %% [markdown]
# ## 7. Lesson check
#
# The cell below asserts what this lesson is about; if a change to the library breaks
# level 1, the course's CI fails here.

# %%
pts = torch.rand(2, K, N_PER, 2) * 2 - 1
c, s = part_centers_and_scales(pts, "std")
assert torch.allclose(c, pts.mean(dim=2))
assert torch.allclose(s, ((pts - c[:, :, None]).pow(2).sum(dim=(2, 3)) / (N_PER - 1)).sqrt(), atol=1e-5)
# translating a part moves its centre by the same vector and keeps its scale (eq. 1)
c2, s2 = part_centers_and_scales(edit_part(pts, 2 % K, 0.25, -0.1, 1.0), "std")
assert torch.allclose(c2[:, 2 % K] - c[:, 2 % K], torch.tensor([0.25, -0.1]), atol=1e-6)
assert torch.allclose(s2, s, atol=1e-6)
# spreading a part's points by f multiplies its scale by f
_, s3 = part_centers_and_scales(edit_part(pts, 0, 0.0, 0.0, 1.5), "std")
assert torch.allclose(s3[:, 0], 1.5 * s[:, 0], atol=1e-5)
# appearance does not depend on z_point; editing points leaves embeddings untouched (eq. 2-3)
assert torch.allclose(moved.part_embeddings[0], out.part_embeddings[0], atol=1e-6)
# the widget's figure really changes with its values
image_before = draw_edit()
image_after = draw_edit(part=1, dx=0.3)
pixels = [f.axes[1].images[0].get_array() for f in (image_before, image_after)]
assert (pixels[0] != pixels[1]).any(), "moving a part's points must change its heatmap panel"
plt.close("all")
print("lesson 01 checks passed")

# %% [markdown]
# ## Summary
#
# * Level 1 turns $\mathbf{z}_\text{point}$ into $K \cdot n_\text{per}$ points and
#   $\mathbf{z}_\text{app}$ into one embedding per part; the two never mix.
# * A part is its centre $\mathbf{x}_k$ (mean of its points) and scale $\sigma_k$ (their
#   standard deviation), eq. 1; its look is $\mathbf{w}_k = \mathbf{w}^\text{dynamic} \otimes
#   \mathbf{w}_k^\text{const}$, eq. 2-3.
# * Passing `points=` to the generator overrides level 1, which is how we edit parts.
#
# **Next — lesson 02:** how points become masks: Gaussian heatmaps, the relative positional
# encoding that keeps everything translation equivariant, SPADE, and the margins.

# %% [markdown]
# ## Review questions
#
# Try to answer each question before opening its answer.
#
# **1.** You add the same vector $\mathbf{d}$ to all $n_\text{per}$ points of part $k$. What
# happens to $\mathbf{x}_k$ and $\sigma_k$ (eq. 1)? And if instead you multiply every offset
# $\mathbf{x}_k^i - \mathbf{x}_k$ by a factor $f > 0$?
#
# <details><summary>Answer</summary>
#
# The centre, a mean, moves by exactly $\mathbf{d}$; $\sigma_k$ depends only on the offsets
# $\mathbf{x}_k^i - \mathbf{x}_k$, which do not change, so it stays the same. Multiplying the
# offsets by $f$ leaves the centre where it is and multiplies $\sigma_k$ by $f$. These are the
# properties the lesson check asserts with `edit_part`.
#
# </details>
#
# **2.** What would eq. 1 give for $\sigma_k$ with $n_\text{per} = 1$? What does that suggest
# about why GANSeg predicts several points per part?
#
# <details><summary>Answer</summary>
#
# The sum of squared offsets is 0 and so is $n_\text{per} - 1$: the scale is undefined (0/0),
# because a single point has no spread. Predicting several points ties the scale to a real spread
# of points; the paper found training most stable that way, and reports that training collapsed
# with $n_\text{per} \le 2$ (Appendix F).
#
# </details>
#
# **3.** The library makes points as $\tanh(h / d)$. Predict how the points of an untrained
# generator change when the divisor $d$ goes from 2 (the CPU presets) to 20 (the authors' code).
#
# <details><summary>Answer</summary>
#
# For the same MLP output $h$, $h/d$ is ten times smaller. Near 0, $\tanh$ is almost linear, so
# the points start much closer to the image centre (about ten times closer where $h/2$ is still
# small) and heavily overlap; parts then have to spread out during training. That is what the
# lesson means by "all points start near the centre" with $d = 20$, and why the CPU presets use $d
# = 2$.
#
# </details>
#
# **4.** Why does changing $\mathbf{z}_\text{point}$ leave every $\mathbf{w}_k$ unchanged (eq.
# 2-3), and why is this separation wanted?
#
# <details><summary>Answer</summary>
#
# $\mathbf{w}_k = \mathrm{MLP}_\text{app}(\mathbf{z}_\text{app}) \otimes
# \mathbf{w}_k^\text{const}$ depends only on the appearance noise and a learned constant, never on
# $\mathbf{z}_\text{point}$. If the appearance vector could carry the part positions, the network
# could use it to paint a part somewhere its points are not; with independent noise the same
# appearance can be drawn at any layout, so position has to come from the points.
#
# </details>
#
# **5.** Moving only part 1 changed the masks at some pixels far from part 1, although level 2
# sees the points only through relative positions $\mathbf{p} - \mathbf{x}$. Why is the change not
# confined to the part?
#
# <details><summary>Answer</summary>
#
# The mask stack's starting tensor (eq. 5) encodes every pixel's position relative to *all*
# points, so moving one part changes it everywhere; and the masks are a softmax, so when one
# part's mask moves its neighbours give way. Relative positions guarantee only that moving *all*
# points together moves everything exactly, for shifts by whole pixels of the coarsest grid
# and with the background shift moved too (lesson 05).
#
# </details>

# %% [markdown]
# ## What to try next
#
# * In the widget, keep `dx = dy = 0` and move `spread` between 0.3 and 2.0: the part's circle and
#   heatmap grow with $\sigma_k$. Watch which neighbouring masks give way when a part grows.
# * In the cell that moves part 1, change the part index and `(0.3, 0.0)` in
#   `edit_part(out.points[:1], 1, 0.3, 0.0, 1.0)` and compare the printed share of pixels whose
#   masks changed: which part's move disturbs most of the picture?
# * Do the opposite of the two-noise check: keep `latents.z_point` and take `other.z_app`. The
#   points must stay identical while the embeddings change; draw both samples with
#   `viz.generator_levels` and compare their images.
# * In section 3 call `part_centers_and_scales(points, "mad")` and compare its scales with the
#   `"std"` ones printed above.
#
# **Next:** lesson 02 turns points into masks: Gaussian heatmaps, the relative positional
# encoding, SPADE and the margins.
