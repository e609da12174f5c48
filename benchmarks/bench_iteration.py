"""Training iterations per second: this library's loop against the released structure, interleaved.

    python -m benchmarks.bench_iteration --preset paper-celeba-wild --batch 8 --rounds 2
    python -m benchmarks.bench_iteration --preset cpu-tiny --batch 16 --rounds 5 --iterations 20

One "iteration" is what `train.train()` does per step (`train.iteration`): a D step (R1 on its
lazy interval), a G step (concentration and area on theirs) and the EMA update.  The released
structure (`benchmarks.reference_arch`, built with the preset's widths) runs its own iteration:
the D step keeps and back-propagates G's graph, gradient penalty every 16 D steps.  For the
paper presets `paper-fast` runs in the same rounds.  All models live in one process and take
turns, so machine noise hits them alike; the median over rounds is reported and written to
benchmarks/results/iteration-PRESET-bBATCH.json.
"""
from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from dataclasses import replace
from pathlib import Path

import torch

from benchmarks.reference_arch import ReferenceGenerator, reference_iteration
from ganseg_lib import Discriminator
from ganseg_lib.training.gan import iteration
from ganseg_lib.training.state import build_state
from ganseg_lib.checkpoint import atomic_write_text
from ganseg_lib.config import get_preset

RESULTS = Path(__file__).resolve().parent / "results"


def ours(preset: str, batch: int):
    cfg = get_preset(preset)
    cfg = replace(cfg, train=replace(cfg.train, batch=batch))
    state = build_state(cfg, torch.device("cpu"), seed=0)
    size = cfg.generator.image_size
    real = torch.rand(batch, 3, size, size) * 2 - 1

    def step(i: int) -> None:
        iteration(state, cfg, real, state.g.sample_latents(batch), state.g.sample_latents(batch), i)
    return step


def released(preset: str, batch: int):
    cfg = get_preset(preset)
    small = cfg.generator.image_size < 128  # course presets: the port at the preset's own widths
    g = ReferenceGenerator(cfg, **({"hidden": cfg.generator.spade_hidden, "margin": 2} if small else {})).train()
    d = Discriminator(cfg)
    opt_g = torch.optim.Adam(g.parameters(), lr=cfg.train.lr_g, betas=cfg.train.betas)
    opt_d = torch.optim.Adam(d.parameters(), lr=cfg.train.lr_d, betas=cfg.train.betas)
    size = cfg.generator.image_size
    real = torch.rand(batch, 3, size, size) * 2 - 1
    return lambda i: reference_iteration(g, d, opt_g, opt_d, real, cfg, i)


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--preset", default="cpu-tiny")
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--rounds", type=int, default=3, help="turns per model; the median is reported")
    p.add_argument("--iterations", type=int, default=1, help="iterations per turn")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--out", default=str(RESULTS))
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    models = {args.preset: ours(args.preset, args.batch)}
    if args.preset.startswith("paper") and args.preset != "paper-fast":
        models["paper-fast"] = ours("paper-fast", args.batch)
    models["released structure"] = released(args.preset, args.batch)
    for step in models.values():  # warm-up: one plain iteration each (allocator, kernels)
        step(1)

    seconds: dict[str, list[float]] = {name: [] for name in models}
    counter = 1
    for r in range(args.rounds):
        for name, step in models.items():
            start = time.perf_counter()
            for j in range(args.iterations):  # the same iteration indices (R1 / reg) for every model
                step(counter + j)
            seconds[name].append((time.perf_counter() - start) / args.iterations)
            print(f"round {r + 1}: {name:20s} {seconds[name][-1]:8.3f} s/iteration", flush=True)
        counter += args.iterations

    median = {name: statistics.median(v) for name, v in seconds.items()}
    ref = median["released structure"]
    report = {
        "preset": args.preset, "batch": args.batch, "rounds": args.rounds, "iterations_per_round": args.iterations,
        "threads": torch.get_num_threads(), "torch": torch.__version__, "platform": platform.platform(),
        "seconds_per_iteration": median, "iterations_per_s": {k: 1.0 / v for k, v in median.items()},
        "speedup_vs_released": {k: ref / v for k, v in median.items() if k != "released structure"},
        "all_seconds": seconds,
    }
    print(f"\n{args.preset}, batch {args.batch}, {torch.get_num_threads()} threads, median of {args.rounds}:")
    for name, s in median.items():
        print(f"  {name:20s} {s:8.3f} s/iteration  {1 / s:7.2f} it/s  {ref / s:5.2f}x released")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"iteration-{args.preset}-b{args.batch}.json"
    atomic_write_text(path, json.dumps(report, indent=2))
    print(f"wrote {path}")
    return report


if __name__ == "__main__":
    main()
