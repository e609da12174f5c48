"""How low the landmark error can go for features that track the face's geometry perfectly.

    python -m benchmarks.bench_landmark_ceilings --data data/myfaces32.ganseg-data \\
        --out benchmarks/results/landmark-ceilings-myfaces32.json

The landmark error of a segmenter is a linear regression from its part centres to the
landmarks (fitted on the train split, scored on the test split).  This script replaces the part
centres by *oracle* features computed from the true landmarks themselves, each keeping only one
kind of information about the face, and scores them with the same regression (with a bias, as
each feature set here is centred differently) and the same inter-ocular normalisation (MAFL):

- mean shape: no feature at all (every test face gets the train mean);
- translation: the centroid of the face's landmarks (2 numbers);
- translation + scale: the centroid and the landmarks' RMS distance from it (3);
- similarity: the best similarity transform of the train mean shape onto the face
  (translation, scale, in-plane rotation: 4; a Procrustes fit);
- affine: the best affine transform of the mean shape (adds stretch and shear: 6);
- part centres: the mean of each named group of landmarks (e.g. the two eyes, the nose, the
  two mouth corners), only where the names form groups of more than one landmark.

A segmenter whose parts move with the face but keep one layout can at best reach the similarity
or affine figure; a figure below that needs parts that follow individual features.  The same
oracles with Gaussian noise of a few pixels added to the landmarks before computing the features
(`--noise-px`) show how precisely the parts would have to track the face.  The report also gives
the data's mean inter-ocular distance and landmark spread in pixels.  It prints a table and
writes JSON.
"""
from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Callable

import numpy as np

from benchmarks.report import write_report
from ganseg_lib.app.data import load_split
from ganseg_lib.evaluation import metrics
from ganseg_lib.evaluation.evaluate import LabelledImages

Features = Callable[[np.ndarray, np.ndarray], np.ndarray]  # (landmarks (N, L, 2), mean shape (L, 2)) -> (N, F)


def translation(pts: np.ndarray, mean: np.ndarray) -> np.ndarray:
    return pts.mean(axis=1)


def translation_scale(pts: np.ndarray, mean: np.ndarray) -> np.ndarray:
    centred = pts - pts.mean(axis=1, keepdims=True)
    radius = np.sqrt((centred ** 2).sum(axis=-1).mean(axis=1, keepdims=True))
    return np.concatenate([pts.mean(axis=1), radius], axis=1)


def similarity(pts: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """(tx, ty, a, b) of the least-squares x ~ [[a, -b], [b, a]] m + t, m the centred mean shape."""
    m = mean - mean.mean(axis=0)
    x = pts - pts.mean(axis=1, keepdims=True)
    norm = (m ** 2).sum()
    a = (x * m).sum(axis=(1, 2)) / norm
    b = (m[:, 0] * x[..., 1] - m[:, 1] * x[..., 0]).sum(axis=1) / norm
    return np.concatenate([pts.mean(axis=1), a[:, None], b[:, None]], axis=1)


def affine(pts: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """(tx, ty, A11, A12, A21, A22) of the least-squares x ~ A m + t, m the centred mean shape."""
    m = mean - mean.mean(axis=0)
    x = pts - pts.mean(axis=1, keepdims=True)
    # A^T = (m^T m)^-1 m^T x for every face at once
    lin = np.einsum("fl,nlc->nfc", np.linalg.pinv(m), x)  # (N, 2, 2): rows of A^T
    return np.concatenate([pts.mean(axis=1), lin.reshape(len(pts), 4)], axis=1)


def landmark_groups(names: list[str]) -> list[list[int]]:
    """Landmarks grouped by name without its side ("left_eye", "right_eye" -> "eye")."""
    groups: dict[str, list[int]] = {}
    for i, name in enumerate(names):
        key = re.sub(r"(^|_)(left|right)(_|$)", r"\1", name.lower()).strip("_") or name
        groups.setdefault(key, []).append(i)
    return list(groups.values())


def part_centres(groups: list[list[int]]) -> Features:
    return lambda pts, mean: np.concatenate([pts[:, g].mean(axis=1) for g in groups], axis=1)


ORACLES: dict[str, tuple[Features, str]] = {
    "translation": (translation, "the landmarks' centroid"),
    "translation_scale": (translation_scale, "centroid and RMS radius"),
    "similarity": (similarity, "best similarity transform of the mean shape (translation, scale, rotation)"),
    "affine": (affine, "best affine transform of the mean shape (adds stretch and shear)"),
}

NOISY = ("translation_scale", "similarity")  # the oracles also scored with noisy landmarks


def oracle_error(features: Features, train: np.ndarray, test: np.ndarray, eyes: tuple[int, int],
                 noise: float = 0.0, seed: int = 0) -> float:
    """MAFL-normalised error (%) of a regression with bias from oracle features; `noise` is the
    standard deviation (in [-1, 1] units) of the Gaussian noise added to the landmarks the
    features are computed from (the regression's targets stay exact)."""
    rng = np.random.default_rng(seed)
    seen_train = train + noise * rng.standard_normal(train.shape)
    seen_test = test + noise * rng.standard_normal(test.shape)
    mean = train.mean(axis=0)
    reg = metrics.fit_linear(features(seen_train, mean), train, bias=True)
    pred = reg.predict(features(seen_test, mean)).reshape(test.shape)
    return float(100.0 * metrics.interocular_error(pred, test, eyes).mean())


def complete_landmarks(split: LabelledImages) -> np.ndarray:
    return split.landmarks[split.complete_faces()].numpy().astype(np.float64)


def measure(data: Path, noise_px: list[float], seed: int = 0) -> dict:
    ds_train, ds_test = load_split(data, "train"), load_split(data, "test")
    train, test = LabelledImages.from_dataset(ds_train), LabelledImages.from_dataset(ds_test)
    if test.landmarks is None or train.landmarks is None:
        raise SystemExit(f"{data} has no landmarks: prepare it with --landmarks (and --splits)")
    eyes = test.eyes
    tr, te = complete_landmarks(train), complete_landmarks(test)
    size = test.images.shape[-1]
    to_px = size / 2.0  # [-1, 1] -> pixels of the stored images
    oracles = dict(ORACLES)
    names = ds_test.meta.get("landmark_names") or [f"point{i + 1}" for i in range(tr.shape[1])]
    groups = landmark_groups(names)
    if any(len(g) > 1 for g in groups) and len(groups) < len(names):
        label = ", ".join("+".join(names[i] for i in g) for g in groups)
        oracles["part_centres"] = (part_centres(groups), f"the centre of each landmark group ({label})")
    mean_shape = metrics.mean_shape_error(tr, te, eyes)
    ceilings = {"mean_shape": {"error_pct": mean_shape, "x_mean_shape": 1.0, "what": "no feature: the train mean"}}
    for name, (fn, what) in oracles.items():
        err = oracle_error(fn, tr, te, eyes)
        ceilings[name] = {"error_pct": err, "x_mean_shape": err / mean_shape, "n_features": fn(tr[:1], tr.mean(0)).shape[1],
                          "what": what}
    noisy = {name: {f"{s:g}": oracle_error(oracles[name][0], tr, te, eyes, noise=s / to_px, seed=seed) / mean_shape
                    for s in noise_px}
             for name in NOISY}
    iod = np.linalg.norm(te[:, eyes[0]] - te[:, eyes[1]], axis=-1) * to_px
    spread = (te - te.mean(axis=0)) * to_px
    return {"data": data.name, "image_size": size, "n_train": len(tr), "n_test": len(te), "eyes": list(eyes),
            "landmark_names": names, "mean_interocular_px": float(iod.mean()),
            "landmark_std_px": float(spread.std(axis=0).mean()),
            "protocol": "regression with bias fitted on train, scored on test; error in % of the inter-ocular distance",
            "ceilings": ceilings,
            "x_mean_shape_with_noise": {"noise_px": noise_px, **noisy,
                                        "what": "x mean shape when the features come from landmarks with Gaussian "
                                                "noise of this many pixels (per coordinate)"}}


def table(report: dict) -> str:
    lines = ["oracle | features | % IOD | x mean shape"]
    for name, c in report["ceilings"].items():
        lines.append(f"{name} | {c.get('n_features', 0)} | {c['error_pct']:.2f} | {c['x_mean_shape']:.2f}")
    noisy = report["x_mean_shape_with_noise"]
    for name in NOISY:
        lines.append(f"{name} with noise (px: x mean shape) | "
                     + ", ".join(f"{s}: {v:.2f}" for s, v in noisy[name].items()))
    lines.append(f"mean inter-ocular distance {report['mean_interocular_px']:.2f} px, "
                 f"landmark spread (std) {report['landmark_std_px']:.2f} px at {report['image_size']} px")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(prog="python -m benchmarks.bench_landmark_ceilings", description=__doc__.split("\n")[0])
    p.add_argument("--data", required=True, help="prepared data file with landmarks and train / test splits")
    p.add_argument("--noise-px", nargs="+", type=float, default=[0.25, 0.5, 1.0])
    p.add_argument("--out", help="JSON report (default benchmarks/results/landmark-ceilings-DATA.json)")
    args = p.parse_args(argv)
    data = Path(args.data)
    report = measure(data, args.noise_px)
    print(table(report))
    write_report(args.out or f"benchmarks/results/landmark-ceilings-{data.name.split('.')[0]}.json", report)
    return report


if __name__ == "__main__":
    main()
