"""Training recipes compared at equal budget on a data file of yours: train, distill, evaluate.

    python -m benchmarks.bench_recipes --data data/myfaces32.ganseg-data --recipes course augmented \\
        --seeds 0 1 --steps 4800 --out benchmarks/results/recipes-myfaces32.json

Each (recipe, seed) runs `ganseg train` (one thread, `--steps` iterations: a budget in iterations,
so that a busy machine does not change what is compared; `--minutes` budgets wall minutes instead,
for targets stated in minutes), `ganseg distill` and `ganseg evaluate` in its own run folder
under `--runs`; a run whose metrics.json exists is read, not run again (`--collect` only
reads).  The report holds, per run, the exact commands, GAN iterations and minutes,
distillation minutes, the landmark error and its x-mean-shape ratio (or foreground IoU) and how
many parts are alive, plus the mean over seeds per recipe; it is printed as a table and written
as JSON.  Use it on your own folder (prepared with `python -m data_prep.prepare folder ...`) to
choose a recipe before a long run.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.report import write_report
from ganseg_lib.training.log import LOG, read_log

# name -> (preset, --set overrides, one line on what it is)
RECIPES: dict[str, tuple[str, list[str], str]] = {
    "course": ("cpu-tiny", ["loss.lambda_con=3"], "the shipped faces checkpoint's recipe: cpu-tiny at lambda_con 3"),
    "augmented": ("cpu-tiny", ["loss.lambda_con=3", "augment.policy=color,translation,cutout", "augment.p=0",
                               "augment.ada_target=0.6"],
                  "course + adaptive DiffAugment of D's inputs (color, translation, cutout; ADA target 0.6)"),
    "augmented-fixed": ("cpu-tiny", ["loss.lambda_con=3", "augment.policy=color,translation,cutout", "augment.p=1"],
                        "course + DiffAugment at full strength (p = 1)"),
    "jittered": ("cpu-tiny", ["loss.lambda_con=3", "augment.real_zoom=0.3", "augment.real_shift=0.05",
                              "augment.real_flip=true"],
                 "course + jitter of the real images only (zoom x1-1.3, shift 5 %, mirror): G must move the face"),
    "course-con10": ("cpu-tiny", ["loss.lambda_con=10"],
                     "course with lambda_con 10 (2x eq. 26 at K = 4): tighter parts"),
    "tight-k8": ("cpu-tiny", ["generator.n_parts=8", "loss.lambda_con=20"],
                 "K = 8 with lambda_con 20 (2x eq. 26): small parts that could each hold one feature"),
    "course-k8": ("cpu-tiny", ["generator.n_parts=8", "loss.lambda_con=10"],
                  "course with K = 8 and lambda_con 10 (eq. 26: 1.25 K)"),
    "coarse": ("cpu-tiny-coarse", ["loss.lambda_con=3"],
               "course on cpu-tiny-coarse: the mask stack at 16 px, its logits up-sampled (1.2x the iterations/s)"),
    "course-64": ("cpu-small", ["loss.lambda_con=3"],
                  "the course recipe at 64 px: cpu-small at lambda_con 3"),
    "minibatch-std": ("cpu-tiny", ["loss.lambda_con=3", "discriminator.minibatch_std_group=4"],
                      "course + ProGAN's minibatch std channel in D (groups of 4): D can see a batch whose faces "
                      "share one layout"),
    "approximate-masks": ("cpu-tiny", ["loss.lambda_con=3", "generator.exact_masks=false"],
                          "course with generator.exact_masks=false: the mask stack reaches only as far as the "
                          "finest level reads it (masks exact, the image approximately equivariant near its border)"),
    "low-r1": ("cpu-tiny", ["loss.lambda_con=3", "loss.r1_gamma=0.1"],
               "course with R1 gamma 0.1 (10x lower; StyleGAN2-ADA's rule 2e-4 * res^2 / batch gives 0.013 at "
               "32 px): a sharper D that may see one layout shared by every face"),
    "divisor-20": ("cpu-tiny", ["loss.lambda_con=3", "generator.point_divisor=20"],
                   "course with the authors' point divisor 20 (cpu-tiny: 2): points move 10x less per step of "
                   "the point MLP; the generator's layouts vary 2-3x more than the real faces move "
                   "(bench_part_tracking)"),
    "augmented-k8": ("cpu-tiny", ["generator.n_parts=8", "loss.lambda_con=10", "augment.policy=color,translation,cutout",
                                  "augment.p=0", "augment.ada_target=0.6"],
                     "augmented with K = 8 and lambda_con 10 (eq. 26: 1.25 K)"),
}


def ganseg(*args: str) -> list[str]:
    return [sys.executable, "-m", "ganseg_lib", *args]


def run_one(recipe: str, seed: int, data: Path, runs: Path, steps: int, minutes: float | None, distill_steps: int,
            threads: int, collect: bool) -> dict:
    preset, overrides, _ = RECIPES[recipe]
    run = runs / f"{recipe}-s{seed}"
    commands = [
        ganseg("train", "--data", str(data), "--preset", preset, "--out", str(run), "--steps", str(steps),
               *(["--minutes", f"{minutes:g}"] if minutes else []), "--seed", str(seed), "--quiet",
               "--keep-every", "500", *(["--set", *overrides] if overrides else [])),
        ganseg("distill", "--run", str(run), "--steps", str(distill_steps), "--quiet"),
        ganseg("evaluate", "--run", str(run), "--data", str(data)),
    ]
    wall: dict[str, float] = {}
    if not (run / "metrics.json").exists():
        if collect:
            return {"recipe": recipe, "seed": seed, "run": run.name, "status": "not run"}
        env = dict(os.environ, OMP_NUM_THREADS=str(threads))
        for name, cmd in zip(("train", "distill", "evaluate"), commands):
            start = time.perf_counter()
            done = subprocess.run(cmd, env=env)
            wall[name] = (time.perf_counter() - start) / 60
            if done.returncode != 0:
                return {"recipe": recipe, "seed": seed, "run": run.name, "status": f"{name} failed"}
    shown = [[shown_argument(a, data, runs) for a in c] for c in commands]
    return summarise(run, recipe, seed, shown, wall)


def shown_argument(arg: str, data: Path, runs: Path) -> str:
    """A command's argument as the report shows it: the data file by its name, run folders under runs/."""
    if arg == str(data):
        return data.name
    if arg.startswith(str(runs)):
        return "runs/" + Path(arg).relative_to(runs).as_posix()
    return arg


def summarise(run: Path, recipe: str, seed: int, commands: list[list[str]], minutes: dict[str, float]) -> dict:
    last = read_log(run / LOG)[-1]
    metrics = json.loads((run / "metrics.json").read_text())
    row = {"recipe": recipe, "seed": seed, "run": run.name, "status": "done",
           "commands": [" ".join(["ganseg", *c[3:]]) for c in commands],
           "gan_iterations": int(last["step"]), "gan_minutes": float(last["elapsed_s"]) / 60,
           "wall_minutes": minutes or None, "parts_alive": metrics.get("parts", {}).get("alive"),
           "part_mass": metrics.get("parts", {}).get("mass")}
    lm = metrics.get("landmarks")
    if lm is not None and "error_pct" in lm:
        row |= {"landmark_error_pct": lm["error_pct"], "x_mean_shape": lm["x_mean_shape"],
                "mean_shape_pct": lm["references_pct"]["mean_shape"]}
    elif lm is not None:
        row |= {"keypoint_error_px": lm["mean_px"], "x_mean_shape": lm["x_mean_shape"]}
    if "foreground" in metrics:
        row["fg_iou"] = metrics["foreground"]["iou"]
    return row


def table(rows: list[dict]) -> str:
    cols = ["recipe", "seed", "gan_iterations", "gan_minutes", "landmark_error_pct", "x_mean_shape", "fg_iou",
            "parts_alive"]
    lines = [" | ".join(cols)]
    for r in rows:
        lines.append(" | ".join(f"{r[c]:.3g}" if isinstance(r.get(c), float) else str(r.get(c, "-")) for c in cols))
    return "\n".join(lines)


def per_recipe(rows: list[dict]) -> dict:
    out = {}
    for recipe in dict.fromkeys(r["recipe"] for r in rows):
        done = [r for r in rows if r["recipe"] == recipe and r["status"] == "done"]
        out[recipe] = {k: statistics.mean(r[k] for r in done) for k in ("x_mean_shape", "landmark_error_pct", "fg_iou")
                       if done and all(k in r for r in done)}
        out[recipe]["seeds"] = [r["seed"] for r in done]
    return out


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(prog="python -m benchmarks.bench_recipes", description=__doc__.split("\n")[0])
    p.add_argument("--data", required=True, help="prepared data file (train split trains, test split scores)")
    p.add_argument("--recipes", nargs="+", default=["course", "augmented"], choices=sorted(RECIPES))
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    p.add_argument("--steps", type=int, default=4800, help="GAN iterations per run (4,800: ~35 min on one thread)")
    p.add_argument("--minutes", type=float,
                   help="a budget in GAN wall minutes instead (--steps is then the most it may run): for targets "
                        "stated in minutes; on a busy machine runs then get fewer iterations")
    p.add_argument("--distill-steps", type=int, default=600)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--runs", default="runs/recipes", help="folder for the run folders")
    p.add_argument("--out", default="benchmarks/results/recipes.json")
    p.add_argument("--collect", action="store_true", help="only read runs that are done")
    p.add_argument("--note", help="a line kept in the report (e.g. how the runs were made)")
    args = p.parse_args(argv)
    rows = [run_one(r, s, Path(args.data), Path(args.runs), args.steps, args.minutes, args.distill_steps, args.threads,
                    args.collect)
            for r in args.recipes for s in args.seeds]
    report = {"data": Path(args.data).name, "machine": platform.processor() or platform.machine(),
              "budget": {"gan_iterations": args.steps, **({"gan_minutes": args.minutes} if args.minutes else {}),
                          "distill_steps": args.distill_steps, "threads": args.threads},
              "recipes": {r: {"preset": RECIPES[r][0], "overrides": RECIPES[r][1], "what": RECIPES[r][2]}
                          for r in args.recipes},
              "runs": rows, "mean_over_seeds": per_recipe(rows), **({"note": args.note} if args.note else {})}
    print(table(rows))
    write_report(args.out, report)
    return report


if __name__ == "__main__":
    main()
