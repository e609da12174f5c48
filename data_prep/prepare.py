"""Command line: turn a source into one data file.

    python -m data_prep.prepare synthetic:faces --n 10000 --size 64 --seed 0 --out data/faces64.ganseg-data
    python -m data_prep.prepare celeba-wild ~/data/celeba --out data/celeba_wild128.ganseg-data
    python -m data_prep.prepare folder ~/photos --landmarks pts.csv --masks ~/masks --out data/mine.ganseg-data

Sources: synthetic:faces, synthetic:faces-aligned, synthetic:birds, synthetic:flowers,
synthetic:figures, celeba-wild DIR, celeba-aligned DIR, cub DIR, flowers DIR, taichi DIR,
folder DIR.  Bad input prints one `error: ...` line and exits with status 2; no output file is
written unless everything succeeded.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from .errors import DataError
from .fileformat import Prepared, save

REAL_SOURCES = ("celeba-wild", "celeba-aligned", "cub", "flowers", "taichi", "folder")
FOLDER_ONLY = ("landmarks", "masks", "splits", "landmark_protocol", "eyes")


def parser() -> argparse.ArgumentParser:
    from .synthetic import DOMAINS

    p = argparse.ArgumentParser(
        prog="python -m data_prep.prepare",
        description="Prepare a GANSeg data file from synthetic domains, the paper's datasets or an image folder.",
        epilog="synthetic domains: " + ", ".join(f"synthetic:{d}" for d in DOMAINS)
               + "; real sources (need DIR): " + ", ".join(REAL_SOURCES) + ". See data_prep/README.md.")
    p.add_argument("source", help="synthetic:DOMAIN or one of " + ", ".join(REAL_SOURCES))
    p.add_argument("dir", nargs="?", help="folder of the downloaded dataset or of your images (real sources)")
    p.add_argument("--out", required=True, help="data file to write (e.g. data/faces64.ganseg-data)")
    p.add_argument("--size", type=int, help="image side in pixels (default 64 synthetic, 128 real)")
    p.add_argument("--n", type=int, default=10000, help="synthetic: number of images (default 10000)")
    p.add_argument("--seed", type=int, default=0, help="synthetic: random seed; folder: seed of the 90/10 split")
    p.add_argument("--test-fraction", type=float, default=0.1,
                   help="synthetic and folder without --splits: share of images in the test split (default 0.1)")
    p.add_argument("--landmarks", help="folder: CSV with header file,x1,y1,x2,y2,... (pixels of the original image)")
    p.add_argument("--masks", help="folder: folder with one PNG mask per image (same stem), non-zero = foreground")
    p.add_argument("--splits", help="folder: CSV with header file,split (train, val or test)")
    p.add_argument("--landmark-protocol", choices=("mafl", "keypoints"),
                   help="folder: how landmarks are scored (mafl: face points, regression without bias, error in %% "
                        "of the eye distance, as for CelebA; default keypoints: with bias, in pixels)")
    p.add_argument("--eyes", help="folder, with --landmark-protocol mafl: the two eye points as I,J, 1-based "
                                  "as in the CSV's x1,y1,... columns (default 1,2, the MAFL order)")
    p.add_argument("--frame-step", type=int, default=1, help="taichi: keep every K-th training frame (default 1)")
    p.add_argument("--skip-bad", action="store_true", help="real sources: skip unreadable images and list them")
    p.add_argument("--workers", type=int, default=min(4, os.cpu_count() or 1),
                   help="synthetic: processes drawing in parallel, 0 = this process (default: CPUs, at most 4)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def build(args: argparse.Namespace) -> Prepared:
    """The dataset the arguments describe (nothing written)."""
    from . import folder as folder_source
    from . import sources
    from .synthetic import render, to_prepared

    progress = not args.quiet
    src = args.source
    folder_opts = [o for o in FOLDER_ONLY if getattr(args, o) is not None]
    if folder_opts and src != "folder":
        raise DataError(f"--{folder_opts[0].replace('_', '-')} only applies to the folder source")
    if src.startswith("synthetic:"):
        if args.dir is not None:
            raise DataError(f"{src} is generated, it takes no folder (got {args.dir})")
        if args.workers < 0:
            raise DataError(f"--workers must be >= 0, got {args.workers}")
        images = render(src.split(":", 1)[1], args.n, args.size or 64, args.seed, progress=progress,
                        workers=args.workers)
        return to_prepared(images, args.test_fraction)
    if src not in REAL_SOURCES:
        raise DataError(f"unknown source {src!r}; use synthetic:DOMAIN or one of {', '.join(REAL_SOURCES)}")
    if args.dir is None:
        raise DataError(f"{src} needs the dataset folder: python -m data_prep.prepare {src} DIR --out FILE")
    size = args.size or 128
    if not 16 <= size <= 1024:
        raise DataError(f"size {size} is out of range; use 16 to 1024 px")
    common = {"size": size, "skip_bad": args.skip_bad, "progress": progress}
    if src in ("celeba-wild", "celeba-aligned"):
        return sources.celeba(args.dir, aligned=src == "celeba-aligned", **common)
    if src == "cub":
        return sources.cub(args.dir, **common)
    if src == "flowers":
        return sources.flowers(args.dir, **common)
    if src == "taichi":
        return sources.taichi(args.dir, frame_step=args.frame_step, **common)
    return folder_source.folder(args.dir, landmarks=args.landmarks, masks=args.masks, splits=args.splits,
                                seed=args.seed, test_fraction=args.test_fraction,
                                landmark_protocol=args.landmark_protocol, eyes=parse_eyes(args.eyes), **common)


def parse_eyes(text: str | None) -> tuple[int, int] | None:
    """'I,J' (1-based) -> (I - 1, J - 1); None stays None."""
    if text is None:
        return None
    parts = text.split(",")
    try:
        eyes = tuple(int(p) - 1 for p in parts)
    except ValueError:
        eyes = ()
    if len(eyes) != 2 or min(eyes) < 0 or eyes[0] == eyes[1]:
        raise DataError(f"--eyes {text}: expected two different point numbers I,J counted from 1, e.g. --eyes 1,2")
    return eyes


def summary(data: Prepared, path: Path, seconds: float) -> str:
    """One line: what was written."""
    counts = ", ".join(f"{n} {name}" for name, n in data.split_counts().items())
    extras = []
    if data.landmarks is not None:
        extras.append(f"{data.landmarks.shape[1]} landmarks ({data.meta.get('landmark_protocol', 'unscored')})")
        incomplete = int((~data.visible.all(dim=1)).sum()) if data.visible is not None else 0
        if incomplete:
            extras.append(f"points missing on {incomplete} image{'s' if incomplete > 1 else ''} (invisible)")
    if data.fg_masks is not None:
        extras.append(f"masks on {int(data.has_mask.sum())}")
    if data.part_labels is not None:
        extras.append(f"{len(data.meta.get('part_names', []))} part labels")
    skipped = data.meta.get("skipped", [])
    if skipped:
        extras.append(f"{len(skipped)} skipped")
    return (f"wrote {path}: {len(data)} images at {data.size} px ({counts}); "
            f"{', '.join(extras) or 'images only'}; {data.meta.get('source')} in {seconds:.1f} s")


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    start = time.time()
    out = Path(args.out)
    try:
        if out.is_dir():
            raise DataError(f"{out}: is a folder; --out needs a file name such as {out / 'data.ganseg-data'}")
        data = build(args)
        save(data, out)
    except DataError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; nothing written", file=sys.stderr)
        return 130
    for line in data.meta.get("skipped", []):
        print(f"skipped: {line}", file=sys.stderr)
    print(summary(data, out, time.time() - start))
    return 0


if __name__ == "__main__":
    sys.exit(main())
