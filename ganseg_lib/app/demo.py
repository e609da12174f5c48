"""`ganseg demo`: synthetic faces -> hierarchical GAN -> distilled segmenter -> metrics, end to end.

The full demo is sized for a 2-core CPU and 20 minutes: 32-px faces, the `cpu-tiny` preset,
GAN training and distillation each capped by wall time (so a slower machine still finishes,
with fewer iterations).  `--fast` runs every stage for a few steps on a few images: a smoke
test of the whole path in seconds.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

from data_prep import prepare_synthetic

from ..checkpoint import atomic_write_text
from ..config import apply_overrides, get_preset
from ..evaluation.evaluate import evaluate_run, report
from ..training.gan import TrainOptions, train
from ..training.segmenter import SEGMENTER, distill
from ..viz import loss_curves, save_figure
from .data import evaluation_splits, load_split


@dataclass(frozen=True)
class DemoPlan:
    preset: str  # GAN / segmenter preset
    n_images: int  # synthetic faces rendered (the data file's own split holds some out for testing)
    data_seed: int  # seed of the rendered faces
    gan_steps: int  # iteration cap of the GAN
    gan_minutes: float  # wall-time cap of the GAN, min
    distill_steps: int  # segmenter steps cap
    distill_minutes: float  # wall-time cap of the distillation, min
    overrides: tuple[str, ...] = ()  # config overrides on top of the preset
    grid_samples: int = 32  # generated images per sample grid


# Batch 8 rather than the preset's 16: in the same wall time it makes more iterations and a
# better segmenter (measured: benchmarks/measured/README.md).
FULL = DemoPlan("cpu-tiny", n_images=8000, data_seed=0, gan_steps=12000, gan_minutes=13.0,
                distill_steps=1500, distill_minutes=3.0, overrides=("train.batch=8",))
FAST = DemoPlan("cpu-tiny", n_images=192, data_seed=0, gan_steps=4, gan_minutes=1.0,
                distill_steps=3, distill_minutes=0.5,
                overrides=("train.batch=8", "train.checkpoint_every=2", "train.log_every=1", "segmenter.batch=4",
                           "segmenter.bn_recalibration=2"),
                grid_samples=4)


def prepare_faces(path: Path, plan: DemoPlan, size: int, progress: bool) -> None:
    """Render the demo's synthetic faces (as `python -m data_prep.prepare synthetic:faces` would);
    an existing file of the same recipe is reused."""
    if path.exists():
        return
    prepare_synthetic("faces", plan.n_images, size, seed=plan.data_seed, out=path, progress=progress)


def run_demo(out: Path, fast: bool = False, device: str = "cpu", quiet: bool = False,
             overrides: tuple[str, ...] = ()) -> int:
    """Run the plan end to end under `out`; `overrides` ("field=value") apply on top of the plan's."""
    plan = FAST if fast else FULL
    cfg = apply_overrides(get_preset(plan.preset), list(plan.overrides) + [f"train.steps={plan.gan_steps}"] + list(overrides))
    size = cfg.generator.image_size
    out.mkdir(parents=True, exist_ok=True)
    run = out / ("gan-fast" if fast else "gan")
    data = out / f"faces-{size}px-{plan.n_images}{'-fast' if fast else ''}.ganseg-data"
    times: dict[str, float] = {}
    say = (lambda *a: None) if quiet else (lambda *a: print(*a, flush=True))

    t0 = time.perf_counter()
    say(f"[1/4] synthetic faces: {plan.n_images} images at {size} px -> {data}")
    prepare_faces(data, plan, size, progress=not quiet)
    images = load_split(data, "train").images
    times["data"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    say(f"[2/4] GAN {cfg.name}: up to {plan.gan_steps} iterations or {plan.gan_minutes:g} min")
    state = train(cfg, images, run, TrainOptions(progress=not quiet, device=device,
                                                 time_budget_s=60 * plan.gan_minutes,
                                                 grid_samples=plan.grid_samples, log=say))
    save_figure(loss_curves(run / "log.csv", title="demo GAN losses"), run / "loss_curves.png")
    times["gan"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    steps = plan.distill_steps
    say(f"[3/4] distilling {cfg.segmenter.arch}: up to {steps} steps or {plan.distill_minutes:g} min")
    deadline = time.perf_counter() + 60 * plan.distill_minutes
    seg = distill(state.cfg, state.g_ema, run / SEGMENTER, steps=steps, device=device, progress=not quiet,
                  stop=lambda step: time.perf_counter() > deadline)
    times["distill"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    say("[4/4] evaluating on held-out faces")
    train_split, test_split = evaluation_splits(data, state.cfg)
    result = evaluate_run(seg, state.cfg, train_split, test_split, str(data), device, run / "figures")
    times["evaluate"] = time.perf_counter() - t0
    result["demo"] = {"gan_iterations": state.step, "gan_minutes": round(times["gan"] / 60, 2),
                      "stage_seconds": {k: round(v, 1) for k, v in times.items()},
                      "total_minutes": round(sum(times.values()) / 60, 2), "fast": fast,
                      "overrides": list(overrides)}
    atomic_write_text(run / "metrics.json", json.dumps(result, indent=2) + "\n")
    print(report(result))
    print(f"demo finished in {result['demo']['total_minutes']:.1f} min ({state.step} GAN iterations); "
          f"metrics {run / 'metrics.json'}; figures {run / 'figures'}, samples {run / 'samples'}")
    return 0


__all__ = ["DemoPlan", "FULL", "FAST", "run_demo"]
