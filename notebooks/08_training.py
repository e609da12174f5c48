# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Lesson 08 — Training GANSeg, live
#
# [![Open in Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/ganseg-course/ganseg-course/blob/v0.1.0/notebooks/08_training.ipynb)
#
# Lessons 01-05 built the generator and lesson 04 its losses. Now we train it: a discriminator
# learns to tell real synthetic faces from generated ones, the generator learns to fool it, and
# the concentration and area losses keep its masks compact and visible. We watch the losses
# and the samples while it learns, break it on purpose twice to see what failure looks like,
# and finally load the course checkpoint to see where a longer run ends.
#
# **After this lesson you can**
# 1. describe one training iteration: a D step (eq. 14-15, lazy R1) and a G step (eq. 13,
#    16-17, every other step), then the EMA update;
# 2. run `ganseg_lib.training.gan.train` in chunks and watch samples, masks and loss curves evolve;
# 3. read the loss curves: what a healthy adversarial game looks like, and what does not;
# 4. recognise two failures — mode collapse and parts collapsing without the area loss — and
#    measure them with a number;
# 5. say how far a few minutes of CPU training get, compared with the course checkpoint and
#    the paper's 30,000 iterations on a GPU.
#
# **Runtime:** fast mode (CI) about a minute on a 2-core CPU: a few iterations only, so the
# figures show an untrained model. Full mode trains for about 8 minutes, then runs two short
# failure experiments (2-3 minutes). With CUDA the cells train on the GPU, a larger model in the
# same minutes (`course.live_run`, section 1).

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
import csv
import json
import math
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import torch

from data_prep.synthetic import render
from ganseg_lib import course, losses, viz
from ganseg_lib.checkpoint import load_checkpoint
from ganseg_lib.config import apply_overrides, get_preset
from ganseg_lib.course.exercises import lesson08 as ex
from ganseg_lib.app.shipped import load_course_checkpoint, metrics_path
from ganseg_lib.evaluation.evaluate import report
from ganseg_lib.training.gan import TrainOptions, d_step, ema_update, g_step, real_batch, train
from ganseg_lib.training.state import build_state

print(course.describe_runtime())
FAST = course.fast_mode()

# %% [markdown]
# ## 1. Data and configuration
#
# We train on synthetic faces "in the wild" from `data_prep` (varied position, scale, rotation
# and background; lesson 00 showed them) at 32 px, with the `cpu-tiny` preset: $K = 4$ parts,
# a generator of about 0.1 M parameters, batch 16. The paper trains 128-px models of 17.8 M
# parameters with batch 64 for 30,000 iterations on a GPU; everything here is scaled so that a
# laptop CPU shows the dynamics in minutes.
#
# On top of the preset goes the **course recipe**, `course.COURSE_RECIPE`: the one the shipped
# checkpoint (section 5) was trained with, $\lambda_\text{con} = 3$ instead of the preset's 10.
# Lesson 10 trains with the same recipe; its exercise 10.1 works out what the paper's eq. 26 would
# give for $K = 4$.
#
# `course.live_run()` sizes the run for the device it finds, in one place: on a CPU the
# settings above; with CUDA the 64-px `cpu-small` preset at batch 64 with bfloat16 autocast.
# The cells keep their minute budgets either way, so a GPU spends the same minutes on a larger
# model and many more images. (The GPU setting has not been measured yet: we cannot say here
# how many iterations it reaches or what its samples look like after those minutes.)

# %%
live = course.live_run()
DEVICE = live.device
cfg = live.config()
if FAST:  # CI: a handful of small steps, logged and checkpointed at every one
    cfg = apply_overrides(cfg, ["train.batch=8", "train.log_every=1", "train.checkpoint_every=1000"])
S = cfg.generator.image_size
data = render("faces", course.pick(256, 8000), S, seed=0)
images = data.images  # (N, 3, S, S) uint8
print(f"{len(images)} synthetic faces at {S} px | preset {cfg.name}: K = {cfg.generator.n_parts}, "
      f"batch {cfg.train.batch}, lr G {cfg.train.lr_g} / D {cfg.train.lr_d}, betas {cfg.train.betas}")
print(f"losses: lambda_con {cfg.loss.lambda_con}, lambda_area {cfg.loss.lambda_area}, "
      f"R1 gamma {cfg.loss.r1_gamma} every {cfg.loss.r1_interval} D steps, con/area every "
      f"{cfg.loss.reg_interval} G steps; EMA decay {cfg.train.ema_decay}")
fig = viz.sample_grid(images[:16].float() / 127.5 - 1, ncols=8, title="real training images")
plt.show()

# %% [markdown]
# ## 2. One iteration, by hand
#
# An iteration is one discriminator update and one generator update (Sec. 3.4):
#
# * **D step** — fresh fakes (no gradient to G), the logistic loss (eq. 14)
#   $\mathbb{E}\,\mathrm{softplus}(D(G(\mathbf{z}))) + \mathbb{E}\,\mathrm{softplus}(-D(\mathbf{x}))$,
#   and every $N_{R1}$-th step the R1 penalty $\frac{\gamma}{2}\lVert\nabla_\mathbf{x} D(\mathbf{x})\rVert^2$
#   on the real batch, multiplied by $N_{R1}$ (lazy regularisation: same average strength, a
#   fraction of the cost).
# * **G step** — $\mathbb{E}\,\mathrm{softplus}(-D(G(\mathbf{z})))$ (eq. 13), and every
#   $N_\text{reg}$-th step $\lambda_\text{con}\mathcal{L}_\text{con} + \lambda_\text{area}
#   \mathcal{L}_\text{area}$ (eq. 16-17), multiplied by $N_\text{reg}$ (eq. 19).
# * **EMA** — a running average of the generator's weights,
#   $\theta_\text{EMA} \leftarrow \beta\,\theta_\text{EMA} + (1 - \beta)\,\theta$. GAN weights
#   oscillate from step to step; their average draws cleaner samples, and it is what every later
#   stage (distillation, evaluation) uses.
#
# `gan.d_step`, `gan.g_step` and `gan.ema_update` are exactly these; `gan.train` loops
# over them. The steps return their numbers as tensors, which stay on the device (a GPU need not
# wait for the host to read them every step); `float(v)` reads one, as the print below does. Here are two iterations done by hand, with R1 and the mask losses switched on:

# %%
state = build_state(cfg, DEVICE, seed=0)
rng = torch.Generator().manual_seed(0)
for it in (1, 2):
    real = real_batch(images, torch.randint(len(images), (cfg.train.batch,), generator=rng), DEVICE)
    d_stats = d_step(state.g, state.d, state.opt_d, real, state.g.sample_latents(cfg.train.batch, generator=rng),
                     cfg, do_r1=True)
    g_stats = g_step(state.g, state.d, state.opt_g, state.g.sample_latents(cfg.train.batch, generator=rng),
                     cfg, do_reg=True)
    ema_update(state.g_ema, state.g, cfg.train.ema_decay)
    shown = {k: float(v) for k, v in (d_stats | g_stats).items() if not k.endswith("_finite")}
    print(f"iteration {it}: " + ", ".join(f"{k} {v:.3f}" for k, v in shown.items()))
moved = sum((a - b).abs().sum() for a, b in zip(state.g.parameters(), state.g_ema.parameters())).item()
print(f"after two iterations, G and its EMA differ by {moved:.3f} (summed |difference| of all weights)")

# %% [markdown]
# At the start the discriminator's logits are near zero, so both GAN losses sit near
# $\log 2 \approx 0.69$ per term; the area loss is large, because the untrained masks cover far
# less than the heatmaps (lesson 04).
#
# ## 3. Train, and watch
#
# `train.train(cfg, images, run_dir, ...)` runs iterations until `cfg.train.steps` or a time
# budget, writing `checkpoint.pt` (atomically), `log.csv` and sample grids into `run_dir`; with
# `resume=True` it continues exactly where the checkpoint stopped. We use that to train in
# chunks and look at the EMA generator's samples (fixed latents, so the same "people" each
# time), masks and points after every chunk.

# %%
run = Path(tempfile.mkdtemp(prefix="ganseg-lesson08-"))
CHUNKS = course.pick(2, 4)
CHUNK_STEPS = 2  # fast mode: steps per chunk
CHUNK_MINUTES = 2.0  # full mode: minutes per chunk
fixed = state.g_ema.sample_latents(16, generator=torch.Generator().manual_seed(123))


def diversity(batch: torch.Tensor) -> float:
    """Mean over pixels of the per-pixel standard deviation across the batch (0 = all samples equal)."""
    return batch.std(dim=0).mean().item()


history = []
for chunk in range(CHUNKS):
    if FAST:
        chunk_cfg = apply_overrides(cfg, [f"train.steps={CHUNK_STEPS * (chunk + 1)}"])
        budget = None
    else:
        chunk_cfg = apply_overrides(cfg, ["train.steps=1000000"])
        budget = 60 * CHUNK_MINUTES
    state = train(chunk_cfg, images, run, TrainOptions(resume=chunk > 0, progress=False, time_budget_s=budget,
                                                       device=DEVICE.type, bf16=live.bf16))
    with torch.no_grad():
        sample = course.to_cpu(state.g_ema(fixed))
    history.append({"step": state.step, "minutes": state.elapsed / 60, "diversity": diversity(sample.image),
                    "background": sample.masks[:, -1].mean().item(),
                    "smallest part": sample.masks[:, :-1].mean(dim=(2, 3)).min(dim=1).values.mean().item(),
                    "sigma": sample.part_scales.mean().item()})
    fig = viz.sample_grid(sample.image, sample.masks, sample.points, sample.part_centers, ncols=8,
                          title=f"step {state.step} ({state.elapsed / 60:.1f} min): EMA samples with masks and points")
    plt.show()

# %%
print(f"{'step':>6s} {'min':>5s} {'diversity':>9s} {'bg area':>8s} {'smallest part':>13s} {'mean sigma':>10s}")
for h in history:
    print(f"{h['step']:6d} {h['minutes']:5.1f} {h['diversity']:9.3f} {h['background']:8.3f} "
          f"{h['smallest part']:13.3f} {h['sigma']:10.3f}")
print(f"real images: diversity {diversity(images[:256].float() / 127.5 - 1):.3f}")
fig = viz.loss_curves(run / "log.csv", title="training log (averages over log_every steps)")
plt.show()

# %% [markdown]
# **Reading the samples.** At the start every sample is the same kind of noise and the masks
# are large overlapping regions wherever the points happen to be. Eight CPU minutes give a few
# hundred to a couple of thousand iterations, depending on the machine: enough to see the
# samples drift towards the data's colours and the masks towards a foreground/background split,
# not enough for faces. In our measurements with models of this size at 32 px, faces became
# recognisable after about 3,000 iterations; after about 6,000 the masks followed the face (one
# part on the face, one on the hair, the others on the surroundings) as it moved; after about
# 9,000 a distilled segmenter found face and hair reliably on held-out images. Parts that line
# up with eyes, nose and mouth need far longer training and more capacity than a CPU course
# affords.
#
# **Reading the curves.**
# * `d_loss` near $2\log 2 \approx 1.39$ and `g_loss` near $0.69$ mean neither network wins;
#   healthy training hovers at or below those values with noise. `d_loss` falling towards 0
#   while `g_loss` climbs means the discriminator has won: its gradients to G vanish or explode
#   and samples stop improving.
# * `real_logit` above `fake_logit` (two more columns of `log.csv`) by a steady margin is
#   normal; a gap that grows without bound is the same warning.
# * `con` (eq. 16) falls as masks concentrate around their centres; `area` (eq. 17) falls as
#   masks grow to cover their heatmaps (or heatmaps shrink to fit their masks).
# * `r1` appears every `r1_interval` steps; a rising R1 means D is becoming steep around real
#   images.
#
# ## 4. What failure looks like
#
# Two short experiments, each against its control, isolate one failure each. Both use the
# library's step functions on the untrained model, with a learning rate raised a few times
# above the preset's so that a CPU shows in seconds what would take longer otherwise.
#
# **Mode collapse.** If the discriminator stops learning, the generator no longer has to match
# the data; it only has to find the images this one fixed D scores highest — and sends every
# latent there. We freeze D (no D steps) and compare with normal alternating steps.

# %%
COLLAPSE_STEPS = course.pick(16, 60)
PROBE_EVERY = 4  # steps between diversity measurements
lab_cfg = apply_overrides(cfg, ["train.batch=8"])
probe = state.g_ema.sample_latents(16, generator=torch.Generator().manual_seed(7))


def lab_state(lr: float):
    """A fresh, untrained G and D (seed 0) whose generator learns at `lr`."""
    st = build_state(lab_cfg, DEVICE, seed=0)
    for group in st.opt_g.param_groups:
        group["lr"] = lr
    return st


def probe_output(st):
    st.g.eval()
    with torch.no_grad():
        result = course.to_cpu(st.g(probe))
    st.g.train()
    return result


collapse = {}
for name, train_d in (("D frozen", False), ("D learning (control)", True)):
    st, lab_rng = lab_state(1e-3), torch.Generator().manual_seed(2)
    curve = [diversity(probe_output(st).image)]
    for step in range(1, COLLAPSE_STEPS + 1):
        if train_d:
            real = real_batch(images, torch.randint(len(images), (8,), generator=lab_rng), DEVICE)
            d_step(st.g, st.d, st.opt_d, real, st.g.sample_latents(8, generator=lab_rng), lab_cfg, do_r1=False)
        g_step(st.g, st.d, st.opt_g, st.g.sample_latents(8, generator=lab_rng), lab_cfg, do_reg=False)
        if step % PROBE_EVERY == 0:
            curve.append(diversity(probe_output(st).image))
    collapse[name] = (curve, st)
collapse_axis = list(range(0, COLLAPSE_STEPS + 1, PROBE_EVERY))
fig = viz.curve_panels({"sample diversity (per-pixel std across 16 samples)":
                        {name: (collapse_axis, curve) for name, (curve, _) in collapse.items()}},
                       xlabel="generator steps", panel_inches=5.5, title="mode collapse: a frozen D is easy to fool")
plt.show()
collapsed = probe_output(collapse["D frozen"][1])
fig = viz.sample_grid(collapsed.image, ncols=8, title=f"D frozen, after {COLLAPSE_STEPS} G steps: samples converge")
plt.show()

# %% [markdown]
# With D frozen the diversity drops step after step: all latents move towards the same
# image. With D learning, it stays near where it started. In a real run collapse is rarely
# this total; it shows as a grid where many samples share one face, one pose or one
# background, while the loss curves can look unremarkable — which is why we log a diversity
# number and look at sample grids.
#
# **Parts collapsing without the area loss.** The concentration loss alone (eq. 16) is
# minimised by masks that shrink to a dot at their centre: a part that covers nothing is
# perfectly concentrated. The paper observed exactly this (Sec. 3.4) and added the area loss.
# We optimise the generator on the mask losses only (no GAN), once with
# $\lambda_\text{con}\mathcal{L}_\text{con}$ alone and once with the area loss added, and track
# the area of the smallest part and of the background.

# %%
AREA_STEPS = course.pick(40, 80)
AREA_LR = 2e-3  # ten times the preset's lr: the effect shows in tens of steps instead of hundreds
area_runs = {}
for name, lam_area in (("concentration only", 0.0), ("concentration + area", cfg.loss.lambda_area)):
    st, lab_rng = lab_state(AREA_LR), torch.Generator().manual_seed(3)
    smallest, background = [], []
    for step in range(AREA_STEPS + 1):
        if step % PROBE_EVERY == 0:  # measured on the fixed probe latents
            seen = probe_output(st)
            smallest.append(seen.masks[:, :-1].mean(dim=(2, 3)).min(dim=1).values.mean().item())
            background.append(seen.masks[:, -1].mean().item())
        if step == AREA_STEPS:
            break
        out = st.g(st.g.sample_latents(8, generator=lab_rng))
        part_masks = out.masks[:, :-1]
        loss = cfg.loss.lambda_con * losses.concentration_loss(part_masks, out.part_centers)
        if lam_area:
            loss = loss + lam_area * losses.area_loss(out.heatmaps, part_masks)
        st.opt_g.zero_grad(set_to_none=True)
        loss.backward()
        st.opt_g.step()
    area_runs[name] = (smallest, background, seen)
area_axis = list(range(0, AREA_STEPS + 1, PROBE_EVERY))
fig = viz.curve_panels({"area of the smallest part (fraction of image)": {n: (area_axis, r[0]) for n, r in area_runs.items()},
                        "background area (fraction of image)": {n: (area_axis, r[1]) for n, r in area_runs.items()}},
                       xlabel="generator steps (mask losses only)", title="without the area loss, parts shrink away")
plt.show()
for name, (_, _, seen) in area_runs.items():
    fig = viz.generator_levels(seen, 0, panels=("points", "heatmaps", "masks"), title=f"{name}, step {AREA_STEPS}")
    plt.show()

# %% [markdown]
# With concentration alone the smallest part's mask shrinks towards nothing and the background
# swallows the image: the generator satisfies eq. 16 by making parts vanish. With the area
# loss each part must cover at least its heatmap's area (or shrink its points, making the
# heatmap smaller), so parts stay. In full GAN training the same pull acts slowly and a part
# that vanishes rarely comes back; lesson 10 runs the real ablation.
#
# ## 5. Where longer training ends: the course checkpoint
#
# The course ships an EMA generator (and its distilled segmenter, lesson 09) trained with the
# CPU setting of section 1, the `cpu-tiny` preset and the course recipe ($\lambda_\text{con} = 3$),
# for much longer than this lesson can. Its file records how it was made.

# %%
shipped = course.shipped_checkpoint("faces")
if shipped is None:
    print("No course checkpoint in this copy of the course (checkpoints/faces-<size>.pt). Make one with\n"
          "  ganseg demo        (about 20 CPU minutes: data, GAN, segmenter, metrics)\n"
          "  ganseg export --run runs/demo/gan --out checkpoints/faces-32.pt --domain faces\n"
          "and run this cell again.")
else:
    ship_cfg, ship_g, _ = load_course_checkpoint(shipped)
    source = load_checkpoint(shipped, "course").get("source", {})
    print(f"{shipped.name}: {ship_cfg.name}, {source.get('gan_steps', '?')} GAN iterations in "
          f"{source.get('gan_minutes', '?')} min; made by: {source.get('command') or 'not recorded'}")
    record = metrics_path(shipped)
    if record.exists():
        print("its recorded metrics (lesson 09 explains them):")
        print(report(json.loads(record.read_text())["reproduce"]["metrics"]))
    ship_fixed = ship_g.sample_latents(16, generator=torch.Generator().manual_seed(123))
    with torch.no_grad():
        ship_out = ship_g(ship_fixed)
    fig = viz.sample_grid(ship_out.image, ship_out.masks, ship_out.points, ship_out.part_centers, ncols=8,
                          title=f"course checkpoint ({source.get('gan_steps', '?')} iterations): EMA samples")
    plt.show()
    print(f"diversity {diversity(ship_out.image):.3f}, background area {ship_out.masks[:, -1].mean():.3f}, "
          f"smallest part {ship_out.masks[:, :-1].mean(dim=(2, 3)).min(dim=1).values.mean():.3f}")

# %% [markdown]
# Compare the grids: the live run after a few minutes against the checkpoint after the
# iterations printed above, and read its recorded metrics against their references (lesson 09).
# However far it got, it stays far from the paper's quality: 32-px synthetic faces, a generator
# about 190 times smaller, CPU minutes instead of GPU hours. On a GPU, `ganseg train --preset paper-celeba-wild --device cuda`
# runs the paper's configuration.
#
# **How the parts emerged.** The course ships four generator-only snapshots of a re-run of the
# same recipe (`checkpoints/snapshots/`, 0.2 MB each, listed in `SHA256SUMS`; the step-7,000
# snapshot is that re-run's end, not the shipped file itself, which was trained on another CPU).
# The figure puts the same latents through each, and next to them each part's mean mask over 256
# samples with its mass (share of the image).

# %%
snapshots = course.snapshot_generators("faces", 32)
emerging = {}
if not snapshots:
    print("No training snapshots in this copy of the course (checkpoints/snapshots/); "
          "make them with ganseg train --keep-every 500, then ganseg export --snapshots 500 1000 ...")
else:
    rows, mean_masks, masses = {}, {}, {}
    for step, snap in snapshots.items():
        with torch.no_grad():
            rows[f"step {step}"] = snap(snap.sample_latents(1, generator=torch.Generator().manual_seed(0)))
            many = snap(snap.sample_latents(course.pick(64, 256), generator=torch.Generator().manual_seed(1)))
        parts = many.masks[:, :-1]
        mean_masks[f"step {step}"] = parts.mean(0)
        masses[f"step {step}"] = parts.mean(dim=(0, 2, 3)).tolist()
        emerging[step] = {"part_mass": masses[f"step {step}"], "background": many.masks[:, -1].mean().item(),
                          "centre_spread": many.part_centers.std(0).norm(dim=-1).mean().item()}
    fig = viz.parts_emerging(rows, mean_masks, masses)
    plt.show()
    for step, e in emerging.items():
        print(f"step {step:5d}: part masses {[round(100 * m) for m in e['part_mass']]} %, background "
              f"{100 * e['background']:.0f} %, spread of the part centres over samples {e['centre_spread']:.2f}")

# %% [markdown]
# Read the rows top to bottom. At step 500 the four masks are broad, overlapping blobs that
# cover the image in about equal shares (about 25 % each), the background almost nothing, and
# the mean masks are nearly flat: no part means anything yet. By step 1,000 the image shows a
# dark head-like shape but the masks are still blotches. At step 3,000 the background has
# appeared (about 17 %) and each part has a place of its own: its mean mask is a compact region
# (the hair on top, lower-left and lower-right shoulders). By step 7,000 the layout is a
# portrait: hair (about 20 %), a face and two lower parts (about 10 % each) and half the image
# background, and the parts' scales $\sigma_k$ have shrunk with them. The parts get their
# meaning in the second half of training, once the generator draws a figure in front of a
# background.
#
# What each stage is worth to a segmenter was measured once, by distilling one (600 steps) from
# every snapshot and scoring it on 1,000 held-out synthetic faces with lesson 09's protocol
# (`python -m benchmarks.bench_snapshots`, `benchmarks/measured/snapshots-faces.json`; about 12
# CPU-minutes per snapshot, too slow for this lesson):
#
# | snapshot | landmark error, % IOD | x mean shape | foreground IoU | parts alive |
# |---|---|---|---|---|
# | step 500 | 50.0 | 1.23 | 0.48 | 3 of 4 |
# | step 1,000 | 40.3 | 0.99 | 0.48 | 3 of 4 |
# | step 3,000 | 33.3 | 0.82 | 0.57 | 2 of 4 |
# | step 7,000 | 26.5 | 0.65 | 0.82 | 4 of 4 |
#
# The all-foreground reference is 0.48: until step 1,000 the segmenter calls everything
# foreground, as its teacher draws no background. The landmark error falls below the mean shape
# only once the parts have places of their own (step 3,000), and the foreground follows the
# background's growth.
#
# ## 6. Exercises
#
# **Exercise 8.1 — the EMA update.** Write `ema_step(ema_params, params, decay)` for two lists of
# tensors (the EMA copy's parameters and the model's): return the updated EMA parameters as a
# new list, without changing either input.

# %%
def ema_step(ema_params: list, params: list, decay: float) -> list:
    # YOUR CODE HERE
    raise NotImplementedError


# %%
ex.check_ema_step(ema_step)

# %% [markdown]
# **Exercise 8.2 — how far back does the EMA look?** Unrolled, the EMA is
# $\theta_\text{EMA} = \sum_{n \ge 0} (1 - \beta)\beta^n\,\theta_{t-n}$ (plus a vanishing
# initial term). For the preset's $\beta = 0.995$, what is the mean age $\sum_n n\,(1-\beta)\beta^n$
# of the weights it averages, in steps? Replace `...` with a number.

# %%
ema_mean_age = ...  # YOUR ANSWER HERE

# %%
ex.check_ema_horizon(ema_mean_age)

# %% [markdown]
# **Exercise 8.3 — a diversity score.** Write `diversity_score(images)` for a batch
# $(B, 3, H, W)$: the standard deviation across the batch at every pixel and channel, averaged
# — the number section 4 used to see mode collapse. It must be 0 for copies of one image, however
# textured that image is.

# %%
def diversity_score(images: torch.Tensor) -> float:
    # YOUR CODE HERE
    raise NotImplementedError


# %%
ex.check_diversity(diversity_score)

# %% [markdown]
# ## 7. Lesson check

# %%
# the live run trained, logged finite losses and kept an EMA generator distinct from G
with open(run / "log.csv", newline="") as f:
    rows = list(csv.DictReader(f))
assert rows and 0 < int(rows[-1]["step"]) <= state.step  # a row every log_every steps and at the end of a run
assert all(math.isfinite(float(r[k])) for r in rows for k in ("d_loss", "g_loss") if r[k])
assert (run / "checkpoint.pt").exists()
assert any(not torch.equal(a, b) for a, b in zip(state.g.parameters(), state.g_ema.parameters()))
# mode collapse: with D frozen, diversity falls well below the control's
frozen, control = collapse["D frozen"][0], collapse["D learning (control)"][0]
assert frozen[-1] < 0.8 * frozen[0], frozen
assert frozen[-1] < 0.8 * control[-1], (frozen[-1], control[-1])
# the area loss keeps parts alive: without it the smallest part and the background diverge
only_con, with_area = area_runs["concentration only"], area_runs["concentration + area"]
assert only_con[0][-1] < 0.5 * with_area[0][-1], (only_con[0][-1], with_area[0][-1])
assert only_con[1][-1] > 2 * with_area[1][-1], (only_con[1][-1], with_area[1][-1])
plt.close("all")
# the snapshots, when shipped: parts start as equal blobs and end compact, in front of a background
if emerging:
    first, last = emerging[min(emerging)], emerging[max(emerging)]
    assert last["background"] > first["background"] + 0.2, (first["background"], last["background"])
    assert min(last["part_mass"]) > 0.02, "a part died in the last snapshot"
print("lesson 08 checks passed")

# %% [markdown]
# ## Summary
#
# * One iteration = a D step (eq. 14, lazy R1 eq. 15) + a G step (eq. 13, and eq. 16-17 every
#   other step) + an EMA update; `gan.train` loops, checkpoints and logs, and resumes exactly.
# * Healthy curves hover near the no-winner values ($\approx 1.39$ and $0.69$); a D loss
#   sliding to 0 is D winning. Sample grids and a diversity number catch what curves miss.
# * Mode collapse: with a D that does not learn, every latent goes to the same image.
# * Without the area loss, concentration makes parts vanish and the background takes over.
# * Minutes of CPU training give a face/background split and rough parts; the course
#   checkpoint shows where longer training ends, still far from the paper's 128-px models.
#
# **Next — lesson 09:** turning the generator into a segmenter for real images — distillation
# on generated image/mask pairs — and scoring it with the paper's metrics.

# %% [markdown]
# ## Review questions
#
# Try to answer each question before opening its answer.
#
# **1.** At the first iteration the discriminator's logits are near 0. Predict `d_loss` and
# `g_loss` from eq. 13-14.
#
# <details><summary>Answer</summary>
#
# $\mathrm{softplus}(0) = \log 2 \approx 0.69$. The discriminator's loss has two terms (fakes and
# reals), about $2\log 2 \approx 1.39$; the generator's has one, about $0.69$. These are also the
# values at which neither network wins; a healthy run stays in their neighbourhood (a
# 4,800-iteration cpu-tiny run on real faces ended near 1.1 and 1.0) instead of D's loss falling to 0.
#
# </details>
#
# **2.** After two iterations the generator and its EMA copy already differ. Why, and why do
# distillation and evaluation use the EMA copy?
#
# <details><summary>Answer</summary>
#
# The EMA moves only a fraction $1 - \beta$ of the way towards the current weights at each update,
# so it lags behind the generator, which has just taken full optimiser steps. GAN weights
# oscillate from step to step; their running average draws cleaner samples, so it is what every
# later stage uses.
#
# </details>
#
# **3.** With the discriminator frozen, sample diversity falls step after step. Explain why, and
# why a learning discriminator prevents it.
#
# <details><summary>Answer</summary>
#
# A fixed D defines fixed scores; the generator lowers its loss by sending every latent towards
# the images this D scores highest, and nothing penalises all samples becoming alike. A learning D
# adapts and learns to reject an image that is produced over and over, so the generator has to
# keep covering the data.
#
# </details>
#
# **4.** Trained on the concentration loss alone, the smallest part shrinks and the background
# area grows. Why does the background take over, and what does the area loss change?
#
# <details><summary>Answer</summary>
#
# Eq. 16 is minimised by masks that shrink to a dot at their centre; the background is not
# constrained, so the pixels the parts give up go to the background channel of the softmax. The
# area loss requires each part mask to cover at least its heatmap's area, so a part can only get
# smaller by shrinking its points, hence its heatmap; parts stay.
#
# </details>
#
# **5.** `d_loss` slides towards 0 while `g_loss` climbs. What is happening, and why is a
# diversity number logged besides the loss curves?
#
# <details><summary>Answer</summary>
#
# The discriminator is winning: it separates real from generated images easily, its gradients to
# the generator stop being useful and samples stop improving. Mode collapse, on the other hand,
# can leave the curves looking unremarkable, so the lesson also watches sample grids and a
# diversity number.
#
# </details>

# %% [markdown]
# ## What to try next
#
# * Raise `CHUNKS` or `CHUNK_MINUTES` (full mode) and read the history table: which column changes
#   first, the diversity, the background area, the smallest part or the mean $\sigma$?
# * In the mode-collapse experiment, replace `lab_state(1e-3)` with the preset's `cfg.train.lr_g`
#   and see how much longer the collapse takes with a frozen D.
# * In the area experiment, try a smaller weight than `cfg.loss.lambda_area`, and also record
#   `seen.part_scales.mean()`: does the area loss keep parts by growing their masks or by
#   shrinking $\sigma_k$?
# * Add `"loss.lambda_con=10"` (the preset's value) to the overrides in section 1 and compare the
#   masks with the course recipe's $\lambda_\text{con} = 3$ after the same minutes.
#
# **Next:** lesson 09 turns the generator into a segmenter for real images by distillation, and
# scores it with the paper's metrics.
