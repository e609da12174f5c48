"""Speed of every stage, per preset: images/s, achieved GFLOP/s next to the machine's matmul
GFLOP/s, and peak memory; plus scaling over resolution and number of parts.

    python -m benchmarks.bench_speed                       # cpu-tiny, cpu-small, paper, paper-fast
    python -m benchmarks.bench_speed --presets cpu-tiny --quick
    python -m benchmarks.bench_speed --device cuda --batch 64 --bf16 --compile

Each measurement runs in a fresh process (so its peak memory is its own), after warm-up
iterations, and reports the median of several timed repeats.  FLOPs are counted with
torch.utils.flop_counter.FlopCounterMode on the same call.  Writes
benchmarks/results/speed.json and speed.png.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import resource
import statistics
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
DEFAULT_PRESETS = ["cpu-tiny", "cpu-small", "paper-celeba-wild", "paper-fast"]
STAGES = ["g_forward", "g_forward_backward", "d_step", "g_step", "train_iteration", "distill_step",
          "segmenter_inference"]


# --------------------------------------------------------------------------------------------
# measurements (run inside a worker process)

def time_calls(fn, warmup: int, repeats: int) -> list[float]:
    """Seconds of each of `repeats` calls of fn after `warmup` untimed ones, on the current thread
    count (torch.utils.benchmark.Timer synchronises CUDA around each measurement)."""
    import torch  # the workers import torch after setting their thread count
    from torch.utils import benchmark

    for _ in range(warmup):
        fn()
    timer = benchmark.Timer(stmt="fn()", globals={"fn": fn}, num_threads=torch.get_num_threads())
    return [timer.timeit(1).mean for _ in range(repeats)]


def _flops(fn) -> int:
    from torch.utils.flop_counter import FlopCounterMode
    counter = FlopCounterMode(display=False)
    with counter:
        fn()
    return counter.get_total_flops()


def _config(job: dict):
    from ganseg_lib.config import GANSegConfig, get_preset
    cfg = get_preset(job["preset"]) if job.get("preset") else None
    if job.get("scaling"):
        size, k = job["scaling"]["size"], job["scaling"]["n_parts"]
        base = get_preset("paper-celeba-wild")
        gen = replace(base.generator, image_size=size, n_parts=k,
                      resolutions=(size // 4, size // 4, size // 2, size))
        n_down = {32: 4, 64: 5, 128: 6}[size]
        disc = replace(base.discriminator, channels=base.discriminator.channels[:n_down])
        cfg = GANSegConfig(name=f"paper-arch-{size}px-K{k}", generator=gen, discriminator=disc)
    return cfg


def measure(job: dict) -> dict:
    """Run one (preset, stage) measurement; returns timings, FLOPs and peak memory."""
    import torch

    from benchmarks.reference_arch import ReferenceGenerator, reference_iteration
    from ganseg_lib import Discriminator, Generator
    from ganseg_lib.training import gan
    from ganseg_lib.training.numerics import flush_subnormals
    from ganseg_lib.training.state import adam
    from ganseg_lib.training.segmenter import build_segmenter, distillation_loss

    torch.manual_seed(0)
    device = torch.device(job["device"])
    flush_subnormals(device)  # as `ganseg train` does (ganseg_lib.training.numerics)
    stage, batch = job["stage"], job["batch"]
    autocast = gan.forward_autocast(device.type, bool(job.get("bf16")))
    if stage == "matmul":
        n = 2048
        a, b = torch.randn(n, n, device=device), torch.randn(n, n, device=device)
        times = time_calls(lambda: a @ b, 3, max(job["repeats"], 10))
        med = statistics.median(times)
        return {"seconds": med, "gflops_per_s": 2 * n**3 / med / 1e9, "threads": torch.get_num_threads()}

    cfg = _config(job)
    size = cfg.generator.image_size
    g = Generator(cfg).to(device).train()
    if job.get("channels_last"):
        g = g.to(memory_format=torch.channels_last)
    d = Discriminator(cfg).to(device)
    gen_call = torch.compile(g) if job.get("compile") else g
    latents = g.sample_latents(batch, device=device)
    real = torch.rand(batch, 3, size, size, device=device) * 2 - 1
    opt_g = adam(g.parameters(), cfg.train.lr_g, cfg.train.betas)
    opt_d = adam(d.parameters(), cfg.train.lr_d, cfg.train.betas)
    r1_every, reg_every = cfg.loss.r1_interval, cfg.loss.reg_interval
    result: dict = {}

    def g_forward():
        with torch.no_grad(), autocast():
            gen_call(latents)

    def g_forward_backward():
        with autocast():
            out = gen_call(latents)
            loss = out.image.float().square().mean() + out.masks.float().square().mean()
        loss.backward()

    def d_plain():
        gan.d_step(gen_call, d, opt_d, real, latents, cfg, do_r1=False, autocast=autocast)

    def d_r1():
        gan.d_step(gen_call, d, opt_d, real, latents, cfg, do_r1=True, autocast=autocast)

    def g_plain():
        gan.g_step(gen_call, d, opt_g, latents, cfg, do_reg=False, autocast=autocast)

    def g_reg():
        gan.g_step(gen_call, d, opt_g, latents, cfg, do_reg=True, autocast=autocast)

    warm, reps = job["warmup"], job["repeats"]
    if stage in ("g_forward", "g_forward_backward"):
        fn = g_forward if stage == "g_forward" else g_forward_backward
        times = time_calls(fn, warm, reps)
        flops = _flops(fn) if not job.get("compile") else None
    elif stage in ("d_step", "g_step", "train_iteration"):
        # lazy regularisers: weight the regularised and plain steps by how often they run
        parts = {}
        if stage in ("d_step", "train_iteration"):
            parts["d"] = (time_calls(d_plain, warm, reps), time_calls(d_r1, 1, max(2, reps // 2)), r1_every)
        if stage in ("g_step", "train_iteration"):
            parts["g"] = (time_calls(g_plain, warm, reps), time_calls(g_reg, 1, max(2, reps // 2)), reg_every)
        times_total, flops = 0.0, 0
        for plain, reg, every in parts.values():
            times_total += (statistics.median(reg) + (every - 1) * statistics.median(plain)) / every
        if not job.get("compile"):
            for key, (fn_plain, fn_reg) in {"d": (d_plain, d_r1), "g": (g_plain, g_reg)}.items():
                if key in parts:
                    every = parts[key][2]
                    flops += (_flops(fn_reg) + (every - 1) * _flops(fn_plain)) // every
        else:
            flops = None
        times = [times_total]
        result["note"] = f"R1 every {r1_every} D steps, regularisers every {reg_every} G steps, weighted"
    elif stage == "reference_iteration":
        ref = ReferenceGenerator(cfg).to(device).train()
        ref_opt_g = torch.optim.Adam(ref.parameters(), lr=1e-4, betas=(0.5, 0.9))
        ref_opt_d = torch.optim.Adam(d.parameters(), lr=4e-4, betas=(0.5, 0.9))
        plain = time_calls(lambda: reference_iteration(ref, d, ref_opt_g, ref_opt_d, real, cfg, 1), warm, reps)
        with_gp = time_calls(lambda: reference_iteration(ref, d, ref_opt_g, ref_opt_d, real, cfg, 0), 1, 2)
        times = [(statistics.median(with_gp) + 15 * statistics.median(plain)) / 16]
        flops = (_flops(lambda: reference_iteration(ref, d, ref_opt_g, ref_opt_d, real, cfg, 0))
                 + 15 * _flops(lambda: reference_iteration(ref, d, ref_opt_g, ref_opt_d, real, cfg, 1))) // 16
        result["note"] = "released structure: D step keeps and back-propagates G's graph; GP every 16 D steps"
    elif stage in ("distill_step", "segmenter_inference"):
        seg = build_segmenter(cfg).to(device)
        opt = adam(seg.parameters(), cfg.segmenter.lr, cfg.segmenter.betas)
        g.eval()
        with torch.no_grad():
            out = g(latents)
        images, labels = out.image, out.masks.argmax(1)
        result["arch"] = cfg.segmenter.arch

        def distill():
            with torch.no_grad(), autocast():
                pair = g(latents)
            with autocast():
                loss = distillation_loss(seg(pair.image.float()).float(), pair.masks.argmax(1))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()

        def infer():
            seg.eval()
            with torch.no_grad(), autocast():
                seg(images)

        fn = distill if stage == "distill_step" else infer
        times = time_calls(fn, warm, reps)
        flops = _flops(fn)
        del labels
    else:
        raise ValueError(f"unknown stage {stage}")

    med = statistics.median(times)
    result.update(seconds=med, images_per_s=batch / med, flops=flops,
                  gflops_per_s=(flops / med / 1e9) if flops else None,
                  gflop_per_image=(flops / batch / 1e9) if flops else None)
    if device.type == "cuda":
        result["peak_memory_mb"] = torch.cuda.max_memory_allocated() / 2**20
    else:
        result["peak_memory_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


# --------------------------------------------------------------------------------------------
# driver

def run_job(job: dict) -> dict:
    """Measure in a fresh spawned process so that peak memory and thread pools are its own."""
    ctx = mp.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
        try:
            return {**job, **pool.submit(measure, job).result()}
        except Exception as err:  # a failed stage is reported, not fatal for the table
            return {**job, "error": f"{type(err).__name__}: {err}"}


def _fmt(v, spec):
    return format(v, spec) if isinstance(v, (int, float)) else "-"


def print_table(rows: list[dict], matmul: float) -> None:
    print(f"\nmachine matmul (2048^2 fp32): {matmul:.1f} GFLOP/s")
    head = f"{'preset':22s} {'stage':22s} {'batch':>5s} {'s/call':>9s} {'img/s':>9s} {'GFLOP/img':>10s} {'GFLOP/s':>8s} {'% mm':>5s} {'peak MB':>8s}"
    print(head)
    print("-" * len(head))
    for r in rows:
        if r.get("error"):
            print(f"{r['label']:22s} {r['stage']:22s} error: {r['error']}")
            continue
        pct = 100 * r["gflops_per_s"] / matmul if r.get("gflops_per_s") else None
        print(f"{r['label']:22s} {r['stage']:22s} {r['batch']:5d} {_fmt(r['seconds'], '9.3f')} "
              f"{_fmt(r['images_per_s'], '9.1f')} {_fmt(r.get('gflop_per_image'), '10.2f')} "
              f"{_fmt(r.get('gflops_per_s'), '8.1f')} {_fmt(pct, '5.0f')} {_fmt(r.get('peak_memory_mb'), '8.0f')}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--presets", nargs="+", default=DEFAULT_PRESETS)
    parser.add_argument("--stages", nargs="+", default=STAGES + ["reference_iteration"])
    parser.add_argument("--batch", type=int, default=None, help="batch for every preset (default: 16 cpu-*, 8 paper)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--bf16", action="store_true", help="bfloat16 autocast")
    parser.add_argument("--compile", action="store_true", help="torch.compile the generator")
    parser.add_argument("--channels-last", action="store_true")
    parser.add_argument("--no-scaling", action="store_true", help="skip the resolution and K curves")
    parser.add_argument("--quick", action="store_true", help="fewer repeats, no scaling, no paper reference")
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args(argv)
    if args.quick:
        args.repeats, args.warmup, args.no_scaling = 3, 1, True

    import torch
    from tqdm import tqdm

    base = {"device": args.device, "repeats": args.repeats, "warmup": args.warmup, "bf16": args.bf16,
            "compile": args.compile, "channels_last": args.channels_last}
    jobs = []
    for preset in args.presets:
        batch = args.batch or (8 if preset.startswith("paper") else 16)
        for stage in args.stages:
            if stage == "reference_iteration" and (not preset.startswith("paper") or preset == "paper-fast"):
                continue
            if stage == "reference_iteration" and args.quick:
                continue
            jobs.append({**base, "preset": preset, "label": preset, "stage": stage, "batch": batch})
    if not args.no_scaling:
        for size in (32, 64, 128):
            jobs.append({**base, "scaling": {"size": size, "n_parts": 8, "series": "size"}, "label": f"paper-arch {size}px K8",
                         "stage": "g_forward_backward", "batch": 2, "preset": None})
        for k in (4, 8, 16):
            jobs.append({**base, "scaling": {"size": 64, "n_parts": k, "series": "n_parts"}, "label": f"paper-arch 64px K{k}",
                         "stage": "g_forward_backward", "batch": 2, "preset": None})

    matmul = run_job({**base, "stage": "matmul", "label": "matmul", "batch": 1})
    rows = []
    for job in tqdm(jobs, desc="benchmarks", unit="stage"):
        rows.append(run_job(job))
    print_table(rows, matmul["gflops_per_s"])

    ref = {r["label"]: r for r in rows if r["stage"] == "reference_iteration" and not r.get("error")}
    ours = {r["label"]: r for r in rows if r["stage"] == "train_iteration" and not r.get("error")}
    ratios = {}
    for label, r in ref.items():
        for mine in (label, "paper-fast"):
            if mine in ours and ours[mine]["batch"] == r["batch"]:
                ratios[f"{mine} vs released structure"] = r["seconds"] / ours[mine]["seconds"]
    for name, ratio in ratios.items():
        print(f"speed-up, {name}: {ratio:.2f}x")

    report = {
        "machine": {"platform": platform.platform(), "processor": platform.processor(), "cpu_count": os.cpu_count(),
                    "torch": torch.__version__, "threads": matmul.get("threads"), "device": args.device,
                    "gpu": torch.cuda.get_device_name(0) if args.device == "cuda" else None,
                    "load_average": os.getloadavg()},
        "matmul_gflops_per_s": matmul["gflops_per_s"],
        "settings": {k: v for k, v in vars(args).items() if k != "out"},
        "results": rows,
        "speedups": ratios,
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    from ganseg_lib.checkpoint import atomic_write_text
    atomic_write_text(out / "speed.json", json.dumps(report, indent=2))
    from ganseg_lib import viz
    viz.save_figure(viz.speed_report(report), out / "speed.png")
    print(f"wrote {out / 'speed.json'} and {out / 'speed.png'}")


if __name__ == "__main__":
    main()
