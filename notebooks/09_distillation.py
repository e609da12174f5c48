# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Lesson 09 — From generator to segmenter: distillation and the paper's metrics
#
# [![Open in Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/ganseg-course/ganseg-course/blob/v0.1.0/notebooks/09_distillation.ipynb)
#
# The generator draws an image *and* its part masks. That makes it a factory of labelled
# data: sample latents, keep the image and the argmax of its masks, and you have an
# image/label pair no one had to annotate. GANSeg trains an ordinary segmentation network on
# such pairs (the paper: DeepLab V3; the authors' released code: its ResNet-50 version) and then applies it to *real* images,
# where no generator latents exist. This lesson distills a segmenter live, evaluates it with
# the paper's protocols (Sec. 4.1) — landmark regression from part centres and foreground IoU
# — and looks at the detected masks on held-out images.
#
# **After this lesson you can**
# 1. explain why GANSeg needs a second network and what it is trained on;
# 2. write the distillation loss, 0.5 cross-entropy + 0.5 Dice, and say what Dice adds;
# 3. run `segmenter.distill` and measure how well the student imitates its teacher;
# 4. state the evaluation protocols exactly — part centres, regression *without bias*,
#    inter-ocular normalisation, foreground IoU — and the references every number needs;
# 5. read the metrics of a 32-px CPU model against the paper's honestly.
#
# **Runtime:** fast mode (CI) about a minute on a 2-core CPU (a few distillation steps on a
# small evaluation set); full mode about 8 minutes (5 minutes of distillation, the full
# reproduction set). With no shipped checkpoint the lesson first trains a generator for a few
# steps (CI) or 4 minutes. With CUDA the distillation runs on the GPU at a larger batch in the
# same minutes (`course.live_run`, section 5); a GPU could also afford a DeepLabV3-ResNet50
# (`--set segmenter.arch=deeplabv3_resnet50` on the command line).

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
import json
import math
import tempfile
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F

from ganseg_lib import course, viz
from ganseg_lib.evaluation import metrics
from ganseg_lib.config import apply_overrides
from ganseg_lib.evaluation.evaluate import evaluate_segmenter, report
from ganseg_lib.course.exercises import lesson09 as ex
from ganseg_lib.training.segmenter import Segmenter, dice_loss, distill, distillation_loss, generated_pairs, predict
from ganseg_lib.app.shipped import REPRO_TEST, REPRO_TRAIN, fingerprint_differences, metrics_path, reproduction_set

print(course.describe_runtime())

# %% [markdown]
# ## 1. The teacher: a trained generator
#
# As in lesson 07: the shipped course checkpoint when it is there (it also holds the segmenter
# distilled from it), otherwise a generator trained here — for a few steps in fast mode, so
# practically untrained, and the numbers below then measure an untrained pipeline.

# %%
cfg, g, shipped_seg, source = course.load_or_train(lesson="lesson09")
K, S = cfg.generator.n_parts, cfg.generator.image_size
print(f"teacher: {source} ({cfg.name}, {S} px, K = {K}); shipped segmenter: {'yes' if shipped_seg else 'no'}")

# %% [markdown]
# ## 2. Generated pairs
#
# `segmenter.generated_pairs` samples fresh latents, runs the EMA generator in eval mode and
# returns the images and the **argmax** of their $K+1$ masks as a label map (last label =
# background). Every distillation step draws a new batch: the training set is unlimited.

# %%
images, labels = generated_pairs(g, 16, torch.Generator().manual_seed(0), "cpu")
onehot = F.one_hot(labels, K + 1).permute(0, 3, 1, 2).float()
print("images", tuple(images.shape), "| labels", tuple(labels.shape), "| classes present",
      sorted(labels.unique().tolist()))
fig = viz.sample_grid(images, onehot, ncols=8, title="generated pairs: image with its argmax label map")
plt.show()

# %% [markdown]
# ## 3. The loss: cross-entropy plus Dice
#
# The paper names the network (DeepLab V3) but not its loss; the authors' released code trains
# it with an equal mix of cross-entropy and Dice, and so does the library. With softmax
# probabilities $P_c(\mathbf{p})$ and one-hot labels $G_c(\mathbf{p})$ over $C = K + 1$ classes,
#
# $$\mathcal{L} = \tfrac12\,\underbrace{\frac{1}{|\Omega|}\sum_{\mathbf{p}} -\log P_{y(\mathbf{p})}(\mathbf{p})}_{\text{cross-entropy}}
# + \tfrac12\,\underbrace{\frac{1}{C}\sum_{c}\Big(1 - \frac{2\sum_{\mathbf{p}} P_c G_c + \epsilon}{\sum_{\mathbf{p}} P_c + \sum_{\mathbf{p}} G_c + \epsilon}\Big)}_{\text{Dice}},$$
#
# sums over the batch and all pixels $\Omega$, $\epsilon = 1$. (The released code computes Dice
# per image and averages the images; the library pools the batch, as written here. The two
# differ most for a part that is small or absent in some of the images.) Cross-entropy counts pixels, so
# the large background dominates it; Dice scores each class by its *overlap ratio*, so a small
# part weighs as much as the background. You write Dice in exercise 9.1; here we check the
# cross-entropy half by hand against the library's total:

# %%
logits = torch.randn(4, K + 1, S, S, generator=torch.Generator().manual_seed(1)) * 2
ce_by_hand = -logits.log_softmax(dim=1).gather(1, labels[:4, None]).mean()
total = distillation_loss(logits, labels[:4])
assert torch.allclose(total, 0.5 * ce_by_hand + 0.5 * dice_loss(logits, labels[:4]), atol=1e-6)
print(f"cross-entropy {ce_by_hand:.3f}, Dice {dice_loss(logits, labels[:4]):.3f}, total {total:.3f} (random logits)")

# %% [markdown]
# ## 4. The student network
#
# Any segmentation network works; what matters is that it sees only the image. The paper uses
# DeepLab V3; the authors' code takes torchvision's **DeepLabV3-ResNet50** (atrous convolutions
# and an atrous spatial pyramid pooling head, 40 M parameters). For 32-px images on a CPU the course presets use
# **LR-ASPP MobileNetV3-Large** (3 M parameters). Both are built *without* pretrained
# weights (`weights=None`): nothing is downloaded, and no ImageNet features sneak in — the
# segmenter knows only what the generator taught it. Both compute their heads on a reduced
# grid: DeepLabV3-ResNet50 at 1/8 of the input (torchvision dilates ResNet's last two stages
# instead of striding them), LR-ASPP at 1/16 (dilated last MobileNet stage) with a 1/8
# low-level branch. A 32-px image would leave a 4 x 4 or 2 x 2 feature grid, so `Segmenter`
# first enlarges the input by `cfg.segmenter.input_scale` and resizes the logits back.

# %%
x = torch.randn(8, 3, S, S)
for arch in ("deeplabv3_resnet50", cfg.segmenter.arch):
    net = Segmenter(arch, K + 1, cfg.segmenter.input_scale).eval()
    start = time.perf_counter()
    with torch.no_grad():
        out_shape = tuple(net(x).shape)
    print(f"{arch:28s} {sum(p.numel() for p in net.parameters()) / 1e6:5.1f} M parameters, "
          f"forward of 8 images at {S} px (seen at {S * cfg.segmenter.input_scale} px): "
          f"{time.perf_counter() - start:.2f} s -> {out_shape}")
del net

# %% [markdown]
# ## 5. Distill, live
#
# `segmenter.distill(cfg, g_ema, out_path, steps=..., callback=..., stop=...)` runs the loop:
# fresh pairs, the loss above, Adam (lr from `cfg.segmenter`); at the end it re-estimates the
# segmenter's BatchNorm statistics on a few dozen generated batches (MobileNet's running
# averages lag behind its weights after a short training) and saves it. We record the loss at
# every step through the callback and stop on a time budget in full mode.
#
# The device and the batch come from `course.live_run()`, the one place the course sizes its
# live runs: on a CPU the segmenter's own batch, with CUDA a batch of 128 on the GPU, in the same
# five minutes. The GPU setting has not been measured yet; expect many more images seen in those
# minutes, but how much that lowers the loss or changes the metrics below is not known here.

# %%
DISTILL_STEPS = course.pick(4, cfg.segmenter.steps)
DISTILL_MINUTES = course.pick(None, 5.0)
curve = []
deadline = None if DISTILL_MINUTES is None else time.perf_counter() + 60 * DISTILL_MINUTES
seg_path = Path(tempfile.mkdtemp(prefix="ganseg-lesson09-")) / "segmenter.pt"
live = course.live_run()  # CPU: the segmenter's own batch; CUDA: a larger batch, same minutes
distill_cfg = apply_overrides(cfg, [*live.distill_overrides,
                                    *course.pick(["segmenter.bn_recalibration=2"], [])])  # CI: a short BatchNorm re-estimate
seg = distill(distill_cfg, g, seg_path, steps=DISTILL_STEPS, progress=False, device=live.device.type,
              callback=lambda step, loss: curve.append(loss),
              stop=None if deadline is None else (lambda step: time.perf_counter() > deadline))
g, seg = g.cpu(), seg.cpu()  # distill moved them to its device; the cells below run on the CPU
print(f"distilled {len(curve)} steps of batch {distill_cfg.segmenter.batch} on {live.device.type}; "
      f"loss {curve[0]:.3f} -> {curve[-1]:.3f}")
smooth = np.convolve(curve, np.ones(min(25, len(curve))) / min(25, len(curve)), mode="valid")
fig = viz.curve_panels({"distillation loss (0.5 CE + 0.5 Dice)": {"per step": (range(1, len(curve) + 1), curve),
                                                                   "running mean": (range(len(curve) - len(smooth) + 1, len(curve) + 1), smooth)}},
                       xlabel="step", panel_inches=5.5)
plt.show()

# %% [markdown]
# How well does the student imitate its teacher? On *new* generated pairs we compare its
# argmax with the generator's labels: pixel accuracy and the mean IoU over the $K+1$ classes.
# This measures distillation only — a perfect student of a poor teacher is still poor.

# %%
def teacher_agreement(model, gen, n: int = 64, seed: int = 99) -> dict[str, float]:
    imgs, truth = generated_pairs(gen, n, torch.Generator().manual_seed(seed), "cpu")
    pred = predict(model, imgs).argmax(dim=1)
    ious = []
    for c in range(K + 1):
        union = ((pred == c) | (truth == c)).sum()
        if union > 0:
            ious.append((((pred == c) & (truth == c)).sum() / union).item())
    return {"pixel accuracy": (pred == truth).float().mean().item(), "mean IoU": float(np.mean(ious))}


students = {"distilled here": seg} | ({"shipped segmenter": shipped_seg} if shipped_seg is not None else {})
for name, model in students.items():
    print(f"{name:18s}", {k: round(v, 3) for k, v in teacher_agreement(model, g).items()})

# %% [markdown]
# ## 6. The paper's metrics
#
# Now the real test: labelled images the generator never drew. We use the course's fixed
# *reproduction set* (synthetic faces rendered from a recorded seed, with five MAFL-style
# landmarks, a foreground mask and part labels; its first images fit the regression, the rest
# are scored). The protocols, as in `ganseg_lib/metrics.py`:
#
# * **Part centres** of the detected soft masks,
#   $\mathbf{c}_k = \sum_\mathbf{p} M_k(\mathbf{p})\,\mathbf{p} \,/\, \sum_\mathbf{p} M_k(\mathbf{p})$,
#   background excluded: $2K$ numbers per image.
# * **Landmark regression without bias** (MAFL protocol, Table 1): a linear map $W$ from the $2K$
#   centres to the 10 landmark coordinates, fitted by least squares on the train split,
#   $\hat{\mathbf{L}} = \mathbf{c}\,W$. No intercept: that is the convention of the protocol the
#   paper follows (Hung et al. [17], Liu et al. [32]), not a safeguard. Parts at the same place in every
#   image still reach the mean shape without a bias, because their constant centres act as one;
#   only centres that *move* with the face can beat it, which is why the mean shape is the
#   reference every number is read against.
# * **Error**: per test image, $\frac{1}{5}\sum_l \lVert \hat{\mathbf{L}}_l - \mathbf{L}_l\rVert /
#   \lVert \mathbf{L}_\text{eye 1} - \mathbf{L}_\text{eye 2}\rVert$, averaged, in %.
# * **Foreground IoU** (Table 2): predicted foreground = argmax is not the background;
#   $|P \cap G| / |P \cup G|$ per image, averaged.
#
# A number alone says little, so every one comes with **references**: the *mean shape* (every
# test face gets the average landmarks), *localisation only* (regression, with bias, from the
# ground-truth foreground centroid: how much is just finding the face), *ground-truth parts*
# (the same protocol from the true part centres: roughly the best part centres can do), and
# for IoU, predicting everything or a centre box as foreground.

# %%
n_train, n_test = course.pick((128, 64), (REPRO_TRAIN, REPRO_TEST))
eval_train, eval_test, eval_prints = reproduction_set("faces", S, n_train=n_train, n_test=n_test)
results, test_masks = {}, {}
for name, model in students.items():
    results[name], test_masks[name] = evaluate_segmenter(model, eval_train, eval_test)


def summary_row(r: dict) -> str:
    lm, fg = r["landmarks"], r["foreground"]
    return (f"landmark error {lm['error_pct']:6.1f} %  ({lm['x_mean_shape']:.2f} x mean shape)   "
            f"fg IoU {fg['iou']:.3f}")


print(f"{n_train} images fit the regression, {n_test} are scored ({S} px synthetic faces in the wild)")
for name, r in results.items():
    print(f"{name:18s} {summary_row(r)}")
first = next(iter(results.values()))
refs, iou_refs = first["landmarks"]["references_pct"], first["foreground"]["references"]
print("references:        " + ", ".join(f"{k.replace('_', ' ')} {v:.1f} %" for k, v in refs.items())
      + f" | IoU: all foreground {iou_refs['all_foreground']:.3f}, centre box {iou_refs['centre_box']:.3f}")

# %% [markdown]
# ## 7. Detected masks on held-out faces
#
# Colours are the detected parts (background left as it is), crosses their centres
# $\mathbf{c}_k$, white dots the ground-truth landmarks. This is the paper's Fig. 22 for our
# data.

# %%
best = "shipped segmenter" if "shipped segmenter" in results else "distilled here"
fig = viz.segmentation_overlays(eval_test.images[:16], test_masks[best][:16], eval_test.landmarks[:16], ncols=8,
                                title=f"{best}: detected masks on held-out synthetic faces")
plt.show()

# %% [markdown]
# **How to read these numbers, honestly.** The paper reports 6.18 % on CelebA in the wild with
# $K = 8$ and 12.26 % with $K = 4$ (Table 1, Table 7), from 128-px generators trained for 30,000
# iterations on a GPU and a DeepLabV3-ResNet50 distilled for 10,000 steps. The course's model is
# a 32-px, $K = 4$ generator trained for minutes on a CPU, distilled into a MobileNet for
# minutes more, on synthetic faces. Expect it to beat the mean shape clearly only when the shipped
# checkpoint is loaded; to approach the *localisation only* reference (finding the face gets
# most of the way, because synthetic faces in the wild move a lot); and to stay far from the
# ground-truth-parts reference, which is what parts aligned with eyes, nose and mouth would
# give. In fast mode without a checkpoint, the teacher is untrained and the numbers sit at the
# references' level: the pipeline runs, the model has learned nothing yet. Lesson 10 puts
# these numbers next to the paper's tables.
#
# ## 8. Exercises
#
# **Exercise 9.1 — the Dice loss.** Write `soft_dice(logits, labels)` for logits $(B, C, H, W)$
# and integer labels $(B, H, W)$: the Dice term of section 3 as a 0-d tensor.

# %%
def soft_dice(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    # YOUR CODE HERE
    raise NotImplementedError


# %%
ex.check_dice_loss(soft_dice)

# %% [markdown]
# **Exercise 9.2 — part centres.** Write `part_centres(masks)` for soft masks $(N, K+1, H, W)$
# (last channel = background): the mask-weighted mean $(x, y)$ of each part, $(N, K, 2)$, with
# pixel centres at $x = (\text{col} + 0.5)\cdot 2/W - 1$ and $y = (\text{row} + 0.5)\cdot 2/H - 1$.

# %%
def part_centres(masks: torch.Tensor) -> torch.Tensor:
    # YOUR CODE HERE
    raise NotImplementedError


# %%
ex.check_part_centres(part_centres)

# %% [markdown]
# **Exercise 9.3 — the landmark error.** Write `landmark_error(train_centres, train_landmarks,
# test_centres, test_landmarks)` with numpy arrays $(N, K, 2)$ and $(N, 5, 2)$: the MAFL
# protocol of section 6 (least squares without bias, e.g. `np.linalg.lstsq`), in percent.

# %%
def landmark_error(train_centres, train_landmarks, test_centres, test_landmarks) -> float:
    # YOUR CODE HERE
    raise NotImplementedError


# %%
ex.check_landmark_error(landmark_error)

# %% [markdown]
# ## 9. Lesson check

# %%
# the distillation loss is 0.5 CE + 0.5 Dice, and distillation ran and saved a segmenter
assert torch.allclose(total, 0.5 * ce_by_hand + 0.5 * dice_loss(logits, labels[:4]), atol=1e-6)
assert len(curve) >= 1 and all(math.isfinite(v) for v in curve) and seg_path.exists()
if not course.fast_mode():
    assert np.mean(curve[-20:]) < np.mean(curve[:20]), "the distillation loss should fall"
# the protocol: part centres of the test masks, regression without bias, inter-ocular error in %
r = results["distilled here"]
centres_train = metrics.part_centers(predict(seg, eval_train.images))
centres_test = metrics.part_centers(test_masks["distilled here"])
recomputed = metrics.mafl_landmark_error(centres_train, eval_train.landmarks, centres_test, eval_test.landmarks)
assert abs(recomputed - r["landmarks"]["error_pct"]) < 1e-6, (recomputed, r["landmarks"]["error_pct"])
fg = metrics.foreground_from_masks(test_masks["distilled here"])
assert abs(metrics.foreground_iou(fg, eval_test.fg_masks) - r["foreground"]["iou"]) < 1e-9
# the references are ordered as they must be: true part centres beat the mean shape
assert refs["ground_truth_parts"] < refs["localisation_only"] < refs["mean_shape"]
# a shipped checkpoint beats the mean shape, and in full mode reproduces its recorded metrics
if shipped_seg is not None:
    assert results["shipped segmenter"]["landmarks"]["x_mean_shape"] < 1.0
    record = json.loads(metrics_path(course.shipped_checkpoint("faces")).read_text())["reproduce"]
    if (n_train, n_test) == (record["n_train"], record["n_test"]):
        # the same images as when it was recorded, up to another CPU's rounding (a few pixels, one level)
        assert not fingerprint_differences(eval_prints, record["fingerprints"]["images"])
        recorded = record["metrics"]["landmarks"]["error_pct"]
        assert abs(results["shipped segmenter"]["landmarks"]["error_pct"] - recorded) < 1e-3 * max(1, recorded)
plt.close("all")
print("lesson 09 checks passed")

# %% [markdown]
# ## Summary
#
# * The generator is a labelled-data factory: image + argmax of its masks. A segmentation
#   network trained on such pairs (0.5 CE + 0.5 Dice) is what GANSeg applies to real images.
# * Teacher agreement measures the distillation; the paper's metrics measure the whole
#   pipeline on held-out labelled images.
# * Landmarks: part centres of the detected masks, a linear map *without bias* to the
#   landmarks, error in % of the inter-ocular distance; foreground: IoU of argmax ≠ background.
# * Always read them against references (mean shape, localisation only, ground-truth parts;
#   all-foreground and centre-box IoU).
#
# **Next — lesson 10:** the numbers next to the paper's tables, an ablation at small scale, and
# how fast each stage runs.

# %% [markdown]
# ## Review questions
#
# Try to answer each question before opening its answer.
#
# **1.** Why is the distillation training set unlimited, and what does the segmenter never get to
# see that the generator had?
#
# <details><summary>Answer</summary>
#
# Every step samples fresh latents, so every batch is a new set of image/label pairs. The
# segmenter sees only the image, never the latents or the points, which is exactly why it can be
# applied to real images, where no latents exist.
#
# </details>
#
# **2.** A part covers few pixels and the background most of the image. In which half of the loss
# do the errors on that small part weigh more, and why?
#
# <details><summary>Answer</summary>
#
# In the Dice half. Cross-entropy averages over pixels, so a small part contributes only its few
# pixels and the background dominates. Dice scores each class by its overlap ratio and averages
# over the $C = K+1$ classes, so a small part weighs as much as the background.
#
# </details>
#
# **3.** Why is the landmark error divided by the inter-ocular distance?
#
# <details><summary>Answer</summary>
#
# To make it independent of the face's size in the image: a face twice as large gives twice the
# pixel error for the same relative mistake. Dividing by the distance between the eyes expresses
# the error as a fraction of the face's own scale, so images and datasets can be compared.
#
# </details>
#
# **4.** The student agrees closely with its teacher on new generated pairs. Why is that not yet
# evidence that it segments faces well?
#
# <details><summary>Answer</summary>
#
# Teacher agreement measures distillation only: a perfect student of a poor teacher is still poor.
# Whether the parts sit on consistent object regions is measured on held-out labelled images with
# the paper's protocols, read against the references.
#
# </details>
#
# **5.** Why does `Segmenter` enlarge a 32-px input by `input_scale` before the network?
#
# <details><summary>Answer</summary>
#
# Both networks compute their heads on a reduced grid, DeepLabV3-ResNet50 at 1/8 and LR-ASPP at
# 1/16 of the input (with a 1/8 low-level branch). A 32-px image would leave a 4 x 4 or 2 x 2
# feature grid, far too coarse for parts; enlarging the input, then resizing the logits back,
# keeps enough resolution.
#
# </details>

# %% [markdown]
# ## What to try next
#
# * Change `DISTILL_STEPS` or `DISTILL_MINUTES` and rerun sections 5 and 6: how do the teacher
#   agreement and the landmark error move with more distillation?
# * Add `"segmenter.input_scale=1"` to the overrides of `distill_cfg` and compare the teacher
#   agreement with the default: what does a coarse feature grid cost?
# * Extend `teacher_agreement` to print the IoU of every class, and find which part the student
#   imitates worst.
# * Compare the printed landmark error with the three references (mean shape, localisation only,
#   ground-truth parts) and decide which of them your model beats.
#
# **Next:** lesson 10 puts these numbers next to the paper's tables, runs a small ablation, and
# measures speed.
