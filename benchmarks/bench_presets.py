"""Generator forward+backward time per image for each preset, next to the released structure
configured as a plain CPU port (channels 64/32/16 at 32 px, SPADE hidden 32 or 128, 4- or 10-px
margins).  All models are timed in one process, interleaved, so the ratios hold even on a busy
machine.

    python -m benchmarks.bench_presets [--batch 32] [--rounds 5] [--threads N]
"""
from __future__ import annotations

import argparse
import os
import statistics
import time
from dataclasses import replace

import torch

from benchmarks.reference_arch import ReferenceGenerator
from ganseg_lib import PRESETS, Generator


def _ours(name: str):
    g = Generator(PRESETS[name]).train()
    return lambda lat: g(lat).image, g


def _port(hidden: int, margin: int):
    base = PRESETS["cpu-tiny"]
    gen = replace(base.generator, resolutions=(8, 16, 32), channels=(64, 32, 16), embed_dim=16, n_parts=4)
    g = ReferenceGenerator(replace(base, generator=gen), hidden=hidden, margin=margin).train()
    return (lambda lat: g(lat.z_point)), g


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--presets", nargs="+", default=["cpu-tiny", "cpu-small"])
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    models = {name: _ours(name) for name in args.presets}
    models["released structure, hidden 128, 10 px"] = _port(128, 10)
    models["released structure, hidden 32, 4 px"] = _port(32, 4)
    sizes = {name: g.cfg.image_size for name, (_, g) in models.items()}
    latents = {name: Generator(PRESETS["cpu-tiny"]).sample_latents(args.batch) if "released" in name
               else g.sample_latents(args.batch) for name, (_, g) in models.items()}
    times: dict[str, list[float]] = {name: [] for name in models}
    for r in range(args.rounds + 1):  # round 0 is warm-up
        for name, (fn, g) in models.items():
            t = time.perf_counter()
            fn(latents[name]).square().mean().backward()
            g.zero_grad(set_to_none=True)
            if r:
                times[name].append(time.perf_counter() - t)
    print(f"G forward+backward, batch {args.batch}, {torch.get_num_threads()} threads, "
          f"load average {os.getloadavg()[0]:.1f}; median of {args.rounds}")
    for name, ts in times.items():
        med = statistics.median(ts)
        print(f"  {name:40s} {sizes[name]:4d} px  {med:7.3f} s/batch  {1000 * med / args.batch:7.1f} ms/image")


if __name__ == "__main__":
    main()
