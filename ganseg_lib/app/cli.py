"""The `ganseg` command: train a GAN, distill a segmenter, evaluate it, or run the whole demo.

    ganseg train    --data FILE --preset cpu-tiny --out runs/faces [--steps N] [--batch B] [--resume]
                    [--set section.field=value ...]
    ganseg distill  --run runs/faces [--steps N]
    ganseg evaluate --run runs/faces --data FILE
    ganseg export   --run runs/faces --out checkpoints/faces-32.pt --domain faces
    ganseg demo     [--fast]

Also `python -m ganseg_lib ...`.  Training and distillation run unchanged under
`torchrun --nproc_per_node=N -m ganseg_lib train ...` (gloo on CPU, nccl on GPU); torchrun
mistakes `--run` for its own `--run-path`, so there write `distill RUN` instead of `--run RUN`.
`ganseg train --procs N` starts the N processes itself (`launch.py`).  Every bad input ends in one
`ganseg: error: ...` line and exit status 2; no partial metrics.json or checkpoint is written.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

from ..checkpoint import CheckpointError, atomic_write_text, load_checkpoint
from ..config import PRESETS, ConfigError, apply_overrides, from_dict, get_preset
from ..evaluation.evaluate import EvaluationError, evaluate_run, report
from ..training import distributed
from ..training.gan import TrainingDiverged, TrainOptions, train
from ..training.log import LOG
from ..training.segmenter import SEGMENTER, DistillationDiverged, SegmenterError, distill, load_segmenter
from ..training.state import CHECKPOINT, load_gan
from ..viz import loss_curves, save_figure
from .data import CLIError, check_size, evaluation_splits, load_split
from .demo import run_demo
from .launch import launch
from .shipped import export_course_checkpoint, export_snapshots

DEMO_DIR = Path("runs") / "demo"
# config fields a resumed run may change (branching a run with other loss weights, say)
RESUMABLE = ("loss.", "segmenter.", "train.steps", "train.checkpoint_every", "train.log_every", "train.ema_decay")


# --------------------------------------------------------------------------------------------
# commands

def cmd_train(args) -> int:
    run = Path(args.out)
    if args.resume:
        fixed = [s for s in args.set or [] if not s.startswith(RESUMABLE)]
        if args.preset or args.batch or fixed:
            raise CLIError("with --resume the config comes from the run's checkpoint; only --steps and "
                           f"--set {', '.join(p + '*' if p.endswith('.') else p for p in RESUMABLE)} may change")
        ck = load_checkpoint(run / CHECKPOINT, "gan")  # fails clearly when there is none
        cfg = from_dict(ck["config"])
        del ck
    else:
        if not args.preset:
            raise CLIError("--preset is required (e.g. --preset cpu-tiny); see `ganseg presets`")
        cfg = get_preset(args.preset)
        if (run / CHECKPOINT).exists() and not args.force:
            raise CLIError(f"{run} already holds a checkpoint; continue it with --resume or pass --force to restart")
    overrides = list(args.set or [])
    if args.steps is not None:
        overrides.append(f"train.steps={args.steps}")
    if args.batch is not None:
        overrides.append(f"train.batch={args.batch}")
    cfg = apply_overrides(cfg, overrides)
    ds = load_split(args.data, "train")
    check_size(ds.images, cfg.generator.image_size, args.data, cfg.name)
    if args.procs > 1:
        return launch(args, cfg.train.batch)
    options = TrainOptions(resume=args.resume, seed=args.seed, device=args.device, bf16=args.bf16,
                           channels_last=args.channels_last, compile=args.compile, progress=not args.quiet,
                           time_budget_s=None if args.minutes is None else 60.0 * args.minutes,
                           grid_samples=args.grid, keep_every=args.keep_every,
                           log=lambda line: print(line, file=sys.stderr))  # notes beside the progress bar
    state = train(cfg, ds.images, run, options)
    if distributed.rank() == 0:
        _plot_log(run)
        print(f"trained {state.step} steps in {state.elapsed / 60:.1f} min; checkpoint {run / CHECKPOINT}, "
              f"samples {run / 'samples'}, log {run / LOG}")
    return 0


def cmd_distill(args) -> int:
    if (args.run is None) == (args.run_dir is None):
        raise CLIError("give the run folder once, as --run RUN or as RUN")
    run = Path(args.run or args.run_dir)
    cfg, g_ema, _ = load_gan(run / CHECKPOINT)
    cfg = apply_overrides(cfg, [s if s.startswith("segmenter.") else _only_segmenter(s) for s in args.set or []])
    info = distributed.init_distributed(args.device)
    start = time.perf_counter()
    distill(cfg, g_ema, run / SEGMENTER, steps=args.steps, seed=args.seed, device=str(info.device),
            progress=not args.quiet, world=info.world, rank=info.rank)
    if info.main:
        print(f"distilled {cfg.segmenter.arch} for {args.steps or cfg.segmenter.steps} steps in "
              f"{(time.perf_counter() - start) / 60:.1f} min -> {run / SEGMENTER}")
    return 0


def _only_segmenter(item: str) -> str:
    raise CLIError(f"distill --set {item}: only segmenter.* fields can change after training")


def cmd_evaluate(args) -> int:
    run = Path(args.run)
    seg_path = run / SEGMENTER
    if not seg_path.exists():
        raise CLIError(f"{run} holds no {SEGMENTER}; run `ganseg distill --run {run}` first")
    cfg, model = load_segmenter(seg_path, args.device)
    train_split, test_split = evaluation_splits(args.data, cfg, args.max_test)
    result = evaluate_run(model, cfg, train_split, test_split, str(args.data), args.device, run / "figures")
    atomic_write_text(run / "metrics.json", json.dumps(result, indent=2) + "\n")
    for line in result["skipped"]:
        print(f"note: skipped {line}", file=sys.stderr)
    print(report(result))
    print(f"metrics: {run / 'metrics.json'}; figures: {run / 'figures'}")
    return 0


def _plot_log(run: Path) -> None:
    if (run / LOG).exists():
        save_figure(loss_curves(run / LOG, title=run.name), run / "loss_curves.png")


# --------------------------------------------------------------------------------------------
# course checkpoints

def cmd_export(args) -> int:
    if args.snapshots:
        written = export_snapshots(Path(args.run), args.snapshots, Path(args.folder), args.domain, args.command or "")
        for path in written:
            print(f"wrote {path} ({path.stat().st_size / 2**20:.2f} MB)")
        return 0
    if not args.out:
        raise CLIError("export needs --out FILE.pt (or --snapshots STEP ... for generator-only snapshots)")
    info = export_course_checkpoint(Path(args.run), Path(args.out), domain=args.domain, command=args.command or "")
    print(json.dumps(info["reproduce"]["metrics"], indent=2))
    print(f"wrote {args.out} ({Path(args.out).stat().st_size / 2**20:.1f} MB), sha256 {info['sha256']}")
    return 0


# --------------------------------------------------------------------------------------------
# demo

def cmd_demo(args) -> int:
    return run_demo(Path(args.out), fast=args.fast, device=args.device, quiet=args.quiet,
                    overrides=tuple(args.set or ()))


# --------------------------------------------------------------------------------------------

def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ganseg", description="GANSeg: unsupervised part segmentation by a "
                                "hierarchical GAN, distilled into a segmenter.")
    sub = p.add_subparsers(dest="command", required=True)

    def common(q, device=True):
        if device:
            q.add_argument("--device", default="cpu", help="cpu or cuda")
        q.add_argument("--seed", type=int, default=0)
        q.add_argument("--quiet", action="store_true", help="no progress bar")

    t = sub.add_parser("train", help="train the hierarchical GAN")
    t.add_argument("--data", required=True, help="file written by python -m data_prep.prepare")
    t.add_argument("--preset", help="config preset, e.g. cpu-tiny, cpu-small, paper-celeba-wild")
    t.add_argument("--out", required=True, help="run folder for checkpoint, samples and log")
    t.add_argument("--steps", type=int, help="total iterations (overrides train.steps)")
    t.add_argument("--batch", type=int, help="images per step (overrides train.batch; per process under torchrun, "
                   "split over the processes with --procs)")
    t.add_argument("--resume", action="store_true", help="continue the run in --out exactly where it stopped")
    t.add_argument("--force", action="store_true", help="start afresh even if --out holds a checkpoint")
    t.add_argument("--set", nargs="+", action="extend", metavar="FIELD=VALUE", help="config overrides, e.g. train.lr_g=2e-4")
    t.add_argument("--minutes", type=float, help="stop (with a checkpoint) after this much wall time")
    t.add_argument("--grid", type=int, default=32, help="generated images per sample grid (0: none)")
    t.add_argument("--keep-every", type=int, default=0, metavar="N",
                   help="also keep checkpoint_stepXXXXXX.pt at every multiple of N steps")
    t.add_argument("--procs", type=_positive, default=1, metavar="N",
                   help="N training processes on this machine (gloo), the batch split over them, each with "
                        "1/N of the threads (OMP_NUM_THREADS or the cores); the same result as torchrun "
                        "--nproc_per_node=N with --batch B/N")
    t.add_argument("--bf16", action="store_true", help="bfloat16 autocast (GPU)")
    t.add_argument("--channels-last", action="store_true", help="channels_last memory format (GPU)")
    t.add_argument("--compile", nargs="?", const="inductor", default="", metavar="BACKEND",
                   help="torch.compile G and D's non-R1 passes (default backend inductor), for GPUs: on a CPU it "
                        "measured 6-8 %% slower after minutes of compiling (benchmarks/measured/)")
    common(t)
    t.set_defaults(func=cmd_train, kept="the last checkpoint is kept; continue with --resume")

    d = sub.add_parser("distill", help="train the segmenter on generated image/mask pairs")
    d.add_argument("run_dir", nargs="?", metavar="RUN", help="run folder (same as --run; torchrun needs this form)")
    d.add_argument("--run", help="run folder holding checkpoint.pt")
    d.add_argument("--steps", type=int, help="distillation steps (overrides segmenter.steps)")
    d.add_argument("--set", nargs="+", action="extend", metavar="FIELD=VALUE", help="segmenter overrides, e.g. segmenter.lr=1e-3")
    common(d)
    d.set_defaults(func=cmd_distill, kept="segmenter.pt is left as it was")

    e = sub.add_parser("evaluate", help="score the segmenter with the paper's protocols")
    e.add_argument("--run", required=True)
    e.add_argument("--data", required=True)
    e.add_argument("--max-test", type=int, help="score only the first N test images")
    common(e)
    e.set_defaults(func=cmd_evaluate, kept="metrics.json is left as it was")

    x = sub.add_parser("export", help="bundle a run into a small course checkpoint")
    x.add_argument("--run", required=True)
    x.add_argument("--out", help="the course checkpoint to write, e.g. checkpoints/faces-32.pt")
    x.add_argument("--domain", required=True, help="synthetic domain of the fixed reproduction set, e.g. faces")
    x.add_argument("--command", help="the command that made the run, recorded in the checkpoint")
    x.add_argument("--snapshots", nargs="+", type=int, metavar="STEP",
                   help="instead: write the EMA generator at these steps (the run's checkpoint_stepNNNNNN.pt, "
                        "kept by train --keep-every) to FOLDER/snapshots/")
    x.add_argument("--folder", default="checkpoints", help="with --snapshots: the checkpoints folder (SHA256SUMS)")
    x.set_defaults(func=cmd_export)

    m = sub.add_parser("demo", help="synthetic faces -> GAN -> segmenter -> metrics, end to end")
    m.add_argument("--fast", action="store_true", help="a seconds-long smoke version")
    m.add_argument("--out", default=str(DEMO_DIR))
    m.add_argument("--set", nargs="+", action="extend", metavar="FIELD=VALUE",
                   help="config overrides on top of the demo's preset, e.g. train.batch=8")
    common(m)
    m.set_defaults(func=cmd_demo)

    s = sub.add_parser("presets", help="list the config presets")
    s.set_defaults(func=cmd_presets)
    return p


def cmd_presets(args) -> int:
    for name, cfg in sorted(PRESETS.items()):
        g = cfg.generator
        print(f"{name:22s} {g.image_size:4d} px, K={g.n_parts}, batch {cfg.train.batch}, {cfg.train.steps} steps, "
              f"segmenter {cfg.segmenter.arch}")
    return 0


def main(argv: list[str] | None = None) -> int:
    return run_command(build_parser().parse_args(argv))


def check_device(device: str) -> None:
    """A CUDA device that torch cannot see is a one-line error, not a driver traceback."""
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise CLIError(f"--device {device}: torch sees no CUDA GPU here (torch {torch.__version__}); "
                       "use --device cpu, or install a CUDA build of torch on a machine with a GPU")


def run_command(args: argparse.Namespace, report_errors: bool = True) -> int:
    """Run a parsed command; a known failure is one `ganseg: error:` line (when report_errors) and status 2."""
    code = 1
    try:
        check_device(getattr(args, "device", "cpu"))
        code = args.func(args)
        return code
    except (CLIError, ConfigError, CheckpointError, EvaluationError, SegmenterError, TrainingDiverged,
            DistillationDiverged) as err:
        if report_errors:
            print(f"ganseg: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        if report_errors:
            print(f"ganseg: interrupted; {getattr(args, 'kept', 'nothing half-written is left')}", file=sys.stderr)
        return 130
    finally:  # under torchrun or --procs: gloo aborts an interpreter that exits with its group open
        distributed.leave_group(clean=code == 0)


if __name__ == "__main__":
    sys.exit(main())
