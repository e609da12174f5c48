"""Shipped course checkpoints: an EMA generator and its distilled segmenter in one small file.

    cfg, g_ema, segmenter = load_course_checkpoint("checkpoints/faces-32.pt")

A course checkpoint (kind "course") holds the config, both networks' weights in float16, and
where they came from (the command, steps, minutes).  Beside it, `NAME.metrics.json` records
its SHA-256, the metrics of the run's own evaluation, and the metrics on a fixed small
reproduction set (synthetic images rendered from a recorded seed); `SHA256SUMS` lists every
shipped file.  `reproduce_metrics` recomputes those metrics, which is what the tests do.

Alongside the metrics the record keeps small *fingerprints* (see `fingerprint`) of the rendered
reproduction images, of samples of the EMA generator and of the segmenter's soft masks.  They
are compared with a tolerance, never bit for bit: float32 kernels differ between CPUs (AVX2
against AVX-512, other thread counts) in the last bits, which moves a rare pixel by one level,
while a changed renderer or model moves many pixels or many levels.

    python -m ganseg_lib.app.shipped --rerecord checkpoints/*.pt   # after an intended change

*Snapshots* (kind "snapshot") are the EMA generator alone at earlier steps of a shipped run, in
`checkpoints/snapshots/<domain>-<size>-stepNNNNNN.pt` (float16, about 0.2 MB at `cpu-tiny`),
for showing how parts emerge; `SHA256SUMS` lists them too and `load_snapshot` checks the hash.
`ganseg export --run RUN --snapshots 500 1000 ...` writes them from the run's
`checkpoint_stepNNNNNN.pt` files (kept by `ganseg train --keep-every`).
"""
from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import torch
import torch.nn.functional as F
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
SAMPLE_SEED, SAMPLE_N = 0, 16  # generator samples fingerprinted
THUMBS, THUMB_SIDE = 16, 8  # images kept as thumbnails in a fingerprint, and their side in px
# tolerances of `fingerprint_differences`, in uint8 levels (0..255)
MEAN_MAX, MEAN_AVG = 0.05, 0.01  # per-image means: largest and average absolute difference
THUMB_MAX, THUMB_AVG = 2, 0.1  # pixels of thumbnails and mean image: largest and average difference


def fingerprint(images: torch.Tensor) -> dict:
    """A small summary of images (N, C, S, S), uint8 or float in [0, 255], kept in a JSON record.

    Each image's mean over its pixels and channels (3 decimals, one string); the mean image of the set at
    up to 2 * THUMB_SIDE px; and THUMB_SIDE px thumbnails of THUMBS images spread over the set,
    both area-averaged, rounded to uint8 and base64-encoded.  Compare two with
    `fingerprint_differences`.
    """
    x = images.detach().to(torch.float64)
    pick = torch.linspace(0, len(x) - 1, min(THUMBS, len(x))).round().long()
    mean = F.adaptive_avg_pool2d(x.mean(0, keepdim=True), min(x.shape[-1], 2 * THUMB_SIDE))
    return {"shape": list(images.shape), "means": " ".join(f"{float(v):.3f}" for v in x.mean((1, 2, 3))),
            "mean_image": _encode(mean), "thumbs": _encode(F.adaptive_avg_pool2d(x[pick], THUMB_SIDE))}


def _encode(x: torch.Tensor) -> dict:
    q = x.round().clamp(0, 255).to(torch.uint8)
    return {"shape": list(q.shape), "uint8": base64.b64encode(q.numpy().tobytes()).decode()}


def _decode(item: dict) -> torch.Tensor:
    raw = bytearray(base64.b64decode(item["uint8"]))
    return torch.frombuffer(raw, dtype=torch.uint8).view(*item["shape"]).to(torch.float64)


def _numbers(text: str) -> torch.Tensor:
    return torch.tensor([float(v) for v in text.split()], dtype=torch.float64)


def fingerprint_differences(got: dict, want: dict) -> list[str]:
    """What differs between two fingerprints beyond the float noise of another CPU (empty: they match).

    Another machine's rounding moves a few pixels by one level: per-image means by far less
    than MEAN_MAX, thumbnail pixels by at most one level and on average by far less than
    THUMB_AVG.  A changed renderer or model shifts colours, edges or shapes in many pixels.
    """
    if got["shape"] != want["shape"]:
        return [f"shape {got['shape']} instead of {want['shape']}"]
    problems = []
    means = (_numbers(got["means"]) - _numbers(want["means"])).abs()
    if means.max() > MEAN_MAX or means.mean() > MEAN_AVG:
        problems.append(f"per-image means differ by up to {means.max():.3f} levels (average {means.mean():.4f}; "
                        f"tolerance {MEAN_MAX} / {MEAN_AVG})")
    for key, what in (("mean_image", "mean-image pixels"), ("thumbs", "thumbnail pixels")):
        diff = (_decode(got[key]) - _decode(want[key])).abs()
        if diff.max() > THUMB_MAX or diff.mean() > THUMB_AVG:
            problems.append(f"{what} are up to {diff.max():.0f} levels apart (average {diff.mean():.3f}; "
                            f"tolerance {THUMB_MAX} / {THUMB_AVG})")
    return problems


def generator_fingerprint(g: Generator) -> dict:
    """Fingerprint of SAMPLE_N images of `g` from latents seeded with SAMPLE_SEED (uint8 levels)."""
    lat = g.sample_latents(SAMPLE_N, generator=torch.Generator().manual_seed(SAMPLE_SEED))
    with torch.no_grad():
        image = g(lat).image.float().cpu()
    return fingerprint(image.add(1.0).mul(127.5).clamp(0, 255))


def masks_fingerprint(masks: torch.Tensor) -> dict:
    """Fingerprint of the parts' soft masks (N, K+1, S, S; background last, dropped) in [0, 1],
    scaled to levels 0..255: the per-image means then follow the foreground's area."""
    return fingerprint(masks[:THUMBS, :-1].float().mul(255.0))


def metrics_path(path: str | os.PathLike) -> Path:
    path = Path(path)
    return path.with_name(path.stem + ".metrics.json")


def reproduction_set(domain: str, size: int, n_train: int = REPRO_TRAIN, n_test: int = REPRO_TEST,
                     seed: int = REPRO_SEED) -> tuple[LabelledImages, LabelledImages, dict]:
    """The fixed small set: rendered synthetic images, split train/test; also their `fingerprint`."""
    r = render(domain, n_train + n_test, size, seed=seed)
    prints = fingerprint(r.images)
    protocol = r.domain.landmark_protocol
    labels = r.part_labels.long()

    def part(sl: slice) -> LabelledImages:
        return LabelledImages(r.images[sl], None if r.landmarks is None else r.landmarks[sl],
                              None if r.visible is None else r.visible[sl], r.fg_masks[sl], labels[sl], protocol)

    return part(slice(0, n_train)), part(slice(n_train, None)), prints


def check_sha256(path: Path, expected: str, where: str) -> None:
    """Raise CheckpointError unless the file's SHA-256 is `expected` (recorded in `where`)."""
    actual = sha256_file(path)
    if actual != expected:
        raise CheckpointError(f"{path} has SHA-256 {actual[:12]}..., but {where} records {expected[:12]}...: "
                              f"the file was changed or damaged")


def _ema_generator(ck: dict) -> tuple:
    """(config, float32 EMA generator) of a loaded course or snapshot checkpoint."""
    cfg = from_dict(ck["config"])
    g = Generator(cfg)
    g.load_state_dict(state_to_float(ck["g_ema"]))
    return cfg, g


def load_course_checkpoint(path: str | os.PathLike, device: str | torch.device = "cpu",
                           check_sha: bool = True) -> tuple:
    """(config, EMA generator in eval mode, segmenter in eval mode) from a course checkpoint.

    With check_sha, the file's SHA-256 must match the one recorded in NAME.metrics.json when
    that file exists (it always does for shipped checkpoints).
    """
    path = Path(path)
    record = metrics_path(path)
    if check_sha and record.exists() and path.exists():
        check_sha256(path, json.loads(record.read_text())["sha256"], record.name)
    ck = load_checkpoint(path, "course")
    cfg, g = _ema_generator(ck)
    seg = build_segmenter(cfg)
    seg.load_state_dict(state_to_float(ck["segmenter"]))
    return cfg, g.to(device).eval().requires_grad_(False), seg.to(device).eval()


def reproduce_metrics(path: str | os.PathLike, domain: str, device: str = "cpu", n_train: int = REPRO_TRAIN,
                      n_test: int = REPRO_TEST, seed: int = REPRO_SEED) -> tuple[dict, dict]:
    """Metrics of a course checkpoint on the fixed reproduction set, and fingerprints of what was computed.

    The fingerprints: "images" (the rendered set), "generator" (`generator_fingerprint` of the
    EMA generator) and "segmenter" (its soft masks on the first test images).
    """
    cfg, g, seg = load_course_checkpoint(path, device, check_sha=False)
    train, test, images = reproduction_set(domain, cfg.generator.image_size, n_train, n_test, seed)
    result, test_masks = evaluate_segmenter(seg, train, test, device)
    return result, {"images": images, "generator": generator_fingerprint(g), "segmenter": masks_fingerprint(test_masks)}


def reproduction_record(path: str | os.PathLike, domain: str, n_train: int = REPRO_TRAIN,
                        n_test: int = REPRO_TEST) -> dict:
    """The "reproduce" part of a metrics record: set, metrics and fingerprints."""
    cfg, _, _ = load_course_checkpoint(path, check_sha=False)
    metrics, prints = reproduce_metrics(path, domain, n_train=n_train, n_test=n_test)
    return {"domain": domain, "size": cfg.generator.image_size, "seed": REPRO_SEED, "n_train": n_train,
            "n_test": n_test, "metrics": metrics, "fingerprints": prints}


def rerecord(path: str | os.PathLike) -> dict:
    """Recompute the "reproduce" part of an existing course checkpoint's record (after an intended
    change to the renderer, loader or model code); the file itself and its SHA-256 stay."""
    path = Path(path)
    record = json.loads(metrics_path(path).read_text())
    if sha256_file(path) != record["sha256"]:
        raise CheckpointError(f"{path} does not match the SHA-256 in {metrics_path(path).name}; re-export it")
    old = record["reproduce"]
    record["reproduce"] = reproduction_record(path, old["domain"], old["n_train"], old["n_test"])
    atomic_write_text(metrics_path(path), json.dumps(record, indent=2) + "\n")
    return record


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
    info = {"file": out.name, "sha256": sha256_file(out), "preset": cfg.name, "source": source,
            "reproduce": reproduction_record(out, domain, n_train, n_test), "run_metrics": run_metrics}
    atomic_write_text(metrics_path(out), json.dumps(info, indent=2) + "\n")
    _update_sums(out.parent)
    return info


SNAPSHOTS = "snapshots"  # sub-folder of the checkpoints folder


def snapshot_name(domain: str, size: int, step: int) -> str:
    return f"{domain}-{size}-step{step:06d}.pt"


def recorded_sums(folder: Path) -> dict[str, str]:
    """{path relative to `folder`: SHA-256} from folder/SHA256SUMS (empty when there is none)."""
    sums = folder / "SHA256SUMS"
    if not sums.exists():
        return {}
    return {name: digest for digest, name in (line.split() for line in sums.read_text().splitlines() if line.strip())}


def export_snapshots(run: Path, steps: list[int], folder: Path, domain: str, command: str = "") -> list[Path]:
    """Write the EMA generator of run/checkpoint_stepNNNNNN.pt for each step into folder/snapshots/."""
    out_dir = folder / SNAPSHOTS
    sources = [run / f"checkpoint_step{step:06d}.pt" for step in steps]
    missing = [p.name for p in sources if not p.exists()]
    if missing:
        raise CheckpointError(f"{run} has no {', '.join(missing)}: train with --keep-every N so that every "
                              f"snapshot step is a multiple of N and of train.checkpoint_every (copies are kept "
                              f"when a checkpoint is written)")
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for path in sources:
        cfg, g_ema, gan = load_gan(path)
        source = {"command": command, "commit": _git_commit(), "gan_steps": int(gan["step"]),
                  "gan_minutes": round(gan["elapsed"] / 60, 1), "data": gan["data"]}
        out = out_dir / snapshot_name(domain, cfg.generator.image_size, int(gan["step"]))
        save_checkpoint(out, {"config": gan["config"], "g_ema": state_to_half(g_ema.state_dict()), "source": source},
                        "snapshot")
        written.append(out)
    _update_sums(folder)
    return written


def shipped_snapshots(domain: str, size: int, folder: Path) -> list[Path]:
    """The snapshots of `domain` at `size` px in folder/snapshots/, by step."""
    return sorted((folder / SNAPSHOTS).glob(f"{domain}-{size}-step*.pt"))


def load_snapshot(path: str | os.PathLike, device: str | torch.device = "cpu") -> tuple:
    """(config, EMA generator in eval mode, GAN step) of a snapshot; its SHA-256 must match SHA256SUMS."""
    path = Path(path)
    folder = path.parent.parent
    expected = recorded_sums(folder).get(f"{SNAPSHOTS}/{path.name}")
    if expected is None:
        raise CheckpointError(f"{path} is not listed in {folder / 'SHA256SUMS'}; export it with ganseg export "
                              f"--snapshots")
    check_sha256(path, expected, "SHA256SUMS")
    ck = load_checkpoint(path, "snapshot")
    cfg, g = _ema_generator(ck)
    return cfg, g.to(device).eval().requires_grad_(False), int(ck["source"]["gan_steps"])


def _git_commit() -> str:
    """The source tree's commit, when it is a git checkout (presets may change later)."""
    try:
        done = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).resolve().parent,
                              capture_output=True, text=True, timeout=10)
    except OSError:
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def _update_sums(folder: Path) -> None:
    files = sorted(folder.glob("*.pt")) + sorted((folder / SNAPSHOTS).glob("*.pt"))
    lines = [f"{sha256_file(p)}  {p.relative_to(folder).as_posix()}" for p in files]
    atomic_write_text(folder / "SHA256SUMS", "\n".join(lines) + "\n")


if __name__ == "__main__":
    args = sys.argv[1:]
    if not args or args[0] != "--rerecord" or len(args) < 2:
        sys.exit("usage: python -m ganseg_lib.app.shipped --rerecord CHECKPOINT.pt [...]")
    for name in args[1:]:
        rec = rerecord(name)["reproduce"]["metrics"]
        print(f"{name}: re-recorded (foreground IoU {rec['foreground']['iou']:.4f})")
