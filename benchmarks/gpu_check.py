"""One prepared check of the GPU path, to run when a GPU is at hand (about 8 minutes on one GPU).

    python -m benchmarks.gpu_check                      # CUDA: the whole check
    python -m benchmarks.gpu_check --device cpu --quick # the same plumbing on the CPU, in seconds

Three parts, each written into one JSON (benchmarks/measured/gpu-check-DEVICE.json by default):

1. agreement: for every preset, the generator's image and masks and the discriminator's logits
   on `--device` against the CPU, same weights and latents, in float32 with TF32 off;
2. speed: the paper preset's training iteration (`training.gan.iteration`, lazy R1 and mask
   losses weighted by their intervals) at batch 64 in float32 and bfloat16, eager and compiled,
   as images/s, and the fraction of the device's float32 matmul rate the FLOPs reach;
3. training: the lesson-08 setting (`course.live_run`) trained through `ganseg_lib.training.gan.train`
   for `--train-minutes`, with its iterations per second and final losses.

`--quick` shrinks every part (cpu-tiny for the speed part, batch 4, a few iterations, 5 s of
training) so that a test can run the whole script on a CPU.
"""
from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode
from tqdm import tqdm

from ganseg_lib.checkpoint import atomic_write_text
from ganseg_lib.config import PRESETS, get_preset
from ganseg_lib.course import live_run
from ganseg_lib.model import Discriminator, Generator
from ganseg_lib.training.gan import TrainOptions, forward_autocast, iteration, train
from ganseg_lib.training.log import LOG, read_log
from ganseg_lib.training.state import build_state

MEASURED = Path(__file__).resolve().parent / "measured"


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def agreement(preset: str, device: torch.device, batch: int) -> dict:
    """Max |difference| between `device` and CPU for G's image and masks and D's logits."""
    cfg = get_preset(preset)
    torch.manual_seed(0)
    g_cpu, d_cpu = Generator(cfg).eval(), Discriminator(cfg).eval()
    g_dev, d_dev = Generator(cfg).eval().to(device), Discriminator(cfg).eval().to(device)
    g_dev.load_state_dict(g_cpu.state_dict())
    d_dev.load_state_dict(d_cpu.state_dict())
    latents = g_cpu.sample_latents(batch, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        ref, out = g_cpu(latents), g_dev(latents.to(device))
        logits_ref, logits = d_cpu(ref.image), d_dev(ref.image.to(device))
    errors = {"image": (out.image.cpu() - ref.image).abs().max().item(),
              "masks": (out.masks.cpu() - ref.masks).abs().max().item(),
              "d_logits": ((logits.cpu() - logits_ref).abs().max() / (1 + logits_ref.abs().max())).item()}
    return {"preset": preset, "batch": batch, "max_abs_error": errors, "ok": all(e < 1e-3 for e in errors.values())}


def iteration_speed(preset: str, device: torch.device, batch: int, bf16: bool, backend: str,
                    warmup: int, rounds: int, count_flops: bool = False) -> dict:
    """Seconds per training iteration over one full lazy-regularisation cycle, min/median/max
    (`backend`: the torch.compile backend, "" for eager); with count_flops, the FLOPs of one
    iteration too (counted on an eager cycle: compiling does not change them)."""
    cfg = get_preset(preset)
    cfg = replace(cfg, train=replace(cfg.train, batch=batch))
    state = build_state(cfg, device, seed=0)
    size = cfg.generator.image_size
    real = torch.rand(batch, 3, size, size, device=device) * 2 - 1
    autocast = forward_autocast(device.type, bf16)
    nets = (torch.compile(state.g, backend=backend), torch.compile(state.d, backend=backend)) if backend else None
    cycle = max(cfg.loss.r1_interval, cfg.loss.reg_interval)  # every kind of step once per cycle
    noise = torch.Generator().manual_seed(0)

    def run_cycle(first: int, compiled) -> None:
        for step in range(first, first + cycle):
            iteration(state, cfg, real, state.g.sample_latents(batch, noise, device),
                      state.g.sample_latents(batch, noise, device), step, autocast=autocast, compiled=compiled)

    start = time.perf_counter()
    for w in range(warmup):
        run_cycle(1 + w * cycle, nets)
    synchronize(device)
    warmup_s = time.perf_counter() - start
    per_iteration = []
    for r in range(rounds):
        start = time.perf_counter()
        run_cycle(1 + (warmup + r) * cycle, nets)
        synchronize(device)
        per_iteration.append((time.perf_counter() - start) / cycle)
    med = statistics.median(per_iteration)
    row = {"preset": preset, "batch": batch, "bf16": bf16, "compiled": backend or None, "cycle_iterations": cycle,
           "warmup_s": warmup_s, "s_per_iteration": {"min": min(per_iteration), "median": med, "max": max(per_iteration)},
           "images_per_s": batch / med}
    if count_flops:
        counter = FlopCounterMode(display=False)
        with counter:
            run_cycle(1 + (warmup + rounds) * cycle, None)  # eager: the counter sees every op
        row["gflop_per_iteration"] = counter.get_total_flops() / cycle / 1e9
    return row


def matmul_rate(device: torch.device, n: int) -> float:
    """float32 GFLOP/s of an n x n matmul on `device` (TF32 off), median of 10."""
    a, b = torch.randn(n, n, device=device), torch.randn(n, n, device=device)
    for _ in range(3):
        a @ b
    times = []
    for _ in range(10):
        synchronize(device)
        start = time.perf_counter()
        a @ b
        synchronize(device)
        times.append(time.perf_counter() - start)
    return 2 * n**3 / statistics.median(times) / 1e9


def lesson_training(device: torch.device, minutes: float, images: int) -> dict:
    """Train the lesson-08 setting for `minutes` on random-but-fixed images; its speed and losses."""
    run = live_run(device)
    cfg = run.config()
    cfg = replace(cfg, train=replace(cfg.train, steps=10**6, log_every=10))  # the time budget stops it
    size = cfg.generator.image_size
    data = torch.randint(0, 256, (images, 3, size, size), generator=torch.Generator().manual_seed(0),
                         dtype=torch.uint8)
    with tempfile.TemporaryDirectory() as folder:
        state = train(cfg, data, folder, TrainOptions(device=device.type, bf16=run.bf16, progress=False,
                                                      time_budget_s=60.0 * minutes, grid_samples=0))
        final = read_log(Path(folder) / LOG)[-1]
    return {"preset": run.preset, "overrides": list(run.overrides), "bf16": run.bf16, "batch": cfg.train.batch,
            "minutes": minutes, "iterations": state.step, "it_per_s": state.step / max(state.elapsed, 1e-9),
            "images_per_s": state.step * cfg.train.batch / max(state.elapsed, 1e-9),
            "final": {k: float(final[k]) for k in ("d_loss", "g_loss") if final.get(k)}}


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--device", default="cuda")
    p.add_argument("--quick", action="store_true", help="tiny sizes: checks the plumbing (e.g. on a CPU)")
    p.add_argument("--preset", default="paper-celeba-wild", help="the preset whose iteration is timed")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--train-minutes", type=float, default=3.0)
    p.add_argument("--no-compile", action="store_true", help="skip the compiled variants")
    p.add_argument("--out", default=None, help="JSON path (default benchmarks/measured/gpu-check-DEVICE.json)")
    args = p.parse_args(argv)
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("gpu_check: no CUDA device is visible here; run it on a GPU machine, "
                         "or check the plumbing with --device cpu --quick")
    torch.backends.cuda.matmul.allow_tf32 = False  # float32 means float32 in the agreement check
    torch.backends.cudnn.allow_tf32 = False
    quick = args.quick
    preset = "cpu-tiny" if quick else args.preset
    batch = 4 if quick else args.batch
    rounds = 2 if quick else args.rounds
    report: dict = {"device": torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor()
                    or platform.machine(), "torch": torch.__version__, "quick": quick,
                    "command": "python -m benchmarks.gpu_check " + " ".join(argv if argv is not None else [])}
    started = time.perf_counter()

    presets = ["cpu-tiny"] if quick else sorted(PRESETS)
    report["agreement"] = [agreement(name, device, 2) for name in tqdm(presets, desc="agreement", unit="preset")]

    # quick: aot_eager traces and differentiates like inductor without generating code (seconds, not minutes)
    backend = "" if args.no_compile else ("aot_eager" if quick else "inductor")
    variants = [(bf16, b) for b in dict.fromkeys(["", backend]) for bf16 in (False, True)]
    report["matmul_gflops_per_s"] = matmul_rate(device, 256 if quick else 8192)
    speed, flops = [], None
    for bf16, b in tqdm(variants, desc="speed", unit="variant"):
        try:
            row = iteration_speed(preset, device, batch, bf16, b, warmup=1 if quick else 2, rounds=rounds,
                                  count_flops=flops is None)
            flops = row.pop("gflop_per_iteration", flops)
            rate = flops / row["s_per_iteration"]["median"]
            row |= {"gflop_per_iteration": flops, "gflops_per_s": rate,
                    "fraction_of_fp32_matmul": rate / report["matmul_gflops_per_s"]}
        except Exception as err:  # e.g. no C++ compiler for inductor: reported, the rest still runs
            row = {"preset": preset, "batch": batch, "bf16": bf16, "compiled": b or None,
                   "error": f"{type(err).__name__}: {str(err).splitlines()[0][:200] if str(err) else ''}"}
        speed.append(row)
    report["speed"] = speed
    report["training"] = lesson_training(device, 5 / 60 if quick else args.train_minutes, 64 if quick else 2048)
    report["total_minutes"] = (time.perf_counter() - started) / 60

    print(f"\n{report['device']}, torch {report['torch']}{' (quick)' if quick else ''}")
    for a in report["agreement"]:
        errs = ", ".join(f"{k} {v:.1e}" for k, v in a["max_abs_error"].items())
        print(f"  agreement {a['preset']:18s} {'ok ' if a['ok'] else 'BAD'} {errs}")
    print(f"  matmul fp32: {report['matmul_gflops_per_s']:.0f} GFLOP/s")
    for s in speed:
        what = f"{s['preset']} b{s['batch']} {'bf16' if s['bf16'] else 'fp32'}" + \
            (f" compiled ({s['compiled']})" if s["compiled"] else "")
        if "error" in s:
            print(f"  {what:40s} error: {s['error']}")
        else:
            t = s["s_per_iteration"]
            print(f"  {what:40s} {t['min']:.3f} / {t['median']:.3f} / {t['max']:.3f} s per iteration "
                  f"(min / median / max), {s['images_per_s']:.0f} img/s, "
                  f"{100 * s['fraction_of_fp32_matmul']:.0f} % of fp32 matmul")
    tr = report["training"]
    print(f"  lesson-08 training ({tr['preset']}, batch {tr['batch']}): {tr['iterations']} iterations in "
          f"{tr['minutes']:.2f} min, {tr['it_per_s']:.2f} it/s")
    out = Path(args.out) if args.out else MEASURED / f"gpu-check-{device.type}{'-quick' if quick else ''}.json"
    atomic_write_text(out, json.dumps(report, indent=2) + "\n")
    print(f"wrote {out} ({report['total_minutes']:.1f} min)")
    return report


if __name__ == "__main__":
    main()
