"""How good a segmenter each shipped training snapshot gives: distill from it, score it.

    python -m data_prep.prepare faces --out data/faces32.ganseg-data --size 32
    python -m benchmarks.bench_snapshots --data data/faces32.ganseg-data

For every snapshot in `checkpoints/snapshots/` of `--domain` (lesson 08's "parts emerging"
figure), a segmenter is distilled from that snapshot's EMA generator exactly as `ganseg
distill` does (the snapshot's own segmenter settings, `--steps` steps, one seed) and scored on
the test split of `--data` as `ganseg evaluate` does: landmark error and its ratio to the mean
shape, foreground IoU, parts alive.  With the parts' masses the report says what each stage of
training is worth to the segmenter.  Writes benchmarks/results/snapshots-<domain>.json and
prints a line per snapshot.
"""
from __future__ import annotations

import argparse
import platform
import tempfile
import time
from pathlib import Path

import torch

from benchmarks.report import write_report
from ganseg_lib.app.data import evaluation_splits
from ganseg_lib.app.shipped import load_snapshot, shipped_snapshots
from ganseg_lib.course import checkpoints_folder
from ganseg_lib.evaluation.evaluate import evaluate_run
from ganseg_lib.training.segmenter import distill

RESULTS = Path(__file__).resolve().parent / "results"


def score_snapshot(path: Path, data: Path, steps: int, seed: int, work: Path) -> dict:
    """Distill a segmenter from one snapshot and score it on data's test split."""
    cfg, g_ema, gan_step = load_snapshot(path)
    start = time.perf_counter()
    model = distill(cfg, g_ema, work / f"segmenter-{gan_step}.pt", steps=steps, seed=seed, progress=False,
                    log=lambda *_: None)
    minutes = (time.perf_counter() - start) / 60
    train, test = evaluation_splits(data, cfg, None)
    result = evaluate_run(model.eval(), cfg, train, test, data.name)
    row = {"snapshot": path.name, "gan_steps": gan_step, "distill_steps": steps, "distill_minutes": round(minutes, 2)}
    lm = result.get("landmarks")
    if lm is not None:
        row["landmark_error"] = lm.get("error_pct", lm.get("mean_px"))
        row["landmark_unit"] = "% IOD" if "error_pct" in lm else "px"
        row["x_mean_shape"] = lm["x_mean_shape"]
    if result.get("foreground") is not None:
        row["foreground_iou"] = result["foreground"]["iou"]
    row["parts_alive"] = result["parts"]["alive"]
    row["part_mass"] = result["parts"]["mass"]
    return row


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", required=True, help="a prepared .ganseg-data file of the snapshots' domain and size")
    p.add_argument("--domain", default="faces")
    p.add_argument("--size", type=int, default=32)
    p.add_argument("--steps", type=int, default=600, help="distillation steps per snapshot")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", default=None, help="JSON report (default benchmarks/results/snapshots-DOMAIN.json)")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    data = Path(args.data)
    if not data.is_file():
        raise SystemExit(f"bench_snapshots: {data} does not exist; make it with python -m data_prep.prepare "
                         f"{args.domain} --out {data} --size {args.size}")
    paths = shipped_snapshots(args.domain, args.size, checkpoints_folder())
    if not paths:
        raise SystemExit(f"bench_snapshots: no {args.domain}-{args.size} snapshots in "
                         f"{checkpoints_folder() / 'snapshots'}; export them with ganseg export --snapshots")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for path in paths:
            row = score_snapshot(path, data, args.steps, args.seed, Path(tmp))
            rows.append(row)
            lm = (f"landmarks {row['landmark_error']:.2f} {row['landmark_unit']} = {row['x_mean_shape']:.3f}x mean shape"
                  if "landmark_error" in row else "no landmarks")
            fg = f", fg IoU {row['foreground_iou']:.3f}" if "foreground_iou" in row else ""
            print(f"step {row['gan_steps']:>6}: {lm}{fg}, parts alive {row['parts_alive']}, "
                  f"distilled in {row['distill_minutes']:.1f} min")
    report = {"machine": platform.processor() or platform.machine(), "threads": args.threads,
              "data": data.name, "domain": args.domain, "size": args.size, "seed": args.seed,
              "command": f"python -m benchmarks.bench_snapshots --data {data.name} --domain {args.domain} "
                         f"--size {args.size} --steps {args.steps} --seed {args.seed}",
              "snapshots": rows}
    write_report(args.out or RESULTS / f"snapshots-{args.domain}.json", report)
    return report


if __name__ == "__main__":
    main()
