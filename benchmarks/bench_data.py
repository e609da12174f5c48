"""Speed of the data tools: synthetic rendering per domain (images/s, against the target of
10,000 images at 64 px in under 30 s), writing and loading a data file, and drawing random
training batches from it the way trainers do.

    python -m benchmarks.bench_data                        # every domain, 10,000 images at 64 px
    python -m benchmarks.bench_data --n 2000 --domains faces figures --size 32

Rendering runs on one intra-op thread per process, in the calling process (workers 0, the
library default) or in worker processes (what `python -m data_prep.prepare` uses).  CPU seconds
(this process and its workers) are printed next to wall seconds, with the load average: other
processes on a small machine change wall times a lot.  Writes benchmarks/results/data.json.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import tempfile
import time
from pathlib import Path

import torch

from data_prep import DOMAINS, load, render, save, to_prepared

RESULTS = Path(__file__).resolve().parent / "results"
TARGET_N, TARGET_SECONDS = 10_000, 30.0  # issue target at 64 px


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the drawing workers)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def bench_render(domain: str, n: int, size: int, workers: int) -> dict:
    render(domain, 64, size, seed=1)  # warm-up: imports, first allocations
    wall, cpu = time.perf_counter(), cpu_seconds()
    images = render(domain, n, size, seed=0, workers=workers)
    wall, cpu = time.perf_counter() - wall, cpu_seconds() - cpu
    return {"domain": domain, "n": n, "size": size, "workers": workers, "wall_s": wall, "images_per_s": n / wall,
            "cpu_s": cpu, "images_per_cpu_s": n / cpu, "projected_10k_s": TARGET_N * wall / n, "rendered": images}


def bench_file(rendered, batch: int, draws: int) -> dict:
    data = to_prepared(rendered)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.pt"
        t = time.perf_counter()
        save(data, path)
        write_s = time.perf_counter() - t
        mb = path.stat().st_size / 2 ** 20
        t = time.perf_counter()
        ds = load(path, "train")
        load_s = time.perf_counter() - t
    g = torch.Generator().manual_seed(0)
    ds.sample(batch, g)
    t = time.perf_counter()
    for _ in range(draws):
        ds.sample(batch, g)
    sample_s = (time.perf_counter() - t) / draws
    return {"write_s": write_s, "file_mb": mb, "load_s": load_s, "batch": batch,
            "batches_per_s": 1.0 / sample_s, "batch_images_per_s": batch / sample_s}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--domains", nargs="+", default=list(DOMAINS), choices=list(DOMAINS))
    p.add_argument("--n", type=int, default=TARGET_N, help="images rendered per domain")
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--batch", type=int, default=64, help="batch size of the random-batch draw")
    p.add_argument("--workers", type=int, nargs="+", default=[0, min(4, os.cpu_count() or 1)],
                   help="drawing processes to compare (0 = in the calling process, the library default; "
                        "the CLI uses the CPU count)")
    args = p.parse_args()

    print(f"torch {torch.__version__}, {os.cpu_count()} CPUs, {torch.get_num_threads()} intra-op threads "
          f"(rendering uses 1), load average {os.getloadavg()[0]:.1f} before start")
    print(f"{'domain':<14}{'n':>7}{'px':>5}{'workers':>9}{'wall s':>9}{'img/s':>8}{'cpu s':>8}{'img/cpu-s':>11}"
          f"{'10k at 64 px':>16}")
    rows = []
    for domain in args.domains:
        for workers in args.workers:
            r = bench_render(domain, args.n, args.size, workers)
            rendered = r.pop("rendered")
            verdict = (f"{r['projected_10k_s']:.1f} s " + ("ok" if r["projected_10k_s"] < TARGET_SECONDS else "SLOW")
                       if args.size == 64 else "-")
            print(f"{domain:<14}{r['n']:>7}{r['size']:>5}{workers:>9}{r['wall_s']:>9.1f}{r['images_per_s']:>8.0f}"
                  f"{r['cpu_s']:>8.1f}{r['images_per_cpu_s']:>11.0f}{verdict:>16}")
            rows.append(r)
    f = bench_file(rendered, args.batch, draws=200)
    print(f"file of {len(rendered.images)} {args.domains[-1]} images: write {f['write_s']:.2f} s, "
          f"{f['file_mb']:.1f} MB, load {f['load_s']:.2f} s; random float batches of {f['batch']}: "
          f"{f['batches_per_s']:.0f}/s ({f['batch_images_per_s']:.0f} images/s)")
    print(f"load average {os.getloadavg()[0]:.1f} at the end")
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "data.json"
    out.write_text(json.dumps({"machine": platform.platform(), "cpus": os.cpu_count(), "torch": torch.__version__,
                               "render": rows, "file": f, "target": {"n": TARGET_N, "size": 64,
                                                                     "seconds": TARGET_SECONDS}}, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
