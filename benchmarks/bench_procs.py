"""How to use the cores: one training process with N threads against N gloo processes (DDP,
`ganseg train --procs N`, the same as torchrun) with one thread each, at equal global batch.

    python -m benchmarks.bench_procs --data data/faces32.ganseg-data --presets cpu-tiny --steps 300
    python -m benchmarks.bench_procs --data data/faces64.ganseg-data --presets cpu-small --steps 60

Each mode runs `ganseg train` for `--steps` iterations in a fresh run folder (no sample grids,
no checkpoints kept) and reads the wall time of the whole run and the iterations per second of
its second half from the run's `log.csv` (the first half holds the warm-up).  Measure on an
otherwise idle machine: a second job on a core makes both modes look alike.  Writes
benchmarks/results/procs-<preset>.json and prints a line per mode.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.bench_recipes import shown_argument
from ganseg_lib.checkpoint import atomic_write_text
from ganseg_lib.config import get_preset
from ganseg_lib.training.log import LOG, read_log

RESULTS = Path(__file__).resolve().parent / "results"


def mode_command(mode: str, cores: int, data: Path, preset: str, out: Path, steps: int) -> tuple[list[str], dict]:
    """The command line and environment of one mode: "threads" (one process, `cores` threads)
    or "procs" (`cores` gloo processes of one thread, each with batch / cores)."""
    batch = get_preset(preset).train.batch
    train = ["train", "--data", str(data), "--preset", preset, "--out", str(out), "--steps", str(steps),
             "--quiet", "--force", "--grid", "0"]
    env = dict(os.environ, OMP_NUM_THREADS=str(cores))  # `--procs` shares them out: one thread per process
    if mode == "threads":
        return [sys.executable, "-m", "ganseg_lib", *train], env
    if batch % cores:
        raise SystemExit(f"bench_procs: {preset}'s batch {batch} does not split over {cores} processes; "
                         "choose --cores that divides it")
    return [sys.executable, "-m", "ganseg_lib", *train, "--procs", str(cores)], env


def log_summary(log_csv: Path) -> dict:
    """Wall seconds of the run and iterations per second over the second half of its steps."""
    rows = read_log(log_csv)
    last, middle = rows[-1], rows[len(rows) // 2 - 1] if len(rows) > 1 else None
    steps, seconds = int(last["step"]), float(last["elapsed_s"])
    out = {"steps": steps, "elapsed_s": round(seconds, 2)}
    if middle is not None and int(last["step"]) > int(middle["step"]):
        out["it_per_s_second_half"] = round((steps - int(middle["step"])) / (seconds - float(middle["elapsed_s"])), 3)
    return out


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", required=True, help="a prepared .ganseg-data file at the presets' size")
    p.add_argument("--presets", nargs="+", default=["cpu-tiny"])
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--cores", type=int, default=2)
    p.add_argument("--out", default=str(RESULTS))
    args = p.parse_args(argv)
    report = {"machine": platform.processor() or platform.machine(), "cores": args.cores, "steps": args.steps,
              "data": Path(args.data).name, "presets": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for preset in args.presets:
            modes = {}
            for mode in ("threads", "procs"):
                run = Path(tmp) / f"{preset}-{mode}"
                cmd, env = mode_command(mode, args.cores, Path(args.data), preset, run, args.steps)
                done = subprocess.run(cmd, env=env, capture_output=True, text=True)
                if done.returncode:
                    raise SystemExit(f"bench_procs: {mode} run of {preset} failed:\n{done.stderr[-2000:]}")
                shown = [shown_argument(a, Path(args.data), Path(tmp)) for a in cmd[1:]]
                modes[mode] = {"command": " ".join([f"OMP_NUM_THREADS={env['OMP_NUM_THREADS']}", "python", *shown]),
                               **log_summary(run / LOG)}
                print(f"{preset:10s} {mode:8s} {modes[mode]['elapsed_s']:8.1f} s for {args.steps} steps, "
                      f"{modes[mode].get('it_per_s_second_half', float('nan')):.3f} it/s (second half)")
            modes["procs_speedup_wall"] = round(modes["threads"]["elapsed_s"] / modes["procs"]["elapsed_s"], 3)
            report["presets"][preset] = modes
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    name = "procs-" + "-".join(args.presets) + ".json"
    atomic_write_text(out / name, json.dumps(report, indent=1) + "\n")
    print(f"wrote {out / name}")
    return report


if __name__ == "__main__":
    main()
