# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Lesson 10 — Benchmarks: the paper's tables, an ablation, and speed
#
# [![Open in Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/ganseg-course/ganseg-course/blob/v0.1.0/notebooks/10_benchmarks.ipynb)
#
# The last lesson puts numbers side by side: what the paper reports, what the course's models
# reach, what one design choice is worth when everything else is held fixed, and what each
# stage costs in time. The point is as much *how* to compare as the comparison itself: on the
# same protocol, against references, with an uncertainty, at an equal budget.
#
# **After this lesson you can**
# 1. find GANSeg's headline numbers and ablations in the paper's tables and say what each
#    measures;
# 2. place the course checkpoint's metrics next to them and explain the gap;
# 3. run a small ablation (the concentration loss removed) at an equal budget and decide, with
#    a paired difference and a bootstrap interval, whether a difference is real;
# 4. measure training speed per preset and extrapolate what the paper's schedule costs.
#
# **Runtime:** fast mode (CI) about a minute on a 2-core CPU (every stage a few steps: the
# ablation then compares two untrained models, and says so). Full mode trains and distills two
# models for about 7 minutes each, about 17 minutes in all, on the CPU. The speed section times
# the GPU when there is one (and then includes the paper preset in fast mode too).

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
import scipy.stats
import torch

from data_prep.synthetic import DOMAINS, render
from ganseg_lib import PRESETS, Discriminator, Generator, course, losses, viz
from ganseg_lib.config import apply_overrides, get_preset
from ganseg_lib.evaluation.evaluate import evaluate_segmenter, report
from ganseg_lib.course.exercises import lesson10 as ex
from ganseg_lib.training.segmenter import distill, predict
from ganseg_lib.app.shipped import REPRO_TEST, REPRO_TRAIN, metrics_path, reproduction_set
from ganseg_lib.evaluation import metrics
from ganseg_lib.training.gan import TrainOptions, iteration, real_batch, train
from ganseg_lib.training.state import build_state

print(course.describe_runtime())
FAST = course.fast_mode()

# %% [markdown]
# ## 1. The paper's numbers
#
# GANSeg's results, as printed in the paper (K = 8 unless noted). Landmark errors follow the
# MAFL protocol of lesson 09 (lower is better); foreground IoU higher is better; Taichi's MAE is
# the sum over 18 keypoints of the pixel error.

# %%
PAPER = {  # (table, dataset and setting, metric, GANSeg's value)
    "T1 CelebA aligned, K = 10": ("landmark error %", 3.98),
    "T1 CelebA in the wild, K = 4": ("landmark error %", 12.26),
    "T1 CelebA in the wild, K = 8": ("landmark error %", 6.18),
    "T2 CUB": ("foreground IoU", 0.629),
    "T2 Flowers": ("foreground IoU", 0.739),
    "T3 Taichi, K = 10": ("MAE (px, summed) / fg IoU", "417.17 / 0.8538"),
}
PAPER_K = {  # Table 7: number of parts K, CelebA in the wild (landmark %) and CUB (IoU)
    "K": [1, 4, 8, 12, 16, 32],
    "CelebA in the wild, landmark %": [56.23, 12.26, 6.18, 6.17, 6.71, 7.00],
    "CUB, foreground IoU": [0.631, 0.607, 0.629, 0.663, 0.692, 0.380],
}
PAPER_ABLATIONS = {  # Appendix F, CelebA in the wild, landmark error %
    "original (K = 8, n_per = 4, sigma from points)": 6.18,
    "fixed sigma (Table 5)": 26.32,
    "n_per = 3 / 6 / 8 (Table 6)": "6.08 / 8.84 / 13.02",
}
for name, (metric, value) in PAPER.items():
    print(f"{name:32s} {metric:28s} {value}")
print()
for name, value in PAPER_ABLATIONS.items():
    print(f"{name:48s} {value}")
fig = viz.curve_panels({name: {"GANSeg (Table 7)": (PAPER_K["K"], values)}
                        for name, values in PAPER_K.items() if name != "K"},
                       xlabel="number of parts K", title="the paper's K ablation: too few parts hurt, too many degenerate")
plt.show()

# %% [markdown]
# Two readings of Table 7 matter for this course. With $K = 1$ the landmark error is 56 %: a
# single part can only localise the face, like our "localisation only" reference. From $K = 4$
# to $K = 8$ it halves, because more parts can sit on distinct facial regions. Beyond that it
# stops improving and at $K = 32$ the model fails to separate foreground from background. Our
# CPU presets use $K = 4$, so the paper's comparable number is **12.26 %**, not 6.18 %.
#
# ## 2. The course checkpoints next to the paper
#
# Each shipped checkpoint records its metrics on a fixed reproduction set (lesson 09) and,
# when it was made by a run that evaluated itself, that run's own metrics. The data are
# synthetic, 32 px, rendered by `data_prep`; the paper's are real photographs at 128 px.

# %%
shipped = {domain: course.shipped_checkpoint(domain) for domain in DOMAINS}
shipped = {domain: path for domain, path in shipped.items() if path is not None}
records = {domain: json.loads(metrics_path(path).read_text()) for domain, path in shipped.items()
           if metrics_path(path).exists()}
if not records:
    print("No course checkpoint in this copy of the course: section 3 trains two small models instead.")
for domain, record in records.items():
    src = record.get("source", {})
    print(f"== {record['file']} ({record['preset']}, {src.get('gan_steps', '?')} GAN iterations in "
          f"{src.get('gan_minutes', '?')} min, segmenter {src.get('distill_steps', '?')} steps)")
    print(report(record["reproduce"]["metrics"]))
    if record.get("run_metrics"):
        print("  the run's own evaluation:")
        print(report(record["run_metrics"]))

# %% [markdown]
# **Why the gap.** Against the paper's 12.26 % for $K = 4$ in the wild, a 32-px model trained
# for minutes on a CPU reaches far larger errors, for reasons we can list:
# * **iterations:** the paper updates its generator 30,000 times at batch 64; the course
#   checkpoint gets a fraction of that at batch 16, and lesson 08 showed parts only start
#   to take stable roles after thousands of iterations;
# * **capacity and resolution:** 0.1 M instead of 17.8 M generator parameters, 32 instead of
#   128 px — eyes are a couple of pixels wide;
# * **the segmenter:** a MobileNet distilled for minutes, not a DeepLabV3-ResNet50 for 10,000
#   steps;
# * **the data:** synthetic faces move, rotate and scale more than MAFL's, which is why the
#   mean-shape reference is so weak here and "localisation only" is the one to beat.
# The references (mean shape, localisation only, ground-truth parts) are what make these
# numbers readable at all.
#
# ## 3. An ablation at small scale: the concentration loss
#
# The paper's Fig. 9 removes components one at a time and shows the masks degrade. We repeat
# one removal at an equal budget: the same data, preset, seed, training time and
# distillation time, with $\lambda_\text{con} = 0$ in one run. Add entries to `ABLATIONS` to try
# others, e.g. `["loss.lambda_area=0"]` or `["generator.n_parts=2"]`.
#
# Both runs start from the **course recipe**, `course.COURSE_RECIPE`, the one the shipped
# checkpoint and lesson 08 were trained with: the `cpu-tiny` preset ($K = 4$) with
# $\lambda_\text{con} = 3$. Where does 3 come from? The presets keep the paper's Table-4 weight
# $\lambda_\text{con} = 10$, tuned for $K = 8$. For other $K$ the paper's Appendix F.4 scales it,
# $\lambda_\text{con}(K) = C_\text{con} K$ (eq. 26), because few parts with a strong
# concentration loss fall into trivial or poor solutions; with $C_\text{con} = 1.25$ for CelebA
# in the wild, $K = 4$ gives 5 (exercise 10.1). The shipped run used 3, chosen by experiment:
# at 10 the four parts stayed compact, hair and shoulders fell
# to the background and foreground IoU stopped near 0.6, while 3 from the start reached 0.83
# (`checkpoints/README.md`). 5 has not been tried at this scale. The course keeps 3 because it is
# what the shipped checkpoint was measured with, so that every lesson's live run can be read
# against it; `ABLATIONS` below takes `["loss.lambda_con=5"]` to try eq. 26's value.

# %%
ABLATIONS = {
    "course recipe": [],
    "no concentration loss": ["loss.lambda_con=0"],
}
GAN_MINUTES, DISTILL_MINUTES = course.pick((None, None), (5.0, 2.0))
DEVICE = course.default_device()  # 32 px on every device: the scoring set below is 32 px
if FAST:
    BUDGET = ["train.steps=3", "train.batch=8", "segmenter.batch=8", "segmenter.bn_recalibration=2"]
    DISTILL_STEPS = 3
else:
    BUDGET = ["train.steps=1000000"]  # the time budget stops it
    DISTILL_STEPS = None  # cfg.segmenter.steps, or the time budget
train_images = render("faces", course.pick(128, 6000), 32, seed=0).images
n_train, n_test = course.pick((128, 64), (REPRO_TRAIN, REPRO_TEST))
eval_train, eval_test, _ = reproduction_set("faces", 32, n_train=n_train, n_test=n_test)


def per_image_errors(model, train_split, test_split) -> np.ndarray:
    """MAFL landmark error of every test image, in % (lesson 09's protocol, kept per image)."""
    c_train = metrics.part_centers(predict(model, train_split.images))
    c_test = metrics.part_centers(predict(model, test_split.images))
    reg = metrics.fit_linear(c_train, train_split.landmarks, bias=False)
    pred = reg.predict(c_test.reshape(len(c_test), -1)).reshape(test_split.landmarks.shape)
    return 100 * metrics.interocular_error(pred, test_split.landmarks)


def mask_geometry(gen, n: int = 64) -> dict[str, float]:
    """How the generator's own masks look: concentration (eq. 16), mask centroid vs x_k, areas."""
    with torch.no_grad():
        out = gen(gen.sample_latents(n, generator=torch.Generator().manual_seed(11)))
    part_masks = out.masks[:, :-1]
    offset = np.linalg.norm(metrics.part_centers(out.masks) - out.part_centers.double().numpy(), axis=-1)
    return {"concentration (eq. 16)": losses.concentration_loss(part_masks, out.part_centers).item(),
            "|mask centroid - x_k|": float(offset.mean()),
            "background area": out.masks[:, -1].mean().item()}


def run_variant(name: str, overrides: list[str]) -> dict:
    cfg = apply_overrides(get_preset("cpu-tiny"), [*course.COURSE_RECIPE, *BUDGET, *overrides])
    run = Path(tempfile.mkdtemp(prefix="ganseg-lesson10-"))
    state = train(cfg, train_images, run, TrainOptions(
        seed=0, progress=False, time_budget_s=None if GAN_MINUTES is None else 60 * GAN_MINUTES,
        device=DEVICE.type))
    deadline = None if DISTILL_MINUTES is None else time.perf_counter() + 60 * DISTILL_MINUTES
    seg = distill(state.cfg, state.g_ema, run / "segmenter.pt", steps=DISTILL_STEPS, progress=False,
                  device=DEVICE.type, stop=None if deadline is None else (lambda step: time.perf_counter() > deadline))
    state.g_ema.cpu()  # distill moved both to DEVICE; the scoring below runs on the CPU
    seg.cpu()
    result, test_masks = evaluate_segmenter(seg, eval_train, eval_test)
    print(f"{name}: {state.step} GAN iterations ({state.elapsed / 60:.1f} min)")
    return {"result": result, "errors": per_image_errors(seg, eval_train, eval_test),
            "geometry": mask_geometry(state.g_ema), "iterations": state.step, "g": state.g_ema}


runs = {name: run_variant(name, overrides) for name, overrides in ABLATIONS.items()}

# %%
table = {name: {"landmark error %": r["result"]["landmarks"]["error_pct"],
                "foreground IoU": r["result"]["foreground"]["iou"], **r["geometry"]} for name, r in runs.items()}
base = next(iter(runs.values()))["result"]
refs = {"landmark error %": {"mean shape": base["landmarks"]["references_pct"]["mean_shape"],
                             "localisation only": base["landmarks"]["references_pct"]["localisation_only"]},
        "foreground IoU": {"all foreground": base["foreground"]["references"]["all_foreground"]}}
fig = viz.metric_bars(table, refs, title=f"ablation at an equal budget ({'a few steps: untrained models' if FAST else f'{GAN_MINUTES:g} + {DISTILL_MINUTES:g} min each'})")
plt.show()
for name, r in runs.items():
    with torch.no_grad():
        samples = r["g"](r["g"].sample_latents(8, generator=torch.Generator().manual_seed(5)))
    fig = viz.sample_grid(samples.image, samples.masks, samples.points, samples.part_centers, ncols=8,
                          title=f"{name}: generated samples, masks and points")
    plt.show()

# %% [markdown]
# Which differences are real? Each model's mean error gets a **bootstrap** interval: resample
# the test images with replacement many times and see how much the mean moves. Both models
# were scored on the *same* images, so their difference is judged **paired**, image by image
# (a paired t-test): an image that is hard for one model is usually hard for the other, and
# pairing removes that shared part of the noise. SciPy does both here; exercises 10.2 and 10.3
# build them by hand.

# %%
names = list(runs)
errors = {name: torch.tensor(r["errors"]) for name, r in runs.items()}
for name in names:
    ci = scipy.stats.bootstrap((r := runs[name]["errors"],), np.mean, n_resamples=2000, method="percentile",
                               random_state=0).confidence_interval
    print(f"{name:24s} landmark error {r.mean():6.2f} %  (95 % bootstrap interval {ci.low:.2f} - {ci.high:.2f})")
for other in names[1:]:
    diff = runs[other]["errors"] - runs[names[0]]["errors"]
    test = scipy.stats.ttest_rel(runs[other]["errors"], runs[names[0]]["errors"])
    verdict = "a real difference" if test.pvalue < 0.05 else "within noise"
    print(f"{other} minus {names[0]}: {diff.mean():+.2f} % (paired t-test p = {test.pvalue:.2g}) -> {verdict}")

# %% [markdown]
# What to expect. The mask geometry responds first: without the concentration loss, nothing
# ties a part's mask to its centre $\mathbf{x}_k$, so eq. 16's value and the distance between a
# mask's centroid and $\mathbf{x}_k$ grow — the masks spread or drift, as in the paper's Fig. 9.
# The landmark error needs long training before it separates the variants; at a few CPU
# minutes the two are usually within noise of each other and of the localisation-only
# reference. That is the honest result at this scale, and the paired test is what tells us so.
# In fast mode (CI) both models are untrained and every difference is noise.
#
# ## 4. Speed
#
# `make bench` (`benchmarks/bench_speed.py`) measures every stage per preset in fresh
# processes and writes `benchmarks/results/speed.json`. We show that file when you have made it,
# else the report measured for this project on a 2-core CPU (`benchmarks/measured/`); in any
# case we time a few training iterations live.

# %%
bench = course.repo_root() / "benchmarks" / "results" / "speed.json"
if not bench.exists():
    bench = course.repo_root() / "benchmarks" / "measured" / "speed.json"
if bench.exists():
    print("report:", bench.relative_to(course.repo_root()))
    bench_report = json.loads(bench.read_text())
    fig = viz.speed_report(bench_report)
    plt.show()
    for row in bench_report["results"]:
        if row.get("stage") == "train_iteration" and not row.get("error"):
            print(f"{row['label']:20s} train iteration, batch {row['batch']:3d}: {row['images_per_s']:8.1f} images/s")
else:
    print("no benchmarks/results/speed.json yet (run `make bench`); timing live instead")


def time_iterations(preset: str, batch: int, iterations: int, device: torch.device) -> float:
    """Seconds per training iteration (`gan.iteration`: D step with R1, G step with the mask losses, EMA)."""
    cfg = apply_overrides(get_preset(preset), [f"train.batch={batch}"])
    st = build_state(cfg, device, seed=0)
    size = cfg.generator.image_size
    reals = torch.randint(0, 256, (batch, 3, size, size), dtype=torch.uint8)
    index = torch.arange(batch)
    rng = torch.Generator().manual_seed(0)

    def one():  # step 0 is on every lazy interval: R1 and the mask losses both run (the slowest kind)
        iteration(st, cfg, real_batch(reals, index, device), st.g.sample_latents(batch, rng, device),
                  st.g.sample_latents(batch, rng, device), step=0)

    one()  # warm-up
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(iterations):
        one()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / iterations


device = course.default_device()
jobs = [("cpu-tiny", 16, course.pick(2, 10)), ("cpu-small", 16, course.pick(1, 5))]
if not FAST or device.type == "cuda":
    jobs.append(("paper-celeba-wild", 8 if device.type == "cuda" else 2, 2))
def forward_gflop(preset: str) -> float:
    """GFLOP of one generator forward pass for one image, counted by torch's FlopCounterMode."""
    from torch.utils.flop_counter import FlopCounterMode
    gen = Generator(PRESETS[preset]).eval()
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        gen(gen.sample_latents(1, generator=torch.Generator().manual_seed(0)))
    return counter.get_total_flops() / 1e9


speed = {}
for preset, batch, iterations in jobs:
    seconds = time_iterations(preset, batch, iterations, device)
    g_params = sum(p.numel() for p in Generator(PRESETS[preset]).parameters()) / 1e6
    gflop = forward_gflop(preset)
    speed[preset] = {"s/iteration": seconds, "images/s": batch / seconds, "batch": batch, "G params (M)": g_params,
                     "G forward GFLOP/image": gflop}
    print(f"{preset:18s} G {g_params:6.2f} M params, {gflop:8.3g} GFLOP per forward, batch {batch:3d}: "
          f"{seconds:7.3f} s/iteration, {batch / seconds:8.3g} images/s on {device.type}")

# %%
PAPER_ITERATIONS, PAPER_BATCH = 30_000, 64
for preset, s in speed.items():
    hours = PAPER_ITERATIONS * PAPER_BATCH / s["images/s"] / 3600
    print(f"{preset:18s} {PAPER_ITERATIONS} iterations at batch {PAPER_BATCH} (the paper's schedule) would take "
          f"~{hours:,.1f} h on this machine")
if "paper-celeba-wild" not in speed:
    print("(the paper preset is timed in full mode or on a GPU)")

# %% [markdown]
# The paper's generator, 17.8 M parameters at 128 px, needs well over a thousand times the
# arithmetic of `cpu-tiny` per image (the GFLOP column; the full-mode run also times it); its
# schedule (30,000 iterations at batch 64, about 2 million images) takes months on the 2-core
# CPU this course was measured on — the estimate printed above in full mode, from the images per
# second — and weeks at best on a faster laptop. A GPU brings it down to hours or days; this
# course has not measured that yet, so read the speed section on a GPU for a number. That is
# why the course's models are small, and why the gap in section 2 is expected rather than a
# defect. With a GPU, `ganseg train --preset paper-celeba-wild
# --device cuda --bf16` runs the paper's configuration; `torchrun` spreads it over several.
#
# ## 5. Exercises
#
# **Exercise 10.1 — eq. 26.** For the $K$ ablation the paper scales the concentration weight with
# the number of parts, $\lambda_\text{con}(K) = C_\text{con} K$, with $C_\text{con} = 1.25$ for
# CelebA in the wild. Give $\lambda_\text{con}$ for $K = 4$ and $K = 16$ as a dict `{4: ..., 16: ...}`.

# %%
lambda_con_for = ...  # YOUR ANSWER HERE

# %%
ex.check_lambda_con(lambda_con_for)

# %% [markdown]
# **Exercise 10.2 — a bootstrap interval.** Write `bootstrap_interval(errors, n_boot, seed)` for
# per-image errors $(n,)$: draw `n_boot` resamples of the $n$ images with replacement (a
# `torch.Generator` seeded with `seed`), take each resample's mean, and return the 2.5th and
# 97.5th percentiles of those means as `(low, high)`.

# %%
def bootstrap_interval(errors: torch.Tensor, n_boot: int, seed: int) -> tuple[float, float]:
    # YOUR CODE HERE
    raise NotImplementedError


# %%
ex.check_bootstrap_interval(bootstrap_interval)

# %% [markdown]
# **Exercise 10.3 — the paired difference.** Write `paired_difference(errors_a, errors_b)` for two
# models' errors on the same $n$ images: return the mean of `errors_b - errors_a` and its
# standard error. Then compare it with the unpaired standard error
# $\sqrt{s_a^2/n + s_b^2/n}$ on `errors` from section 3: which is smaller, and why?

# %%
def paired_difference(errors_a: torch.Tensor, errors_b: torch.Tensor) -> tuple[float, float]:
    # YOUR CODE HERE
    raise NotImplementedError


# %%
ex.check_paired_difference(paired_difference)

# %% [markdown]
# ## 6. Lesson check

# %%
# the paper's headline numbers as printed, and our paper preset has the paper's size (G 17.8 M, D 23.7 M)
assert PAPER["T1 CelebA in the wild, K = 8"][1] == 6.18 and PAPER_K["CelebA in the wild, landmark %"][1] == 12.26
paper_cfg = PRESETS["paper-celeba-wild"]
assert abs(sum(p.numel() for p in Generator(paper_cfg).parameters()) / 1e6 - 17.8) < 0.2
assert abs(sum(p.numel() for p in Discriminator(paper_cfg).parameters()) / 1e6 - 23.7) < 0.2
# every ablation run was trained, distilled and scored with the protocol of lesson 09
for name, r in runs.items():
    assert r["iterations"] >= 1 and math.isfinite(r["result"]["landmarks"]["error_pct"])
    assert abs(r["errors"].mean() - r["result"]["landmarks"]["error_pct"]) < 1e-6, name
# in full mode the ablation shows its first effect: without eq. 16 the masks are less concentrated
if not FAST:
    assert table["no concentration loss"]["concentration (eq. 16)"] > table["course recipe"]["concentration (eq. 16)"]
# the shipped checkpoints reproduce what they record (on the fixed reproduction set)
for domain, record in records.items():
    rec = record["reproduce"]
    if rec["metrics"].get("landmarks") and not FAST:
        from ganseg_lib.app.shipped import fingerprint_differences, reproduce_metrics
        again, prints = reproduce_metrics(shipped[domain], domain)
        assert not fingerprint_differences(prints["images"], rec["fingerprints"]["images"])
        assert abs(again["landmarks"]["error_pct"] - rec["metrics"]["landmarks"]["error_pct"]) < 1e-3
# speed was measured, and the small presets are faster per image than the paper's
assert all(s["images/s"] > 0 for s in speed.values())
if "paper-celeba-wild" in speed:
    assert speed["cpu-tiny"]["images/s"] > speed["paper-celeba-wild"]["images/s"]
plt.close("all")
print("lesson 10 checks passed")

# %% [markdown]
# ## Summary
#
# * The paper: 6.18 % (K = 8) and 12.26 % (K = 4) landmark error on CelebA in the wild,
#   0.629 / 0.739 foreground IoU on CUB / Flowers; its ablations show the number of parts,
#   points per part and estimated scales matter.
# * The course's models run the same protocol on 32-px synthetic data after minutes of CPU
#   training; their numbers are far from the paper's for reasons we can list, and only readable
#   next to references.
# * An ablation is a comparison at an equal budget on the same images; a paired difference and
#   a bootstrap interval say whether it is real. At CPU scale the concentration loss shows in
#   the mask geometry first.
# * Speed decides what can be reproduced where: the paper's schedule takes weeks to months on a
#   CPU; a GPU brings it down to hours or days (not measured here yet).
#
# Where to go next: lesson 11 runs the method on a folder of your own images; train `cpu-small`
# for an hour, try the other synthetic domains (`birds`, `flowers`, `figures`), and on a GPU the
# paper presets.

# %% [markdown]
# ## Review questions
#
# Try to answer each question before opening its answer.
#
# **1.** The course's models are compared with the paper's 12.26 % on CelebA in the wild, not its
# headline 6.18 %. Why?
#
# <details><summary>Answer</summary>
#
# The CPU presets use $K = 4$ parts. The paper's 6.18 % is for $K = 8$; Table 7 gives 12.26 % for
# $K = 4$, and the landmark error depends strongly on $K$, so that is the comparable number.
#
# </details>
#
# **2.** Table 7 reports 56.23 % for $K = 1$. Why does that resemble the course's "localisation
# only" reference, and what happens at the other end, $K = 32$?
#
# <details><summary>Answer</summary>
#
# A single part can only say where the face is, not where its eyes and mouth are, which is what
# the localisation-only reference measures. At $K = 32$ the lesson says the model fails to
# separate foreground from background (CUB IoU drops sharply): too many parts degenerate.
#
# </details>
#
# **3.** Without the concentration loss, which measurement of the ablation should respond first,
# and why do the landmark errors often stay within noise?
#
# <details><summary>Answer</summary>
#
# The mask geometry: nothing ties a part's mask to its centre $\mathbf{x}_k$ any more, so eq. 16's
# value and the distance between mask centroid and $\mathbf{x}_k$ grow. The landmark error needs
# long training before parts take stable roles, so at a few CPU minutes both variants are usually
# close to each other and to the localisation-only reference.
#
# </details>
#
# **4.** What uncertainty does the bootstrap interval of a model's mean error describe, and what
# uncertainty does it leave out?
#
# <details><summary>Answer</summary>
#
# It describes how much the mean would move with another sample of test images of the same kind
# (the finite test set). It says nothing about training randomness: each variant was trained once,
# with one seed, so a different seed could move the result by an amount this interval does not
# include.
#
# </details>
#
# **5.** A preset trains at $R$ images per second. Write down how many hours the paper's schedule
# would take, and why `cpu-tiny`'s speed cannot be used for the paper's model.
#
# <details><summary>Answer</summary>
#
# 30,000 iterations at batch 64 are $1.92 \times 10^6$ images, so the time is $1.92 \times 10^6 /
# (3600\, R)$ hours, about $533 / R$. The rate must be measured for the model in question: the
# paper's 128-px, 17.8 M-parameter generator needs well over a thousand times the arithmetic per
# image of `cpu-tiny`.
#
# </details>

# %% [markdown]
# ## What to try next
#
# * Add entries to `ABLATIONS`, as the lesson suggests: `["loss.lambda_area=0"]`,
#   `["generator.n_parts=2"]`, or `["loss.lambda_con=5"]` (eq. 26's value for $K = 4$), and read
#   the mask geometry and the paired test for each.
# * Raise `GAN_MINUTES` and `DISTILL_MINUTES` (full mode) and see whether the paired test's
#   verdict for the concentration ablation changes with a longer budget.
# * Time `time_iterations` at several batch sizes for `cpu-tiny` and plot images per second
#   against the batch: where does a larger batch stop paying off on your machine?
#
# **Next:** lesson 11 runs the whole method on a folder of your own images.
