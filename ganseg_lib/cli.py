"""The `ganseg` command: train a GAN, distill a segmenter, evaluate it, or run the whole demo.

    ganseg train    --data FILE --preset cpu-tiny --out runs/faces [--steps N] [--batch B] [--resume]
                    [--set section.field=value ...]
    ganseg distill  --run runs/faces [--steps N]
    ganseg evaluate --run runs/faces --data FILE
    ganseg export   --run runs/faces --out checkpoints/faces-32.pt --domain faces
    ganseg demo     [--fast]

Also `python -m ganseg_lib.cli ...`.  Training and distillation run unchanged under
`torchrun --nproc_per_node=N -m ganseg_lib.cli train ...` (gloo on CPU, nccl on GPU); torchrun
mistakes `--run` for its own `--run-path`, so there write `distill RUN` instead of `--run RUN`.  Every bad input ends in one
`ganseg: error: ...` line and exit status 2; no partial metrics.json or checkpoint is written.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import torch

from .checkpoint import CheckpointError, atomic_write_text, load_checkpoint
from .config import PRESETS, ConfigError, apply_overrides, from_dict, get_preset
from .evaluate import EvaluationError, LabelledImages, evaluate_segmenter
from .segmenter import SEGMENTER, SegmenterError
from .train import CHECKPOINT, LOG, TrainingDiverged

DEMO_DIR = Path("runs") / "demo"
# config fields a resumed run may change (branching a run with other loss weights, say)
RESUMABLE = ("loss.", "segmenter.", "train.steps", "train.checkpoint_every", "train.log_every", "train.ema_decay")


class CLIError(Exception):
    """Bad input found by the command line itself; printed as one line."""


# --------------------------------------------------------------------------------------------
# data

def read_data(path: str | os.PathLike):
    """The whole data file (`data_prep.read`), every failure turned into one line."""
    path = Path(path)
    if not path.is_file():
        raise CLIError(f"data file {path} not found; make one with e.g. "
                       f"`python -m data_prep.prepare synthetic:faces --size 32 --out {path}`")
    try:
        import data_prep
        from data_prep.errors import DataError
    except ImportError as err:
        raise CLIError(f"the data_prep package cannot be imported ({err})") from None
    try:
        return data_prep.read(path)
    except DataError as err:
        raise CLIError(str(err)) from None
    except Exception as err:  # a file of another kind
        raise CLIError(f"{path} is not a data file written by data_prep.prepare ({type(err).__name__}: "
                       f"{str(err).splitlines()[0][:120] if str(err) else ''})") from None


def split_of(data, split: str | None, path: str | os.PathLike):
    """One split of a read data file as a data_prep dataset (None: every item)."""
    from data_prep import PartDataset
    from data_prep.errors import DataError

    try:
        return PartDataset(data, split, str(path))
    except DataError as err:
        raise CLIError(str(err)) from None


def load_split(path: str | os.PathLike, split: str | None):
    """`data_prep.load(path, split)` with every failure turned into one line."""
    return split_of(read_data(path), split, path)


def _check_size(images: torch.Tensor, size: int, path, preset: str) -> None:
    if images.shape[-1] != size or images.shape[-2] != size:
        raise CLIError(f"{path} holds {images.shape[-1]} px images but preset {preset!r} makes {size} px ones; "
                       f"prepare the data with --size {size} or choose a preset of that size")


# --------------------------------------------------------------------------------------------
# commands

def cmd_train(args) -> int:
    from .train import train

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
    _check_size(ds.images, cfg.generator.image_size, args.data, cfg.name)
    state = train(cfg, ds.images, run, resume=args.resume, seed=args.seed, device=args.device, bf16=args.bf16,
                  channels_last=args.channels_last, progress=not args.quiet,
                  time_budget_s=None if args.minutes is None else 60.0 * args.minutes, grid_samples=args.grid,
                  keep_every=args.keep_every)
    if _rank() == 0:
        _plot_log(run)
        print(f"trained {state.step} steps in {state.elapsed / 60:.1f} min; checkpoint {run / CHECKPOINT}, "
              f"samples {run / 'samples'}, log {run / LOG}")
    return 0


def cmd_distill(args) -> int:
    from .segmenter import distill
    from .train import init_distributed, load_gan

    if (args.run is None) == (args.run_dir is None):
        raise CLIError("give the run folder once, as --run RUN or as RUN")
    run = Path(args.run or args.run_dir)
    cfg, g_ema, _ = load_gan(run / CHECKPOINT)
    cfg = apply_overrides(cfg, [s if s.startswith("segmenter.") else _only_segmenter(s) for s in args.set or []])
    info = init_distributed(args.device)
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
    from .segmenter import load_segmenter

    run = Path(args.run)
    seg_path = run / SEGMENTER
    if not seg_path.exists():
        raise CLIError(f"{run} holds no {SEGMENTER}; run `ganseg distill --run {run}` first")
    cfg, model = load_segmenter(seg_path, args.device)
    result = evaluate_run(model, cfg, args.data, args.device, run / "figures", max_test=args.max_test)
    atomic_write_text(run / "metrics.json", json.dumps(result, indent=2) + "\n")
    for line in result["skipped"]:
        print(f"note: skipped {line}", file=sys.stderr)
    print(report(result))
    print(f"metrics: {run / 'metrics.json'}; figures: {run / 'figures'}")
    return 0


def evaluate_run(model, cfg, data_path, device, figures_dir: Path | None, max_test: int | None = None) -> dict:
    """Load both splits, score the segmenter, draw overlays; returns the metrics dictionary."""
    data = read_data(data_path)
    splits = data.meta.get("eval_splits") or {}
    fit_split, test_split = splits.get("fit", "train"), splits.get("test", "test")
    test_ds = split_of(data, test_split, data_path)
    # the regression's fit split is only needed (and may only exist) when there are landmarks
    train_ds = split_of(data, fit_split, data_path) if test_ds.landmarks is not None else test_ds
    del data
    size = cfg.generator.image_size
    _check_size(test_ds.images, size, data_path, cfg.name)
    train, test = LabelledImages.from_dataset(train_ds), LabelledImages.from_dataset(test_ds)
    if max_test is not None:
        test = test.head(max_test)
    result, test_masks = evaluate_segmenter(model, train, test, device)
    result = {"data": str(data_path), "preset": cfg.name, "segmenter": cfg.segmenter.arch, **result}
    if figures_dir is not None:
        from .viz import save_figure, segmentation_overlays

        n = min(16, len(test.images))
        fig = segmentation_overlays(test.images[:n], test_masks[:n],
                                    None if test.landmarks is None else test.landmarks[:n],
                                    title=f"{cfg.name}: distilled segmenter on held-out images")
        save_figure(fig, figures_dir / "eval_overlays.png")
    return result


def report(result: dict) -> str:
    """A few lines a reader can take in at once."""
    lines = [f"evaluation on {result['n_test']} held-out images ({result['image_size']} px), "
             f"regression fitted on {result['n_train']}:"]
    lm = result.get("landmarks")
    if lm is not None and "error_pct" in lm:
        refs = lm["references_pct"]
        lines.append(f"  landmark error {lm['error_pct']:.1f} % of inter-ocular distance "
                     f"= {lm['x_mean_shape']:.2f} x mean shape ({refs['mean_shape']:.1f} %)")
        if "localisation_only" in refs:
            lines.append(f"    references: localisation only {refs['localisation_only']:.1f} %"
                         + (f", ground-truth part centres {refs['ground_truth_parts']:.1f} %"
                            if "ground_truth_parts" in refs else ""))
    elif lm is not None:
        lines.append(f"  keypoint error {lm['mean_px']:.2f} px per point (MAE sum {lm['mae_px']:.1f} px) "
                     f"= {lm['x_mean_shape']:.2f} x mean shape")
    fg = result.get("foreground")
    if fg is not None:
        r = fg["references"]
        lines.append(f"  foreground IoU {fg['iou']:.3f} (all-foreground {r['all_foreground']:.3f}, "
                     f"centre box {r['centre_box']:.3f})")
    return "\n".join(lines)


def _plot_log(run: Path) -> None:
    from .viz import loss_curves, save_figure

    if (run / LOG).exists():
        save_figure(loss_curves(run / LOG, title=run.name), run / "loss_curves.png")


def _rank() -> int:
    import torch.distributed as dist
    return dist.get_rank() if dist.is_initialized() else 0


# --------------------------------------------------------------------------------------------
# course checkpoints

def cmd_export(args) -> int:
    from .shipped import export_course_checkpoint

    info = export_course_checkpoint(Path(args.run), Path(args.out), domain=args.domain, command=args.command or "")
    print(json.dumps(info["reproduce"]["metrics"], indent=2))
    print(f"wrote {args.out} ({Path(args.out).stat().st_size / 2**20:.1f} MB), sha256 {info['sha256']}")
    return 0


# --------------------------------------------------------------------------------------------
# demo

def cmd_demo(args) -> int:
    from .demo import run_demo

    return run_demo(Path(args.out), fast=args.fast, device=args.device, quiet=args.quiet,
                    overrides=tuple(args.set or ()))


# --------------------------------------------------------------------------------------------

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
    t.add_argument("--batch", type=int, help="images per step and process (overrides train.batch)")
    t.add_argument("--resume", action="store_true", help="continue the run in --out exactly where it stopped")
    t.add_argument("--force", action="store_true", help="start afresh even if --out holds a checkpoint")
    t.add_argument("--set", nargs="+", action="extend", metavar="FIELD=VALUE", help="config overrides, e.g. train.lr_g=2e-4")
    t.add_argument("--minutes", type=float, help="stop (with a checkpoint) after this much wall time")
    t.add_argument("--grid", type=int, default=32, help="generated images per sample grid (0: none)")
    t.add_argument("--keep-every", type=int, default=0, metavar="N",
                   help="also keep checkpoint_stepXXXXXX.pt at every multiple of N steps")
    t.add_argument("--bf16", action="store_true", help="bfloat16 autocast (GPU)")
    t.add_argument("--channels-last", action="store_true", help="channels_last memory format (GPU)")
    common(t)
    t.set_defaults(func=cmd_train)

    d = sub.add_parser("distill", help="train the segmenter on generated image/mask pairs")
    d.add_argument("run_dir", nargs="?", metavar="RUN", help="run folder (same as --run; torchrun needs this form)")
    d.add_argument("--run", help="run folder holding checkpoint.pt")
    d.add_argument("--steps", type=int, help="distillation steps (overrides segmenter.steps)")
    d.add_argument("--set", nargs="+", action="extend", metavar="FIELD=VALUE", help="segmenter overrides, e.g. segmenter.lr=1e-3")
    common(d)
    d.set_defaults(func=cmd_distill)

    e = sub.add_parser("evaluate", help="score the segmenter with the paper's protocols")
    e.add_argument("--run", required=True)
    e.add_argument("--data", required=True)
    e.add_argument("--max-test", type=int, help="score only the first N test images")
    common(e)
    e.set_defaults(func=cmd_evaluate)

    x = sub.add_parser("export", help="bundle a run into a small course checkpoint")
    x.add_argument("--run", required=True)
    x.add_argument("--out", required=True)
    x.add_argument("--domain", required=True, help="synthetic domain of the fixed reproduction set, e.g. faces")
    x.add_argument("--command", help="the command that made the run, recorded in the checkpoint")
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
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (CLIError, ConfigError, CheckpointError, EvaluationError, SegmenterError, TrainingDiverged) as err:
        print(f"ganseg: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("ganseg: interrupted; the last checkpoint is kept", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
