"""Training iterations per second: this library's loop against the released structure, interleaved.

    python -m benchmarks.bench_iteration --preset paper-celeba-wild --batch 8 --rounds 5
    python -m benchmarks.bench_iteration --preset paper-celeba-wild --batch 8 --rounds 5 --variants fp32 channels-last
    python -m benchmarks.bench_iteration --preset cpu-tiny --batch 16 --rounds 5 --iterations 20

One "iteration" is what `train.train()` does per step (`train.iteration`): a D step (R1 on its
lazy interval), a G step (concentration and area on theirs) and the EMA update.  The released
structure (`benchmarks.reference_arch`, built with the preset's widths) runs its own iteration:
the D step keeps and back-propagates G's graph, gradient penalty every 16 D steps, float32 in
the default memory layout.  For the paper presets `paper-fast` runs in the same rounds.

`--variants` runs this library's models in more modes: `channels-last` (the models' weights, and
so their feature maps, in channels_last layout: `ganseg train --channels-last`), `bf16`
(bfloat16 autocast of the forward passes, R1 in float32: `--bf16`) or both; `approximate-masks`
is the preset with `--set generator.exact_masks=false` (masks reach only as far as the finest
level reads them); `compiled` runs G and the non-R1 D passes through torch.compile (`ganseg
train --compile`; backend `--compile-backend`, inductor by default; its warm-up iterations
include the compilation).  All models live in one process and take turns, so machine noise hits
them alike.  The report gives, per model, the `--warmup` first iterations' seconds (the start a
learner waits through), min / median / max over the rounds, the speed-up of the medians over the
released structure, and GFLOP/s against the machine's 2048x2048 float32 matmul rate (FLOPs
counted by torch.utils.flop_counter on a batch-1 copy of each model, times the batch: the work
is linear in the batch, but the counter charges the backward of a grouped convolution, the
per-sample weights of `model.fast`, as if every group saw every sample, which grows with the
batch). Subnormal floats are read as zero for every model, as `ganseg train` does on CPU
(`ganseg_lib.training.numerics`); `--keep-subnormals` measures without that.
Written to benchmarks/results/iteration-PRESET-bBATCH.json.
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
from torch.utils.flop_counter import FlopCounterMode

from benchmarks.bench_speed import measure
from benchmarks.reference_arch import ReferenceGenerator, reference_iteration
from ganseg_lib import Discriminator
from ganseg_lib.training.gan import forward_autocast, iteration, to_channels_last
from ganseg_lib.training.numerics import flush_subnormals
from ganseg_lib.training.state import build_state
from ganseg_lib.checkpoint import atomic_write_text
from ganseg_lib.config import apply_overrides, get_preset

RESULTS = Path(__file__).resolve().parent / "results"
VARIANTS = ("fp32", "channels-last", "bf16", "bf16-channels-last", "approximate-masks", "compiled")
RELEASED = "released structure"


def ours(preset: str, batch: int, variant: str = "fp32", backend: str = "inductor"):
    """One training iteration of `preset` as `ganseg train` runs it, in `variant`'s mode (`backend`: the
    torch.compile backend of the compiled variant)."""
    cfg = get_preset(preset)
    cfg = replace(cfg, train=replace(cfg.train, batch=batch))
    if variant == "approximate-masks":
        cfg = apply_overrides(cfg, ["generator.exact_masks=false"])
    state = build_state(cfg, torch.device("cpu"), seed=0)
    size = cfg.generator.image_size
    real = torch.rand(batch, 3, size, size) * 2 - 1
    if "channels-last" in variant:
        to_channels_last(state)
        real = real.contiguous(memory_format=torch.channels_last)
    autocast = forward_autocast("cpu", "bf16" in variant)
    nets = (torch.compile(state.g, backend=backend), torch.compile(state.d, backend=backend)) \
        if variant == "compiled" else None

    def step(i: int) -> None:
        iteration(state, cfg, real, state.g.sample_latents(batch), state.g.sample_latents(batch), i,
                  autocast=autocast, compiled=nets)
    return step


def released(preset: str, batch: int):
    """One iteration of the released structure at `preset`'s widths."""
    cfg = get_preset(preset)
    small = cfg.generator.image_size < 128  # course presets: the port at the preset's own widths
    g = ReferenceGenerator(cfg, **({"hidden": cfg.generator.spade_hidden, "margin": 2} if small else {})).train()
    d = Discriminator(cfg)
    opt_g = torch.optim.Adam(g.parameters(), lr=cfg.train.lr_g, betas=cfg.train.betas)
    opt_d = torch.optim.Adam(d.parameters(), lr=cfg.train.lr_d, betas=cfg.train.betas)
    size = cfg.generator.image_size
    real = torch.rand(batch, 3, size, size) * 2 - 1
    return lambda i: reference_iteration(g, d, opt_g, opt_d, real, cfg, i)


def build(name: str, preset: str, batch: int, backend: str = "inductor"):
    """The iteration called `name` in the report: "PRESET", "PRESET [VARIANT]" or RELEASED (at `preset`)."""
    if name == RELEASED:
        return released(preset, batch)
    own, _, variant = name.partition(" [")
    return ours(own, batch, variant.rstrip("]") or "fp32", backend)


def counted_twin(name: str) -> str:
    """The model whose FLOPs stand for `name`'s: compiled code does the eager model's work, and the
    counter cannot see inside it."""
    return name.replace(" [compiled]", "")


def count_flops(step, indices: list[int]) -> list[int]:
    """FLOPs of step(i) for each iteration index (R1 and regulariser steps cost more)."""
    flops = []
    for i in indices:
        counter = FlopCounterMode(display=False)
        with counter:
            step(i)
        flops.append(counter.get_total_flops())
    return flops


def spread(values: list[float]) -> dict[str, float]:
    """Min, median and max of a model's seconds per round."""
    return {"min": min(values), "median": statistics.median(values), "max": max(values)}


def model_names(preset: str, variants: list[str]) -> list[str]:
    presets = [preset] + (["paper-fast"] if preset.startswith("paper") and preset != "paper-fast" else [])
    names = [p if v == "fp32" else f"{p} [{v}]" for v in variants for p in presets]
    return names + [RELEASED]


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--preset", default="cpu-tiny")
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--rounds", type=int, default=5, help="turns per model; min / median / max are reported")
    p.add_argument("--iterations", type=int, default=1, help="iterations per turn")
    p.add_argument("--warmup", type=int, default=2, help="untimed-for-the-median first iterations, reported apart")
    p.add_argument("--variants", nargs="+", choices=VARIANTS, default=["fp32"],
                   help="modes of this library's models (the released structure stays float32)")
    p.add_argument("--compile-backend", default="inductor",
                   help="torch.compile backend of the compiled variant (inductor needs a C++ compiler on CPU)")
    p.add_argument("--no-flops", action="store_true", help="skip the FLOP count and the matmul rate")
    p.add_argument("--keep-subnormals", action="store_true",
                   help="do not flush subnormal floats to zero (the slow first iterations, measured)")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--out", default=str(RESULTS))
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if not args.keep_subnormals:
        flush_subnormals("cpu")
    torch.manual_seed(0)

    names = model_names(args.preset, args.variants)
    models = {name: build(name, args.preset, args.batch, args.compile_backend) for name in names}
    warmup: dict[str, list[float]] = {name: [] for name in models}
    for w in range(args.warmup):  # plain iterations (no R1), each model in turn: kernels, allocator
        for name, step in models.items():
            start = time.perf_counter()
            step(1)
            warmup[name].append(time.perf_counter() - start)
            print(f"warm-up {w + 1}: {name:40s} {warmup[name][-1]:8.3f} s", flush=True)

    seconds: dict[str, list[float]] = {name: [] for name in models}
    indices = [1 + r * args.iterations + j for r in range(args.rounds) for j in range(args.iterations)]
    for r in range(args.rounds):
        for name, step in models.items():
            start = time.perf_counter()
            for i in indices[r * args.iterations:(r + 1) * args.iterations]:  # same indices for every model
                step(i)
            seconds[name].append((time.perf_counter() - start) / args.iterations)
            print(f"round {r + 1}: {name:40s} {seconds[name][-1]:8.3f} s/iteration", flush=True)

    median = {name: statistics.median(v) for name, v in seconds.items()}
    ref = median[RELEASED]
    report = {
        "preset": args.preset, "batch": args.batch, "rounds": args.rounds, "iterations_per_round": args.iterations,
        "variants": args.variants, **({"compile_backend": args.compile_backend} if "compiled" in args.variants else {}),
        "subnormals_flushed": not args.keep_subnormals,
        "threads": torch.get_num_threads(), "torch": torch.__version__,
        "platform": platform.platform(), "seconds_per_iteration": median,
        "iterations_per_s": {k: 1.0 / v for k, v in median.items()},
        "speedup_vs_released": {k: ref / v for k, v in median.items() if k != RELEASED},
        "spread_seconds": {k: spread(v) for k, v in seconds.items()},
        "warmup_seconds": warmup,
        "first_iteration_over_median": {k: v[0] / median[k] for k, v in warmup.items() if v},
        "all_seconds": seconds,
    }
    if not args.no_flops:
        matmul = measure({"stage": "matmul", "device": "cpu", "batch": 1, "repeats": 10})["gflops_per_s"]
        per_iter = {name: [args.batch * f for f in count_flops(build(counted_twin(name), args.preset, 1), indices)]
                    for name in names}
        # seconds[name] holds one mean per round; the rounds ran every index once
        gflops = {name: sum(per_iter[name]) / (sum(seconds[name]) * args.iterations) / 1e9 for name in names}
        report |= {"matmul_gflops_per_s": matmul,
                   "gflop_per_iteration": {k: statistics.median(v) / 1e9 for k, v in per_iter.items()},
                   "gflops_per_s": gflops, "fraction_of_matmul": {k: v / matmul for k, v in gflops.items()}}

    print(f"\n{args.preset}, batch {args.batch}, {torch.get_num_threads()} threads, {args.rounds} rounds:")
    for name, s in median.items():
        lo, hi = report["spread_seconds"][name]["min"], report["spread_seconds"][name]["max"]
        rate = f"  {report['fraction_of_matmul'][name]:5.1%} of matmul" if "fraction_of_matmul" in report else ""
        first = f"  first {warmup[name][0]:7.2f} s" if warmup[name] else ""
        print(f"  {name:40s} median {s:8.3f} s (min {lo:.3f}, max {hi:.3f})  {ref / s:5.2f}x released{rate}{first}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    kept = "-subnormals" if args.keep_subnormals else ""
    path = out / f"iteration-{args.preset}-b{args.batch}{kept}.json"
    atomic_write_text(path, json.dumps(report, indent=2))
    print(f"wrote {path}")
    return report


if __name__ == "__main__":
    main()
