"""Any folder of images, with optional landmarks CSV, masks folder and split CSV.

- images: every image file under the folder (recursively, hidden files and the masks folder
  excluded), resized to S x S whatever their size (aspect not kept);
- landmarks CSV: header `file,x1,y1,x2,y2,...`, pixel coordinates in the original image with
  0-based pixel centres, `file` relative to the folder, an empty value = invisible point;
  images without a row have all points invisible;
- masks folder: one PNG per image with the image's relative path and stem, non-zero =
  foreground, same size as the image;
- split CSV: header `file,split`, split one of train / val / test, a row for every image;
  without it, a seeded random 90 / 10 train / test split.
"""
from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np

from .collect import Item, collect
from .errors import DataError
from .fileformat import MAFL_NAMES, Prepared
from .images import is_image

SPLITS = ("train", "val", "test")


def list_images(root: Path, exclude: Path | None = None) -> list[str]:
    """Relative POSIX paths of the image files under root, sorted."""
    found = []
    excluded = exclude.resolve() if exclude is not None else None
    for path in root.rglob("*"):
        rel = path.relative_to(root)
        if any(part.startswith(".") for part in rel.parts):
            continue
        if excluded is not None and (path.resolve() == excluded or excluded in path.resolve().parents):
            continue
        if path.is_file() and is_image(path.name):
            found.append(rel.as_posix())
    return sorted(found)


def _read_csv(path: Path, what: str) -> list[list[str]]:
    if not path.is_file():
        raise DataError(f"{path}: {what} CSV not found; check the path")
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            rows = [row for row in csv.reader(fh)]
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise DataError(f"{path}: cannot read the {what} CSV ({e}); save it as UTF-8 text") from None
    rows = [[c.strip() for c in row] for row in rows if any(c.strip() for c in row)]
    if not rows:
        raise DataError(f"{path}: the {what} CSV is empty; it needs a header line and one row per image")
    return rows


def read_landmarks_csv(path: Path, images: set[str]) -> tuple[dict[str, np.ndarray], int]:
    """{relative file: (L, 2) pixel coordinates, NaN = invisible} and L."""
    rows = _read_csv(path, "landmarks")
    header = rows[0]
    n_points = (len(header) - 1) // 2
    expected = ["file"] + [f"{axis}{i}" for i in range(1, n_points + 1) for axis in "xy"]
    if n_points < 1 or [h.lower() for h in header] != expected:
        raise DataError(f"{path}: header must be file,x1,y1,x2,y2,... (got {','.join(header)}); fix the first line")
    out: dict[str, np.ndarray] = {}
    for lineno, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise DataError(f"{path}:{lineno}: {len(row)} fields, the header has {len(header)}; "
                            f"leave a value empty (not out) for an invisible point")
        name = Path(row[0]).as_posix()
        if name not in images:
            raise DataError(f"{path}:{lineno}: {row[0]} is not an image in the folder; give its path relative "
                            f"to the folder or remove the row")
        if name in out:
            raise DataError(f"{path}:{lineno}: {row[0]} appears twice; keep one row per image")
        try:
            values = np.array([float(v) if v else math.nan for v in row[1:]], dtype=np.float64)
        except ValueError:
            raise DataError(f"{path}:{lineno}: a coordinate is not a number; use plain numbers or leave it "
                            f"empty") from None
        pts = values.reshape(n_points, 2)
        pts[~np.isfinite(pts).all(axis=1)] = math.nan  # x without y (or y without x) is invisible too
        out[name] = pts
    return out, n_points


def read_splits_csv(path: Path, images: list[str]) -> dict[str, str]:
    rows = _read_csv(path, "split")
    if [h.lower() for h in rows[0]] != ["file", "split"]:
        raise DataError(f"{path}: header must be file,split (got {','.join(rows[0])}); fix the first line")
    known = set(images)
    out: dict[str, str] = {}
    for lineno, row in enumerate(rows[1:], start=2):
        if len(row) != 2:
            raise DataError(f"{path}:{lineno}: expected 2 fields (file,split), got {len(row)}")
        name, split = Path(row[0]).as_posix(), row[1].lower()
        if name not in known:
            raise DataError(f"{path}:{lineno}: {row[0]} is not an image in the folder; give its path relative "
                            f"to the folder or remove the row")
        if split not in SPLITS:
            raise DataError(f"{path}:{lineno}: split {row[1]!r} is not one of {', '.join(SPLITS)}")
        if name in out:
            raise DataError(f"{path}:{lineno}: {row[0]} appears twice; keep one row per image")
        out[name] = split
    for name in images:
        if name not in out:
            raise DataError(f"{path}: no split for {name}; add a row for every image in the folder")
    return out


def random_splits(images: list[str], seed: int, test_fraction: float) -> dict[str, str]:
    """A seeded train/test split with round(n * test_fraction) (at least 1) test images."""
    n = len(images)
    if not 0.0 < test_fraction < 1.0:
        raise DataError(f"test fraction {test_fraction} must be between 0 and 1")
    if n < 2:
        raise DataError(f"the folder has {n} image; a train and a test split need at least 2 (or give --splits)")
    n_test = min(n - 1, max(1, round(n * test_fraction)))
    order = np.random.default_rng(seed).permutation(n)
    test = set(order[:n_test].tolist())
    return {name: ("test" if i in test else "train") for i, name in enumerate(images)}


def folder(root: str | Path, size: int = 128, landmarks: str | Path | None = None, masks: str | Path | None = None,
           splits: str | Path | None = None, seed: int = 0, test_fraction: float = 0.1,
           landmark_protocol: str | None = None, eyes: tuple[int, int] | None = None, skip_bad: bool = False,
           progress: bool = True) -> Prepared:
    """Prepare a plain image folder; see the module docstring for the optional inputs.

    `landmark_protocol="mafl"` declares the landmarks a face set scored as CelebA is (regression
    without bias, error in % of the distance between the two `eyes`, 0-based point indices,
    default the MAFL order's first two); with 5 points and the default eyes they get MAFL's names."""
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"{root}: folder not found; give a folder of images")
    mask_dir = Path(masks) if masks is not None else None
    if mask_dir is not None and not mask_dir.is_dir():
        raise DataError(f"{mask_dir}: masks folder not found; check the path")
    images = list_images(root, exclude=mask_dir)
    if not images:
        raise DataError(f"{root}: no image files (.jpg, .png, ...) in it; give a folder of images")

    points: dict[str, np.ndarray] = {}
    n_points = 0
    if landmarks is not None:
        points, n_points = read_landmarks_csv(Path(landmarks), set(images))
    if landmark_protocol is not None:
        if landmarks is None:
            raise DataError("--landmark-protocol needs --landmarks")
        if landmark_protocol not in ("mafl", "keypoints"):
            raise DataError(f"unknown landmark protocol {landmark_protocol!r}; use mafl or keypoints")
    if eyes is not None and landmark_protocol != "mafl":
        raise DataError("--eyes names the points that normalise the mafl error; add --landmark-protocol mafl")
    protocol = landmark_protocol or ("keypoints" if landmarks is not None else None)
    eyes = eyes if eyes is not None else (0, 1)
    if protocol == "mafl" and max(eyes) >= n_points:
        raise DataError(f"{landmarks}: the mafl protocol needs the two eye points {eyes[0] + 1},{eyes[1] + 1}, "
                        f"the CSV has {n_points} point(s); give --eyes I,J within 1..{n_points}")

    if protocol == "mafl":
        for name, pts in points.items():
            given = int(np.isfinite(pts).all(axis=1).sum())
            if given < n_points:
                raise DataError(f"{landmarks}: {name} has {given} of its {n_points} points; the mafl protocol scores "
                                "complete faces: fill in the empty values, or remove the row to leave the image "
                                "unlabelled")

    split_of = read_splits_csv(Path(splits), images) if splits is not None else random_splits(images, seed,
                                                                                              test_fraction)
    split_names = [s for s in SPLITS if s in set(split_of.values()) or s in ("train", "test")]
    missing = np.full((n_points, 2), math.nan)
    items = []
    for name in images:
        mask = None
        if mask_dir is not None:
            mask = mask_dir / (name.rsplit(".", 1)[0] + ".png")
            if not mask.is_file():
                raise DataError(f"{mask}: no mask for image {name}; add it (same relative path and stem, .png) "
                                f"or leave out --masks")
        items.append(Item(root / name, name, split_of[name], landmarks=points.get(name, missing) if n_points else None,
                          mask=mask))
    meta = {"source": "folder", "description": f"image folder {root.name}",
            "eval_splits": {"fit": "train", "test": "test"},
            "options": {"size": size, "seed": seed, "test_fraction": test_fraction, "landmarks": bool(landmarks),
                        "masks": bool(masks), "splits": bool(splits)}}
    if protocol is not None:
        meta["landmark_protocol"] = protocol
        mafl_order = protocol == "mafl" and n_points == len(MAFL_NAMES) and eyes == (0, 1)
        meta["landmark_names"] = list(MAFL_NAMES) if mafl_order else [f"point{i}" for i in range(1, n_points + 1)]
    if protocol == "mafl":
        meta["landmark_eyes"] = list(eyes)
        meta["options"]["eyes"] = list(eyes)
    origin = {s: (Path(splits).name if splits is not None else f"the seeded {1 - test_fraction:.0%} / "
                  f"{test_fraction:.0%} split") for s in split_names}
    return collect(items, size, split_names, meta, n_landmarks=n_points, with_masks=mask_dir is not None,
                   skip_bad=skip_bad, progress=progress, split_origin=origin)
