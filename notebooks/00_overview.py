# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Lesson 00 — GANSeg: segmenting parts by learning to draw them
#
# [![Open in Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/ganseg-course/ganseg-course/blob/v0.1.0/notebooks/00_overview.ipynb)
#
# This course rebuilds **GANSeg** (He, Wandt and Rhodin, *GANSeg: Learning to Segment by
# Unsupervised Hierarchical Image Generation*, CVPR 2022) from its equations, one level per
# lesson, on a small library you can read in an afternoon (`ganseg_lib/`). Every lesson runs top
# to bottom on a laptop CPU, in Colab or on a GPU, and checks what it teaches.
#
# **After this lesson you can**
# 1. say what unsupervised part segmentation is and how GANSeg solves it in two stages;
# 2. name the generator's three levels and what flows between them;
# 3. generate a sample and read its points, masks and image;
# 4. run the course in fast (CI) or full mode, on CPU, GPU or Colab.
#
# **Runtime:** about 20 s on a 2-core CPU; the same with a GPU: the lesson's small models run on the CPU (no training).

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
import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F

from data_prep import render
from ganseg_lib import course, viz
from ganseg_lib.course.exercises import lesson00 as ex

print(course.describe_runtime())

# %% [markdown]
# ## 1. The problem
#
# Give a computer thousands of photos of faces — no labels, no keypoints, no masks — and ask it
# to split every face into parts (eyes, hair, mouth, ...) so that "part 3" is the same thing in
# every photo. That is **unsupervised part segmentation**. Its uses range from landmark
# detection to editing and analysis of animals or objects nobody has labelled.
#
# Most earlier methods train an auto-encoder: encode an image into parts, decode it back, and
# add losses that make the parts consistent. GANSeg turns this around and learns to **draw**:
#
# 1. **Train a GAN whose generator draws images part by part.** It first places points, turns
#    them into part masks, then paints each part and the background inside those masks. The
#    only training signal is a discriminator telling generated from real images, plus two
#    losses keeping masks compact. Because the generator is built so that moving a part's points
#    moves its mask and its pixels (*translation equivariance*), the cheapest way for it to draw
#    realistic faces is to give each part a consistent meaning.
# 2. **Distil a segmenter.** Every generated image comes with its masks for free. Generate many
#    (image, mask) pairs and train an ordinary segmentation network (DeepLab V3) on them; it
#    then segments real photos.
#
# ## 2. The generator's three levels (Sec. 3, Fig. 2)
#
# | level | input | output | equations | lesson |
# |---|---|---|---|---|
# | 1 | noise $\mathbf{z}_\text{point}$, $\mathbf{z}_\text{app}$ | $K \times n_\text{per}$ points; part centres $\mathbf{x}_k$, scales $\sigma_k$; embeddings $\mathbf{w}_k$ | 1-3 | 01 |
# | 2 | points, centres, scales, embeddings | $K+1$ soft masks (last = background) | 4-6, 12 | 02 |
# | 3 | masks, embeddings; noise $\mathbf{z}_\text{bg}$, shift $\mathbf{u}$ | foreground, background, blended image | 7-11 | 03 |
#
# Training uses the losses of lesson 04 (eq. 13-19); lessons 05 and 06 check equivariance (by shifts,
# then as eq. 21's derivatives), 07 looks at the learned part embeddings, 08 trains, 09 distils and
# evaluates, 10 compares with the paper.
#
# The paper's headline numbers (K = 8 parts unless noted), which lesson 10 puts next to ours:
#
# | dataset | metric | GANSeg |
# |---|---|---|
# | CelebA aligned (MAFL, K = 10) | landmark error | 3.98 % |
# | CelebA in the wild | landmark error | 6.18 % |
# | CUB birds | foreground IoU | 0.629 |
# | Flowers | foreground IoU | 0.739 |
# | Taichi (K = 10) | MAE / foreground IoU | 417.17 / 0.854 |
#
# ### Where the library departs from the paper
#
# Each lesson says where its code departs from the paper; here is the whole list in one place,
# with the reason and the lesson that shows it. Options named in the last column give back the
# paper's or the released code's choice.
#
# | what | the paper (or the authors' released code) | this library, and why | lesson |
# |---|---|---|---|
# | convolutions in the generator | zero-padded, a fixed 10-px margin kept around every map (eq. 12): approximately equivariant | valid convolutions with margins derived from the depth (`layers.plan_margins`): moving all points and the background by a whole coarse pixel moves masks and image exactly | 02, 05 |
# | foreground conditioning | released code: masks cropped to the image, padded back by replication | masks average-pooled to each level over the margin it reads (keeps the exactness) | 03 |
# | SPADE conditioning convs | one conv on the $D_\text{emb}$-channel condition map | the same conv applied to the $K$ part maps with per-sample weights (`layers.PartCondition`): identical numbers, fewer FLOPs | 03 |
# | SPADE structure of `cpu-tiny`, `paper-fast` | separate hidden convs, 3x3 $\gamma$ / $\beta$ | one shared hidden activation per block, 1x1 $\gamma$ / $\beta$ (speed; `generator.share_spade_hidden=false`, `generator.spade_kernel=3` restore it) | 10 |
# | heatmap and part scale | Gaussian and standard deviation (released code: cone, mean absolute deviation) | as the paper; the released forms are options (`generator.heatmap="cone"`, `generator.scale="mad"`) | 01, 02 |
# | gradient penalty (eq. 15) | released code: a WGAN-GP form | true R1, $\frac{\gamma}{2}\lVert\nabla D(x)\rVert^2$, lazily every $N$ D steps and scaled by $N$ | 04 |
# | mask losses (eq. 16-17) | every G step as written; the released code averages concentration over parts | concentration averaged over parts, area summed, both lazily every `loss.reg_interval` steps and scaled by it | 04 |
# | D step | released code keeps and back-propagates G's graph | the fake batch is made without a graph (same gradients for D, less work) | 08 |
# | $\lambda_\text{con}$ of the course recipe | 10 (Table 4); eq. 26 gives $1.25K$ | 3 for the shipped 32-px faces run (`course.COURSE_RECIPE`), the presets keep 10 | 08, 10 |
# | segmenter | DeepLab V3; released code: 0.5 cross-entropy + 0.5 per-image Dice | the released loss; a small torchvision model at course scale, DeepLabV3-ResNet50 as an option (`segmenter.arch`) | 09 |
# | scale | 128 px, 30,000 steps at batch 64 on a GPU | 32-px presets that train in CPU-minutes (`cpu-tiny`, `cpu-small`); the paper's presets are there for a GPU | 08, 10 |
#
# ## 3. The data of this course
#
# The course trains on **procedural images** with exact ground truth, drawn by `data_prep`
# in milliseconds and needing no download: synthetic faces, birds, flowers and Taichi-like
# figures. (The same code prepares the paper's real datasets when you have them on disk.) Here
# are eight synthetic faces in the wild, with the ground-truth parts overlaid. GANSeg never
# sees these labels: they only score the result (lesson 09).

# %%
faces = render("faces", 8, size=64, seed=0)
labels = faces.part_labels.long()  # (N, S, S), 0 = background, k = part k
n_gt = len(faces.domain.part_names)
one_hot = F.one_hot(labels, n_gt + 1).permute(0, 3, 1, 2).float()  # (N, parts + 1, S, S)
gt_masks = torch.cat((one_hot[:, 1:], one_hot[:, :1]), dim=1)  # background last, as the library stores masks
fig = viz.sample_grid(faces.float_images(), ncols=8, title="synthetic faces in the wild (64 px)")
plt.show()
fig = viz.sample_grid(faces.float_images(), gt_masks, ncols=8, title="... and their ground-truth parts")
plt.show()
print("ground-truth parts:", ", ".join(faces.domain.part_names))

# %% [markdown]
# ## 4. One generated sample
#
# `course.course_generator()` loads the course's shipped, trained generator from `checkpoints/`
# when the repository has one (trained on synthetic faces; see lesson 08 for how). Otherwise it
# returns an **untrained** generator: its images are noise, because nothing has taught it what
# a face looks like yet, but its points and masks already have the structure the next lessons
# explain. The same cell works in both cases.

# %%
g, trained = course.course_generator()
cfg = g.cfg
print(f"{'trained (shipped checkpoint)' if trained else 'untrained (no checkpoint shipped yet)'}: "
      f"{cfg.image_size} px, K = {cfg.n_parts} parts, {cfg.points_per_part} points per part, "
      f"{sum(p.numel() for p in g.parameters()) / 1e6:.2f} M parameters")
latents = g.sample_latents(8, generator=torch.Generator().manual_seed(0))
with torch.no_grad():
    out = g(latents)
fig = viz.sample_grid(out.image, out.masks, out.points, out.part_centers, ncols=8,
                      title="generated: image, masks and points" + ("" if trained else " (untrained: noise)"))
plt.show()

# %%
fig = viz.generator_levels(out, 0, panels=("points", "heatmaps", "masks", "image", "overlay"),
                           title="sample 0, level by level")
plt.show()

# %% [markdown]
# Every figure in the course comes from `ganseg_lib.viz`, and every tensor has a fixed layout:
#
# * coordinates are $(x, y)$ in $[-1, 1]$, $x$ to the right, $y$ **down**; pixel $(i, j)$ of an
#   $S \times S$ image has its centre at $x = (j + 0.5)\,2/S - 1$, $y = (i + 0.5)\,2/S - 1$;
# * `out.masks` is $(B, K+1, S, S)$, a softmax over channels, the **background last**;
# * `out.points` is $(B, K, n_\text{per}, 2)$, `out.image` is $(B, 3, S, S)$ in $[-1, 1]$.

# %%
print("image ", tuple(out.image.shape), f"range [{out.image.min():.2f}, {out.image.max():.2f}]")
print("masks ", tuple(out.masks.shape), "sum over channels = 1:", torch.allclose(out.masks.sum(1), torch.ones(1)))
print("points", tuple(out.points.shape))

# %% [markdown]
# ## 5. How the course runs
#
# * **Locally:** `pip install -e ".[course]"` (or `make install`), then `jupyter lab notebooks/`.
#   Every lesson's first cell is a no-op here.
# * **Colab:** open a lesson with its "Open in Colab" badge; the first cell clones the pinned
#   course release, installs it, and turns on Colab's widget manager so the sliders work. Until
#   the repository is online, it says so and offers two ways on: a fork's URL in
#   `GANSEG_COURSE_REPO`, or the repository uploaded as a zip (see `notebooks/README.md`).
# * **CPU or GPU:** lessons use `course.default_device()` (CUDA when present) where it matters
#   (training, distillation); lessons 00-06 use small models that run in seconds on a CPU.
# * **Fast mode:** with `GANSEG_FAST=1` (as in CI) training cells run a few steps or load the
#   shipped checkpoint, and `course.pick(fast, full)` picks small sizes; without it the lessons
#   run the real thing. Exercise checks then also run their reference solutions (see below).

# %%
print("fast mode:", course.fast_mode(), "| Colab:", course.in_colab(), "| device:", course.default_device())
print("e.g. training steps for lesson 08 would be", course.pick(20, 2000))

# %% [markdown]
# | lesson | CPU, fast mode (CI) | CPU, full mode | GPU |
# |---|---|---|---|
# | 00-04 | 20-40 s each | the same (no training) | the same (small models stay on the CPU) |
# | 05-11 | see each lesson | minutes (training, distillation) | much faster |
#
# ## 6. Exercises
#
# Every lesson has exercises of the same shape: a cell with a stub you replace, and a check cell
# below it. A wrong answer raises an error whose message is a hint; an untouched stub prints a
# reminder, so "Run all" never stops at an exercise you skipped.
#
# **Exercise 0.1 — coordinates.** Write `to_pixel(xy, size)`: $(N, 2)$ coordinates $(x, y)$ in
# $[-1, 1]$ $\to$ $(N, 2)$ float pixel positions (column, row) in an image of `size` x `size`
# pixels, such that a pixel's centre maps to its integer indices.

# %%
def to_pixel(xy: torch.Tensor, size: int) -> torch.Tensor:
    # YOUR CODE HERE
    raise NotImplementedError


# %%
ex.check_to_pixel(to_pixel)

# %% [markdown]
# **Exercise 0.2 — masks.** Write `mask_areas(masks)`: soft masks $(B, K+1, H, W)$ $\to$ $(B, K+1)$,
# the share of the image each part (and the background) covers. Then look at `mask_areas(out.masks)`:
# which channel covers most of our sample?

# %%
def mask_areas(masks: torch.Tensor) -> torch.Tensor:
    # YOUR CODE HERE
    raise NotImplementedError


# %%
ex.check_mask_areas(mask_areas)

# %% [markdown]
# ## 7. Lesson check

# %%
assert course.describe_runtime().startswith("torch ")
assert course.fast_mode() == (os.environ.get("GANSEG_FAST", "").lower() in ("1", "true", "yes"))
assert trained == (course.shipped_checkpoint() is not None)
K, S = cfg.n_parts, cfg.image_size
assert out.image.shape == (8, 3, S, S) and out.image.abs().max() <= 1
assert out.masks.shape == (8, K + 1, S, S) and torch.allclose(out.masks.sum(1), torch.ones(8, S, S), atol=1e-5)
assert out.points.shape == (8, K, cfg.points_per_part, 2) and out.points.abs().max() <= 1
assert gt_masks.shape == (8, n_gt + 1, 64, 64) and torch.equal(gt_masks.sum(1), torch.ones(8, 64, 64))
plt.close("all")
print("lesson 00 checks passed")

# %% [markdown]
# ## Summary
#
# * GANSeg learns parts without labels by learning to *draw* images part by part with a GAN,
#   then distils the drawn masks into a segmenter.
# * The generator has three levels: points (01), masks (02), foreground/background/image (03),
#   trained with the losses of lesson 04.
# * The course runs the same on CPU, GPU and Colab; `GANSEG_FAST=1` makes it CI-sized.
#
# **Next — lesson 01:** level 1, where the points come from, with a widget to move a part.

# %% [markdown]
# ## Review questions
#
# Try to answer each question before opening its answer.
#
# **1.** GANSeg never sees a part label while it trains. Where does the segmenter's training
# signal come from, and why can the generator not segment a real photo by itself?
#
# <details><summary>Answer</summary>
#
# From the generator: every generated image comes with its own masks, so sampling many latents
# gives unlimited (image, mask) pairs, and an ordinary segmentation network (DeepLab V3 in the
# paper) is trained on them. The generator goes from noise to an image, not from an image to
# masks; a real photo has no latents, so a second network that reads only the image is needed.
#
# </details>
#
# **2.** Using the table of section 2, say what level 1 hands to level 2, and what level 2 hands
# to level 3 (together with which extra inputs).
#
# <details><summary>Answer</summary>
#
# Level 1 outputs $K \times n_\text{per}$ points, the part centres $\mathbf{x}_k$, scales
# $\sigma_k$ and embeddings $\mathbf{w}_k$; level 2 uses all of them. Level 2 outputs $K+1$ soft
# masks (background last); level 3 uses them with the part embeddings, plus its own background
# noise $\mathbf{z}_\text{bg}$ and shift $\mathbf{u}$.
#
# </details>
#
# **3.** With the course's coordinate convention, what are the $x$ coordinates of the centres of
# columns 0 to 3 of a $4 \times 4$ image, and which spot does $(x, y) = (0, 0)$ name?
#
# <details><summary>Answer</summary>
#
# $x = (j + 0.5)\,2/4 - 1$ gives $-0.75, -0.25, 0.25, 0.75$. The point $(0, 0)$ is the centre of
# the image: for an even size it is the corner shared by the four central pixels, not the centre
# of any pixel. $(-1, -1)$ is the top-left corner of the image (remember $y$ points down).
#
# </details>
#
# **4.** `out.masks` is a softmax over its $K+1$ channels. If you compute each channel's share of
# the image (exercise 0.2) and add up the $K+1$ shares of one image, what do you get, and what
# does that tell you about how parts compete?
#
# <details><summary>Answer</summary>
#
# Exactly 1 (up to rounding), because the channels sum to one at every pixel. Every pixel is
# shared out between the $K$ parts and the background, so a part can only grow by taking area from
# the others or from the background.
#
# </details>
#
# **5.** Section 1 says that because moving a part's points moves its mask and its pixels, the
# cheapest way for the generator to draw realistic images is to give each part a consistent
# meaning. Explain the argument in your own words.
#
# <details><summary>Answer</summary>
#
# The generator cannot place anything at an absolute position; it can only paint a part where that
# part's points are (translation equivariance). To draw, say, an eye wherever the face happens to
# be, it has to move some part's points there and paint that part as an eye. Reusing the same part
# for the same region in every image is then the simplest way to fool the discriminator, so parts
# acquire a consistent meaning without labels.
#
# </details>

# %% [markdown]
# ## What to try next
#
# * Change the domain in `render("faces", 8, size=64, seed=0)` to `"birds"`, `"flowers"` or
#   `"figures"` (or change the seed) and rerun the cell: look at how the ground-truth parts
#   printed below the figure differ from domain to domain.
# * Change the seed in `g.sample_latents(8, generator=torch.Generator().manual_seed(0))` and rerun
#   the two figure cells. With the shipped checkpoint, check whether each part colour lands on the
#   same kind of region in every sample.
# * In `viz.generator_levels(out, 0, ...)` replace the sample index 0 by another (1 to 7) and
#   follow one sample through the levels.
# * After solving exercise 0.2, print `mask_areas(out.masks)` and its sum over channels, and find
#   the channel that covers most of each sample.
#
# **Next:** lesson 01 looks at level 1: where the points, centres, scales and embeddings come
# from.
