"""Shipped course checkpoints: an EMA generator and its distilled segmenter in one small file.

    cfg, g_ema, segmenter = load_course_checkpoint("checkpoints/faces-32.pt")

A course checkpoint (kind "course") holds the config, both networks' weights in float16, and
where they came from (the command, steps, minutes).  Beside it, `NAME.metrics.json` records
its SHA-256, the metrics of the run's own evaluation, and the metrics on a fixed small
reproduction set (synthetic images rendered from a recorded seed); `SHA256SUMS` lists every
shipped file.  `reproduce_metrics` recomputes those metrics, which is what the tests do.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import subprocess

import torch
from data_prep.synthetic import render

from ..checkpoint import (CheckpointError, atomic_write_text, load_checkpoint, save_checkpoint, sha256_file,
                          state_to_float, state_to_half)
from ..config import from_dict
from ..evaluation.evaluate import LabelledImages, evaluate_segmenter
from ..model import Generator
from ..training.segmenter import SEGMENTER, build_segmenter, load_segmenter
from ..training.state import CHECKPOINT, load_gan

REPRO_SEED = 20220601  # seed of the fixed reproduction set
REPRO_TRAIN, REPRO_TEST = 512, 256  # images fitting the regression / scored


def metrics_path(path: str | os.PathLike) -> Path:
    path = Path(path)
    return path.with_name(path.stem + ".metrics.json")


def reproduction_set(domain: str, size: int, n_train: int = REPRO_TRAIN, n_test: int = REPRO_TEST,
                     seed: int = REPRO_SEED) -> tuple[LabelledImages, LabelledImages, str]:
    """The fixed small set: rendered synthetic images, split train/test; also their SHA-256."""
    r = render(domain, n_train + n_test, size, seed=seed)
    digest = hashlib.sha256(r.images.numpy().tobytes()).hexdigest()
    protocol = r.domain.landmark_protocol
    labels = r.part_labels.long()

    def part(sl: slice) -> LabelledImages:
        return LabelledImages(r.images[sl], None if r.landmarks is None else r.landmarks[sl],
                              None if r.visible is None else r.visible[sl], r.fg_masks[sl], labels[sl], protocol)

    return part(slice(0, n_train)), part(slice(n_train, None)), digest


def load_course_checkpoint(path: str | os.PathLike, device: str | torch.device = "cpu",
                           check_sha: bool = True) -> tuple:
    """(config, EMA generator in eval mode, segmenter in eval mode) from a course checkpoint.

    With check_sha, the file's SHA-256 must match the one recorded in NAME.metrics.json when
    that file exists (it always does for shipped checkpoints).
    """
    path = Path(path)
    record = metrics_path(path)
    if check_sha and record.exists() and path.exists():
        expected = json.loads(record.read_text())["sha256"]
        actual = sha256_file(path)
        if actual != expected:
            raise CheckpointError(f"{path} has SHA-256 {actual[:12]}..., but {record.name} records "
                                  f"{expected[:12]}...: the file was changed or damaged")
    ck = load_checkpoint(path, "course")
    cfg = from_dict(ck["config"])
    g = Generator(cfg)
    g.load_state_dict(state_to_float(ck["g_ema"]))
    seg = build_segmenter(cfg)
    seg.load_state_dict(state_to_float(ck["segmenter"]))
    return cfg, g.to(device).eval().requires_grad_(False), seg.to(device).eval()


def reproduce_metrics(path: str | os.PathLike, domain: str, device: str = "cpu", n_train: int = REPRO_TRAIN,
                      n_test: int = REPRO_TEST, seed: int = REPRO_SEED) -> tuple[dict, str]:
    """Metrics of a course checkpoint on the fixed reproduction set, and that set's SHA-256."""
    cfg, _, seg = load_course_checkpoint(path, device, check_sha=False)
    train, test, digest = reproduction_set(domain, cfg.generator.image_size, n_train, n_test, seed)
    result, _ = evaluate_segmenter(seg, train, test, device)
    return result, digest


def export_course_checkpoint(run: Path, out: Path, domain: str, command: str = "", n_train: int = REPRO_TRAIN,
                             n_test: int = REPRO_TEST) -> dict:
    """Bundle run/checkpoint.pt (EMA G) and run/segmenter.pt into `out`; write out's metrics record."""
    cfg, g_ema, gan = load_gan(run / CHECKPOINT)
    seg_ck = load_checkpoint(run / SEGMENTER, "segmenter")
    _, seg = load_segmenter(run / SEGMENTER)
    run_metrics = json.loads((run / "metrics.json").read_text()) if (run / "metrics.json").exists() else None
    source = {"command": command, "commit": _git_commit(), "gan_steps": int(gan["step"]), "gan_minutes": round(gan["elapsed"] / 60, 1),
              "distill_steps": int(seg_ck["steps"]), "distill_minutes": round(seg_ck["seconds"] / 60, 1),
              "data": gan["data"]}
    payload = {"config": seg_ck["config"], "g_ema": state_to_half(g_ema.state_dict()),
               "segmenter": state_to_half(seg.state_dict()), "source": source}
    save_checkpoint(out, payload, "course")
    metrics, digest = reproduce_metrics(out, domain, n_train=n_train, n_test=n_test)
    info = {"file": out.name, "sha256": sha256_file(out), "preset": cfg.name, "source": source,
            "reproduce": {"domain": domain, "size": cfg.generator.image_size, "seed": REPRO_SEED,
                          "n_train": n_train, "n_test": n_test, "images_sha256": digest, "metrics": metrics},
            "run_metrics": run_metrics}
    atomic_write_text(metrics_path(out), json.dumps(info, indent=2) + "\n")
    _update_sums(out.parent)
    return info


def _git_commit() -> str:
    """The source tree's commit, when it is a git checkout (presets may change later)."""
    try:
        done = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).resolve().parent,
                              capture_output=True, text=True, timeout=10)
    except OSError:
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def _update_sums(folder: Path) -> None:
    lines = [f"{sha256_file(p)}  {p.name}" for p in sorted(folder.glob("*.pt"))]
    atomic_write_text(folder / "SHA256SUMS", "\n".join(lines) + "\n")
