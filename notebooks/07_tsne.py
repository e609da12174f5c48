# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Lesson 07 — What the parts are: T-SNE of the part embeddings
#
# [![Open in Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/ganseg-course/ganseg-course/blob/v0.1.0/notebooks/07_tsne.ipynb)
#
# Every part $k$ of every generated image has an appearance embedding $\mathbf{w}_k$ (lesson 01,
# eq. 2-3), and the background has its own, $\mathbf{w}_\text{bg}$ (eq. 9). The masks and the
# foreground are painted from these vectors, so if two parts had overlapping embeddings, the
# same image features could come from either part and a part would not mean the same thing in
# every image. The paper checks this in Appendix D (Fig. 13): it embeds the vectors of 320
# generated images in 2-D with T-SNE, the background counted as a part, and finds one
# well-separated cluster per part. This lesson rebuilds that figure and then asks what it does
# and does not prove.
#
# **After this lesson you can**
# 1. collect the part and background embeddings of many samples into one labelled matrix;
# 2. explain what T-SNE optimises, what its perplexity does, and what a T-SNE plot cannot show;
# 3. measure cluster separation with numbers (leave-one-out k-NN accuracy, silhouette) instead
#    of by eye;
# 4. show from eq. 3 why part embeddings separate even before training, and what training
#    changes.
#
# **Runtime:** with the shipped checkpoint about 40 s (CI, fast mode) to 2 min (full mode: 320
# images, as in the paper) on a 2-core CPU. Without it the lesson first trains a generator for
# a few steps (CI) or 4 minutes (full mode). Everything runs on the CPU; a GPU changes little.

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
import numpy as np
import torch
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.manifold import TSNE
from sklearn.metrics import silhouette_score
from threadpoolctl import threadpool_limits

from ganseg_lib import Generator, course, viz
from ganseg_lib.course.exercises import lesson07 as ex

print(course.describe_runtime())

# %% [markdown]
# ## 1. A trained generator: load it, or train one
#
# The course ships a generator trained on synthetic faces (`checkpoints/faces-32.pt`, lesson 08
# shows how it was trained). When it is there we load it; when it is not (a fresh clone before
# the checkpoint was added, or a stripped-down copy), we train one here — for a few steps in
# fast mode, which leaves it practically untrained, and for a few minutes otherwise. The cell
# prints which one you are looking at; keep it in mind when you read the figures.

# %%
cfg, g, _, source = course.load_or_train(lesson="lesson07")
K = cfg.generator.n_parts
torch.manual_seed(0)
g_init = Generator(cfg).eval()  # the same architecture, untrained, for comparison
print(f"using {source}: {cfg.name}, {cfg.generator.image_size} px, K = {K}, D_emb = {cfg.generator.embed_dim}")

# %% [markdown]
# ## 2. The embeddings of many samples
#
# For $N$ samples we collect every $\mathbf{w}_k$ (eq. 3) and $\mathbf{w}_\text{bg}$ (eq. 9)
# into one $(N(K+1)) \times D$ matrix with a label per row: $k$ for part $k$, $K$ for the
# background. Only level 1 and the background MLP are needed, so this costs almost nothing.

# %%
N_IMAGES = course.pick(48, 320)  # the paper uses 320 images per dataset


def embedding_matrix(gen: Generator, n: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Rows: w_k of every part of n samples, then w_bg of each sample; labels 0..K-1 parts, K background."""
    lat = gen.sample_latents(n, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        w = gen.level1.embeddings(lat.z_app)  # (n, K, D), eq. 2-3
        w_bg = gen.background.app_mlp(lat.z_bg)  # (n, D), eq. 9
    k = w.shape[1]
    rows = torch.cat((w.transpose(0, 1).reshape(k * n, -1), w_bg))  # part-major, then background
    labels = torch.arange(k + 1).repeat_interleave(n)
    return rows, labels


X, labels = embedding_matrix(g, N_IMAGES)
X_init, _ = embedding_matrix(g_init, N_IMAGES)
print("embedding matrix", tuple(X.shape), "| labels per class", torch.bincount(labels).tolist())

# %% [markdown]
# ## 3. T-SNE in one paragraph
#
# T-SNE (van der Maaten and Hinton, 2008) places the points in 2-D so that each point keeps its
# *neighbours*. In the original space it turns distances into neighbour probabilities,
#
# $$p_{j\mid i} = \frac{\exp(-\lVert \mathbf{x}_i - \mathbf{x}_j\rVert^2 / 2\sigma_i^2)}{\sum_{l \ne i}\exp(-\lVert \mathbf{x}_i - \mathbf{x}_l\rVert^2 / 2\sigma_i^2)}, \qquad p_{ij} = \frac{p_{j\mid i} + p_{i\mid j}}{2N},$$
#
# where each $\sigma_i$ is chosen so that point $i$ has about *perplexity* effective neighbours.
# In the plane it uses a heavy-tailed Student-t kernel, $q_{ij} \propto (1 + \lVert
# \mathbf{y}_i - \mathbf{y}_j\rVert^2)^{-1}$, and moves the $\mathbf{y}_i$ to minimise
# $\mathrm{KL}(P \,\Vert\, Q) = \sum_{i \ne j} p_{ij} \log (p_{ij} / q_{ij})$.
#
# Consequences worth remembering: clusters that are separate in the original space come out
# separate; but cluster *sizes* and the *distances between clusters* in the plot mean little,
# and the picture changes with the perplexity and the random seed. So we will also measure
# separation in the original space.

# %%
def tsne(x: torch.Tensor, seed: int = 0) -> np.ndarray:
    perplexity = min(30.0, (len(x) - 1) / 4)  # sklearn needs perplexity < number of points
    # one thread: for a few thousand points it is as fast, and much faster on a machine that is busy
    with threadpool_limits(1):
        return TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(x.numpy())


Y = tsne(X)
Y_init = tsne(X_init)
names = [f"part {k}" for k in range(K)] + ["background"]
fig = viz.embedding_scatter({f"trained ({source.split(' (')[0]})": (Y, labels), "untrained, same architecture": (Y_init, labels)},
                            part_names=names, title=f"T-SNE of part and background embeddings, {N_IMAGES} images (Fig. 13)")
plt.show()

# %% [markdown]
# One colour, one cluster: each part's embedding stays in its own region across all images,
# and the background (grey) forms its own. That is the paper's Fig. 13.
#
# But look at the right panel too: the **untrained** generator separates its parts just as
# well. Before drawing conclusions from Fig. 13, let us measure, and then find out why.
#
# ## 4. Separation as numbers
#
# Two measures that do not depend on reading a picture:
#
# * **leave-one-out $k$-NN accuracy**: label each point by the majority of its $k$ nearest
#   other points and count how often that is its own label (chance: $1/(K+1)$). You write it
#   in exercise 7.1; the lesson uses scikit-learn's.
# * **silhouette**: for each point, $(b - a) / \max(a, b)$ with $a$ its mean distance to its own
#   cluster and $b$ to the nearest other cluster; $1$ is perfectly separated, $0$ overlapping.
#
# In the original $D$-dimensional space we use the cosine distance: the scale of
# $\mathbf{w}^\text{dynamic}$ varies a lot between images (a brighter image, a larger vector),
# which would drown the part identity in Euclidean distances.

# %%
def knn_leave_one_out(x: np.ndarray, y: np.ndarray, k: int = 5, metric: str = "euclidean") -> float:
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.model_selection import LeaveOneOut, cross_val_score
    if len(x) > 400:  # leave-one-out is exact but slow; 10 folds give the same number to ~1 %
        from sklearn.model_selection import StratifiedKFold
        folds = StratifiedKFold(10, shuffle=True, random_state=0)
    else:
        folds = LeaveOneOut()
    return float(cross_val_score(KNeighborsClassifier(k, metric=metric), x, y, cv=folds).mean())


y_np = labels.numpy()
scores = {}
for name, (emb, plane) in {"trained": (X, Y), "untrained": (X_init, Y_init)}.items():
    scores[name] = {
        "5-NN acc, T-SNE plane": knn_leave_one_out(plane, y_np),
        "5-NN acc, cosine in R^D": knn_leave_one_out(emb.numpy(), y_np, metric="cosine"),
        "silhouette, T-SNE plane": float(silhouette_score(plane, y_np)),
        "silhouette, cosine in R^D": float(silhouette_score(emb.numpy(), y_np, metric="cosine")),
        "silhouette, Euclidean in R^D": float(silhouette_score(emb.numpy(), y_np)),
    }
print(f"{'':32s}{'trained':>10s}{'untrained':>11s}   (chance accuracy {1 / (K + 1):.2f})")
for key in scores["trained"]:
    print(f"{key:32s}{scores['trained'][key]:10.3f}{scores['untrained'][key]:11.3f}")

# %% [markdown]
# The $k$-NN accuracy is far above chance for both models, in the plane and in the original
# space: a part's embedding is recognisable from its neighbours. The silhouettes in the
# original space are modest, the Euclidean one near zero: the clusters are elongated (each one
# is stretched along the directions in which $\mathbf{w}^\text{dynamic}$ varies) rather than
# tight balls, and T-SNE, which only keeps neighbourhoods, draws them as tidy islands.
#
# ## 5. Why they separate even untrained (eq. 3)
#
# Eq. 3 multiplies one vector per image by one constant per part,
# $\mathbf{w}_k = \mathbf{w}^\text{dynamic} \otimes \mathbf{w}_k^\text{const}$. Take absolute
# values and logarithms, coordinate by coordinate:
#
# $$\log\lvert\mathbf{w}_k\rvert = \log\lvert\mathbf{w}^\text{dynamic}\rvert + \log\lvert\mathbf{w}_k^\text{const}\rvert.$$
#
# In log-magnitude space every part is **the same cloud** (the images' $\log\lvert
# \mathbf{w}^\text{dynamic}\rvert$), shifted by its own constant offset. Any two different
# random constants already give different offsets, so the parts separate from the first step —
# it is built into the architecture, not learned. No T-SNE is needed to see it: a *linear*
# projection of $\log\lvert\mathbf{w}_k\rvert$ chosen to separate the labels (linear
# discriminant analysis, LDA) shows $K$ copies of one cloud, and a linear classifier on
# $\log\lvert\mathbf{w}_k\rvert$ is (almost) never wrong. Plain PCA would overlap some parts:
# the offsets live in $D$ dimensions, not necessarily in the two of largest variance.

# %%
def log_magnitudes(gen: Generator, n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    x, y = embedding_matrix(gen, n, seed)
    parts = y < K  # the background is not of the form w_dynamic * w_const
    return x[parts].abs().clamp_min(1e-12).log().numpy(), y[parts].numpy()


panels, lda_accuracy = {}, {}
for name, gen in {"trained": g, "untrained": g_init}.items():
    logs, y_parts = log_magnitudes(gen, N_IMAGES)
    lda = LinearDiscriminantAnalysis(n_components=2).fit(logs, y_parts)
    panels[f"{name}: LDA of log|w_k|"] = (lda.transform(logs), y_parts)
    held_out, y_held = log_magnitudes(gen, N_IMAGES, seed=1)  # new samples
    lda_accuracy[name] = float(lda.score(held_out, y_held))
fig = viz.embedding_scatter(panels, part_names=names[:K], background=False,
                            title="log-magnitudes: each part is the same cloud, shifted")
plt.show()
print("linear classifier on log|w_k|, accuracy on new samples:", {k: round(v, 3) for k, v in lda_accuracy.items()})

# %% [markdown]
# So what does Fig. 13 tell us? Not that training *created* distinct parts — the architecture
# does that — but that training did not *destroy* them: nothing stopped the generator from
# learning two nearly equal constants (two parts that draw the same thing) or a background
# vector that imitates a part. What training changes are the constants themselves. Compare
# their cosine similarities before and after (diagonal = 1; off-diagonal close to 1 would be
# two parts merging):

# %%
def constant_similarity(gen: Generator) -> torch.Tensor:
    c = torch.nn.functional.normalize(gen.level1.part_const.detach(), dim=1)
    return c @ c.T


sim_trained, sim_init = constant_similarity(g), constant_similarity(g_init)
fig = viz.map_row({"trained": sim_trained, "untrained": sim_init}, cmap="RdBu_r", vmin=-1, vmax=1, colorbar=True,
                  panel_inches=2.6, title="cosine similarity of the part constants $w_k^{const}$")
plt.show()
off = ~torch.eye(K, dtype=torch.bool)
print(f"largest off-diagonal similarity: trained {sim_trained[off].max():.2f}, untrained {sim_init[off].max():.2f}")

# %% [markdown]
# Training moves the constants away from their random start; the printed maximum tells whether
# any pair came close to merging (the lesson check requires it to stay below 0.95). For a
# model trained a few steps (fast mode without the checkpoint) both panels are nearly the same
# matrix.
#
# **What Fig. 13 cannot show.** Separate embeddings are necessary for consistent parts, not
# sufficient: they say part 2 is always drawn *from the same vector*, not that it always lands
# on the same facial feature. Whether the parts sit on the same object regions is measured by
# the landmark and IoU metrics of lesson 09.
#
# ## 6. Exercises
#
# **Exercise 7.1 — leave-one-out $k$-NN accuracy.** Write `knn_accuracy(x, labels, k)` for points
# $(N, D)$ and integer labels $(N,)$: for every point, take its $k$ nearest *other* points
# (Euclidean), predict the most frequent label among them (ties go to the smallest label), and
# return the fraction of points predicted right.

# %%
def knn_accuracy(x: torch.Tensor, labels: torch.Tensor, k: int) -> float:
    # YOUR CODE HERE
    raise NotImplementedError


# %%
ex.check_knn_accuracy(knn_accuracy)

# %% [markdown]
# **Exercise 7.2 — the part constants, from samples alone.** Given only embeddings $\mathbf{w}$
# of shape $(N, K, D)$ produced by eq. 3, recover $\log\lvert\mathbf{w}_k^\text{const}\rvert$ up
# to what cannot be known: return the $(K, D)$ tensor $\log\lvert\mathbf{w}_k^\text{const}\rvert -
# \frac{1}{K}\sum_j \log\lvert\mathbf{w}_j^\text{const}\rvert$. (Hint: section 5's identity; it
# is exact, not an estimate.) Then try it on `g`:
# `part_constants(g.level1.embeddings(torch.randn(100, cfg.generator.z_dim)))`.

# %%
def part_constants(w: torch.Tensor) -> torch.Tensor:
    # YOUR CODE HERE
    raise NotImplementedError


# %%
ex.check_part_constants(part_constants)

# %% [markdown]
# **Exercise 7.3 — what a 2-D map keeps.** Write `neighbourhood_overlap(high, low, k)`: for points
# given twice, as $(N, D)$ in the original space and $(N, 2)$ in a map, the fraction of each
# point's $k$ nearest other points in the original space that are also among its $k$ nearest in
# the map, averaged over points. Then compare T-SNE with PCA on our embeddings:
# `neighbourhood_overlap(X, torch.tensor(Y), 10)` against the same with
# `sklearn.decomposition.PCA(2).fit_transform(X.numpy())`.

# %%
def neighbourhood_overlap(high: torch.Tensor, low: torch.Tensor, k: int) -> float:
    # YOUR CODE HERE
    raise NotImplementedError


# %%
ex.check_neighbourhood_overlap(neighbourhood_overlap)

# %% [markdown]
# ## 7. Lesson check

# %%
# the matrix holds K parts plus the background, N_IMAGES rows each
assert X.shape == (N_IMAGES * (K + 1), cfg.generator.embed_dim)
assert torch.equal(torch.bincount(labels), torch.full((K + 1,), N_IMAGES))
# Fig. 13: every part (and the background) is recognisable from its neighbours, far above chance
for name in ("trained", "untrained"):
    assert scores[name]["5-NN acc, T-SNE plane"] > 0.8, (name, scores[name])
    assert scores[name]["5-NN acc, cosine in R^D"] > 0.8, (name, scores[name])
# eq. 3 in log space: the part constants are recovered exactly from samples
w = g.level1.embeddings(torch.randn(64, cfg.generator.z_dim, generator=torch.Generator().manual_seed(5))).detach()
logs = w.abs().log()
recovered = (logs - logs.mean(dim=1, keepdim=True)).mean(dim=0)
log_c = g.level1.part_const.detach().abs().log()
assert torch.allclose(recovered, log_c - log_c.mean(dim=0, keepdim=True), atol=1e-3)
# ... and separated by construction: a linear classifier on log|w_k| recognises the part of new samples
assert min(lda_accuracy.values()) > 0.85, lda_accuracy  # chance: 1 / K
# no two parts have merged
assert sim_trained[off].max() < 0.95
plt.close("all")
print("lesson 07 checks passed")

# %% [markdown]
# ## Summary
#
# * The paper's Fig. 13: T-SNE of $\mathbf{w}_k$ and $\mathbf{w}_\text{bg}$ of many samples
#   shows one cluster per part, the background included; measured with leave-one-out $k$-NN
#   accuracy the separation is far above chance here too.
# * T-SNE keeps neighbourhoods, not distances or cluster sizes; measure separation in the
#   original space (cosine, because $\mathbf{w}^\text{dynamic}$'s scale varies).
# * By eq. 3, $\log\lvert\mathbf{w}_k\rvert$ is one cloud per image shifted by a per-part
#   constant: parts are separated by construction, from initialisation. The figure's message is
#   that training kept the constants distinct; whether parts land on the same object regions is
#   for the metrics of lesson 09.
#
# **Next — lesson 08:** training the whole generator live — loss curves, samples as it learns,
# what failure looks like — and where the course checkpoint ends.

# %% [markdown]
# ## Review questions
#
# Try to answer each question before opening its answer.
#
# **1.** Why does the lesson measure separation in $\mathbb{R}^D$ with the cosine distance rather
# than the Euclidean one?
#
# <details><summary>Answer</summary>
#
# By eq. 3 every part of an image is multiplied by the same $\mathbf{w}^\text{dynamic}$, whose
# scale varies a lot between images. If it grows by a factor $c$, all $\mathbf{w}_k$ of that image
# grow by $c$: Euclidean distances are dominated by that scale, while the cosine distance ignores
# it and keeps the part identity.
#
# </details>
#
# **2.** Take absolute values and logarithms of eq. 3 coordinate by coordinate. What does the
# result say about why parts are separated even before training?
#
# <details><summary>Answer</summary>
#
# $\log\lvert\mathbf{w}_k\rvert = \log\lvert\mathbf{w}^\text{dynamic}\rvert +
# \log\lvert\mathbf{w}_k^\text{const}\rvert$: every part is the same cloud of image vectors
# shifted by its own constant offset. Two different random constants already give different
# offsets, so the parts are linearly separable from initialisation (the LDA panel). The separation
# is built into the architecture, not learned.
#
# </details>
#
# **3.** In the T-SNE plot the background cluster lies close to one part's cluster and far from
# another's. Can you conclude that $\mathbf{w}_\text{bg}$ is more similar to the first part?
#
# <details><summary>Answer</summary>
#
# No. T-SNE keeps neighbourhoods, not distances: cluster sizes and the distances between clusters
# mean little and change with the perplexity and the seed. To compare, measure in the original
# space (for example cosine similarities or $k$-NN accuracy).
#
# </details>
#
# **4.** $k$-NN accuracy is high, yet the Euclidean silhouette in $\mathbb{R}^D$ is modest or near
# zero. How can both be true?
#
# <details><summary>Answer</summary>
#
# $k$-NN needs only a point's nearest neighbours to share its label. The silhouette compares
# *mean* distances to the own cluster and the nearest other cluster; clusters stretched along the
# directions in which $\mathbf{w}^\text{dynamic}$ varies have large mean distances inside, so
# their silhouette is low even though locally each point is surrounded by its own part.
#
# </details>
#
# **5.** If training made two part constants almost proportional (cosine similarity near 1), what
# would you see, and what would Fig. 13 still not tell you even when all clusters are separate?
#
# <details><summary>Answer</summary>
#
# The two parts' embeddings would be nearly proportional in every image, so in cosine distance
# their clusters would merge: two parts drawing the same thing (the lesson check requires the
# largest off-diagonal similarity to stay below 0.95). Even with separate clusters, Fig. 13 says
# only that a part is always drawn from the same vector, not that it lands on the same object
# region; that is measured by the metrics of lesson 09.
#
# </details>

# %% [markdown]
# ## What to try next
#
# * Change the perplexity in `tsne` (e.g. 5 and 50) or its `seed`, and compare the pictures: the
#   layout changes, while the $k$-NN accuracy in $\mathbb{R}^D$ does not depend on it at all.
# * Replace `LinearDiscriminantAnalysis` with `sklearn.decomposition.PCA(2)` in section 5 and look
#   for parts that now overlap, as the lesson predicts.
# * Build `g_init` with other seeds (`torch.manual_seed(...)` before `Generator(cfg)`) and check
#   that the untrained parts are separated every time, as eq. 3 predicts.
# * Change `N_IMAGES` and see how the scores move; chance accuracy stays $1/(K+1)$.
#
# **Next:** lesson 08 trains the whole generator live and shows what failure looks like.
