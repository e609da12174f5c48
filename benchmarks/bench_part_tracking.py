"""Do a run's parts follow the face, and where is that lost: in distillation or on real photos?

    python -m benchmarks.bench_part_tracking --runs runs/faces32-s0 runs/faces32-s1 --data faces32.ganseg-data \\
        --out benchmarks/results/part-tracking-faces32.json

The landmark error regresses the landmarks from the distilled segmenter's part centres.  When it
is close to the mean shape's, either the segmenter does not reproduce the generator's parts, or
the parts it finds on real photographs do not move with the face.  This script measures both,
part by part:

- **generated images** (the run's EMA generator, `--samples` fixed latents): how much each
  part's mask centre moves between samples (std, px), how far the segmenter's part centre is
  from it (mean distance, px) and how well the two correlate (x and y).  High correlation here
  means distillation works;
- **real images** (the data file's test split): how much each part centre moves (std, px)
  against how much the landmarks move, and the correlation of each part centre with the face's
  centre (the mean of its landmarks);
- **explained**: R^2 on the test split of a linear regression (with bias, fitted on the fit
  split, up to 5,000 images as the landmark error uses) from all part centres to the face's
  centre and to all landmark coordinates.  0 is what the mean shape explains.

Parts that move on real faces as much as in generated ones but explain none of the face's
position are noise for the landmark regression: their centres follow hair, lighting or
background, not the features.  It prints a table and writes JSON.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
from sklearn.metrics import r2_score

from benchmarks.report import write_report
from ganseg_lib.app.data import CLIError, evaluation_splits
from ganseg_lib.checkpoint import CheckpointError
from ganseg_lib.config import GANSegConfig
from ganseg_lib.evaluation import metrics
from ganseg_lib.evaluation.evaluate import MAX_REGRESSION_IMAGES
from ganseg_lib.model.generator import Generator
from ganseg_lib.training.segmenter import SEGMENTER, Segmenter, SegmenterError, load_segmenter, predict
from ganseg_lib.training.state import CHECKPOINT, load_gan


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation of two (N,) arrays; 0 where either does not vary."""
    a, b = a - a.mean(), b - b.mean()
    denominator = np.sqrt((a ** 2).sum() * (b ** 2).sum())
    return float((a * b).sum() / denominator) if denominator > 0 else 0.0


def explained(train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray, test_y: np.ndarray) -> float:
    """R^2 on the test rows of a least-squares fit (with bias) on the train rows, over all target columns
    together: 1 - residual / total sum of squares about the test targets' mean."""
    reg = metrics.fit_linear(train_x, train_y, bias=True)
    pred = reg.predict(test_x.reshape(len(test_x), -1))
    # variance-weighted R^2 over the columns is exactly 1 - (summed residuals) / (summed totals)
    return float(r2_score(test_y.reshape(len(test_y), -1), pred, multioutput="variance_weighted"))


def generated_tracking(cfg: GANSegConfig, g: Generator, seg: Segmenter, samples: int, seed: int = 0) -> dict:
    """Segmenter against generator on the generator's own samples, per part (px)."""
    to_px = cfg.generator.image_size / 2.0
    noise = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        out = g(g.sample_latents(samples, noise))
    true = metrics.part_centers(out.masks) * to_px
    found = metrics.part_centers(predict(seg, out.image)) * to_px
    return {
        "generator_std_px": true.std(axis=0).tolist(),
        "segmenter_error_px": np.linalg.norm(found - true, axis=-1).mean(axis=0).tolist(),
        "correlation_xy": [[correlation(found[:, k, a], true[:, k, a]) for a in (0, 1)]
                           for k in range(true.shape[1])],
    }


def real_tracking(cfg: GANSegConfig, seg: Segmenter, data: str) -> dict:
    """Part centres of the segmenter on the data file's photographs against their landmarks (px)."""
    fit, test = evaluation_splits(data, cfg)
    if test.landmarks is None:
        raise SystemExit(f"{data} has no landmarks in its test split; prepare it with --landmarks")
    fit, test = fit.head(MAX_REGRESSION_IMAGES), test.select(test.complete_faces())
    fit = fit.select(fit.complete_faces())
    to_px = cfg.generator.image_size / 2.0
    parts = {name: metrics.part_centers(predict(seg, split.images)) * to_px
             for name, split in (("fit", fit), ("test", test))}
    marks = {"fit": fit.landmarks.double().numpy() * to_px, "test": test.landmarks.double().numpy() * to_px}
    return {"test_images": len(test.images), **tracking_statistics(parts, marks)}


def tracking_statistics(parts: dict[str, np.ndarray], marks: dict[str, np.ndarray]) -> dict:
    """Part centres (N, K, 2) against landmarks (N, L, 2), each {"fit": ..., "test": ...}, in px: spreads and
    correlations on the test rows, R^2 of regressions fitted on the fit rows."""
    face = {k: v.mean(axis=1) for k, v in marks.items()}
    centres = parts["test"]
    return {
        "part_std_px": centres.std(axis=0).tolist(),
        "landmark_std_px": marks["test"].std(axis=0).tolist(),
        "face_centre_std_px": face["test"].std(axis=0).tolist(),
        "correlation_with_face_centre_xy": [[correlation(centres[:, k, a], face["test"][:, a]) for a in (0, 1)]
                                            for k in range(centres.shape[1])],
        "r2_face_centre": explained(parts["fit"], face["fit"], centres, face["test"]),
        "r2_landmarks": explained(parts["fit"], marks["fit"], centres, marks["test"]),
    }


def table(name: str, row: dict) -> str:
    gen, real = row["generated"], row["real"]
    lines = [f"{name}:", "part | generated: G std px (x, y) | segmenter error px | corr seg~G (x, y) | "
             "real: std px (x, y) | corr with face centre (x, y)"]
    pair = (lambda v: f"{v[0]:.2f}, {v[1]:.2f}")
    for k in range(len(gen["generator_std_px"])):
        lines.append(f"{k} | {pair(gen['generator_std_px'][k])} | {gen['segmenter_error_px'][k]:.2f} | "
                     f"{pair(gen['correlation_xy'][k])} | {pair(real['part_std_px'][k])} | "
                     f"{pair(real['correlation_with_face_centre_xy'][k])}")
    spread = np.asarray(real["landmark_std_px"]).mean()
    lines.append(f"real landmarks move {spread:.2f} px (std), the face centre {pair(real['face_centre_std_px'])} px; "
                 f"part centres explain R^2 = {real['r2_face_centre']:.3f} of the face centre and "
                 f"{real['r2_landmarks']:.3f} of the landmarks")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(prog="python -m benchmarks.bench_part_tracking", description=__doc__.split("\n")[0])
    p.add_argument("--runs", nargs="+", required=True, help="run folders holding checkpoint.pt and segmenter.pt")
    p.add_argument("--data", required=True, help="prepared data file with landmarks (its test split is scored)")
    p.add_argument("--samples", type=int, default=500, help="generated images for the distillation half")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", default="benchmarks/results/part-tracking.json")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    rows = {}
    for run in map(Path, args.runs):
        missing = [name for name in (CHECKPOINT, SEGMENTER) if not (run / name).exists()]
        if missing:
            raise SystemExit(f"{run} holds no {missing[0]}; train and distill the run first")
        try:
            cfg, seg = load_segmenter(run / SEGMENTER, "cpu")
            _, g, _ = load_gan(run / CHECKPOINT)
            rows[run.name] = {"generated": generated_tracking(cfg, g, seg, args.samples),
                              "real": real_tracking(cfg, seg, args.data)}
        except (CLIError, CheckpointError, SegmenterError) as err:
            raise SystemExit(f"{run}: {err}") from None
    report = {"data": Path(args.data).name, "samples": args.samples, "runs": rows}
    print("\n\n".join(table(name, row) for name, row in report["runs"].items()))
    write_report(args.out, report)
    return report


if __name__ == "__main__":
    main()
