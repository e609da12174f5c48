"""Preparers for the paper's datasets, read from the layouts their downloads unpack to.

Users download the originals themselves (see data_prep/README.md for where from and the exact
folder layouts).  Each function checks the folder, lists the items with their splits, and hands
them to `collect`; nothing is downloaded.

- `celeba(root, size, aligned)`: MAFL splits (Sec. 4.1).  In the wild: the whole image resized
  to S x S (aspect not kept), images whose face box covers < 30 % of the image dropped.
  Aligned: the 178 x 178 square 30 px below the top of the 178 x 218 crops, resized.
- `cub(root, size)`: ReDO's split file (0 train, 1 val, 2 test), mask = segmentation > 0.5.
- `flowers(root, size)`: setid.mat with ReDO's reading (train = tstid, val = valid,
  test = trnid), masks from the segmim images (pure blue = background).
- `taichi(root, size)`: training frames for the GAN, the 5000 / 300 annotated frames of
  Siarohin et al. (18 keypoints, -1 = missing) for regression, test foreground masks.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .collect import Item, collect, soft_mask
from .errors import DataError
from .fileformat import MAFL_NAMES, Prepared
from .images import UnreadableImage, image_size, is_image

WILD_MIN_FACE = 0.3  # CelebA in the wild: keep faces whose box covers at least this share of the image
TAICHI_NAMES = ["nose", "neck", "right_shoulder", "right_elbow", "right_wrist", "left_shoulder", "left_elbow",
                "left_wrist", "right_hip", "right_knee", "right_ankle", "left_hip", "left_knee", "left_ankle",
                "right_eye", "left_eye", "right_ear", "left_ear"]


def _folder(root: Path, what: str) -> Path:
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"{root}: folder not found; give the folder that holds the {what} download")
    return root


def _find(root: Path, candidates: list[str], what: str, fix: str) -> Path:
    """The first of `candidates` (paths relative to root) that exists."""
    for c in candidates:
        if (root / c).exists():
            return root / c
    also = f" (also looked for {', '.join(candidates[1:])})" if len(candidates) > 1 else ""
    raise DataError(f"{root / candidates[0]}: {what} not found{also}; {fix}")


def _lines(path: Path) -> list[tuple[int, list[str]]]:
    """(line number, whitespace-split fields) of the non-empty lines of a text file."""
    try:
        text = path.read_text(encoding="utf-8", errors="strict")
    except (OSError, UnicodeDecodeError) as e:
        raise DataError(f"{path}: cannot read text file ({e}); download it again") from None
    return [(i + 1, line.split()) for i, line in enumerate(text.splitlines()) if line.strip()]


# --------------------------------------------------------------------------------------------
# CelebA + MAFL


def _celeba_table(path: Path, n_values: int, header_first: str) -> dict[str, list[int]]:
    """CelebA annotation lists: a count line, a header line, then `name v1 v2 ...` rows."""
    rows = _lines(path)
    out: dict[str, list[int]] = {}
    for lineno, fields in rows:
        if len(fields) == 1 and fields[0].isdigit() and lineno <= 2:
            continue  # the count line
        if fields[0] == header_first or (len(fields) == n_values and not fields[0].endswith(".jpg")):
            continue  # the header line
        if len(fields) != n_values + 1:
            raise DataError(f"{path}:{lineno}: expected a file name and {n_values} numbers, got {len(fields)} "
                            f"fields; use the original CelebA annotation file")
        try:
            out[fields[0]] = [int(float(v)) for v in fields[1:]]
        except ValueError:
            raise DataError(f"{path}:{lineno}: non-numeric value; use the original CelebA annotation file") from None
    if not out:
        raise DataError(f"{path}: no annotations in it; use the original CelebA annotation file")
    return out


def _name_list(path: Path) -> list[str]:
    names = [fields[0] for _, fields in _lines(path)]
    if not names:
        raise DataError(f"{path}: the list is empty; download the MAFL split files again")
    return names


def celeba(root: str | Path, size: int = 128, aligned: bool = False, skip_bad: bool = False,
           progress: bool = True) -> Prepared:
    """CelebA with the MAFL landmark splits; see the module docstring."""
    root = _folder(root, "CelebA")
    mafl_fix = "put MAFL's training.txt and testing.txt in DIR/MAFL/"
    if aligned:
        images = _find(root, ["Img/img_align_celeba", "img_align_celeba", "img_align_celeba/img_align_celeba"],
                       "aligned images", "unpack img_align_celeba.zip into DIR/Img/")
        lm_file = _find(root, ["Anno/list_landmarks_align_celeba.txt", "list_landmarks_align_celeba.txt"],
                        "aligned landmarks", "copy list_landmarks_align_celeba.txt into DIR/Anno/")
    else:
        images = _find(root, ["Img/img_celeba", "img_celeba"], "in-the-wild images",
                       "unpack img_celeba.7z into DIR/Img/")
        lm_file = _find(root, ["Anno/list_landmarks_celeba.txt", "list_landmarks_celeba.txt"],
                        "in-the-wild landmarks", "copy list_landmarks_celeba.txt into DIR/Anno/")
        bbox_file = _find(root, ["Anno/list_bbox_celeba.txt", "list_bbox_celeba.txt"], "face boxes",
                          "copy list_bbox_celeba.txt into DIR/Anno/")
    partition_file = _find(root, ["Eval/list_eval_partition.txt", "list_eval_partition.txt"], "partition list",
                           "copy list_eval_partition.txt into DIR/Eval/")
    mafl_train = _name_list(_find(root, ["MAFL/training.txt"], "MAFL training list", mafl_fix))
    mafl_test = _name_list(_find(root, ["MAFL/testing.txt"], "MAFL test list", mafl_fix))

    landmarks = _celeba_table(lm_file, 10, "lefteye_x")
    partition = _celeba_table(partition_file, 1, "image_id")
    boxes = _celeba_table(bbox_file, 4, "image_id") if not aligned else {}
    in_mafl = set(mafl_train) | set(mafl_test)
    train = [name for name, (p,) in partition.items() if p == 0 and name not in in_mafl]

    def crop(w: int, h: int):
        # The 178 x 218 aligned crops hold the face in the square 30 px from the top.
        top = min(round(30 * h / 218), max(h - w, 0))
        side = min(w, h)
        return (0, top, side, top + side)

    items: list[Item] = []
    dropped = 0
    skipped: list[str] = []
    for split, names in (("train", train), ("mafl_train", mafl_train), ("mafl_test", mafl_test)):
        for name in names:
            if name not in landmarks:
                raise DataError(f"{lm_file}: no landmarks for {name} (listed in the {split} split); "
                                f"use the complete annotation file")
            path = images / name
            if not aligned:
                if name not in boxes:
                    raise DataError(f"{bbox_file}: no face box for {name}; use the complete annotation file")
                try:
                    w, h = image_size(path)
                except UnreadableImage as e:
                    if not skip_bad:
                        raise
                    skipped.append(f"{name} ({e.reason})")
                    continue
                _, _, bw, bh = boxes[name]
                if bw * bh < WILD_MIN_FACE * w * h:
                    dropped += 1
                    continue
            pts = np.asarray(landmarks[name], dtype=np.float64).reshape(5, 2)
            items.append(Item(path, name, split, landmarks=pts, box=crop if aligned else None))
    kind = "aligned" if aligned else "wild"
    meta = {
        "source": f"celeba-{kind}",
        "description": (f"CelebA {kind}, MAFL splits" + ("" if aligned else
                        f", faces covering < {WILD_MIN_FACE:.0%} of the image dropped ({dropped})")),
        "landmark_names": list(MAFL_NAMES), "landmark_protocol": "mafl",
        "eval_splits": {"fit": "mafl_train", "test": "mafl_test"},
        "options": {"size": size, "aligned": aligned}, "skipped": skipped,
    }
    origin = {"train": f"{partition_file.name} partition 0 minus MAFL", "mafl_train": "MAFL/training.txt",
              "mafl_test": "MAFL/testing.txt"}
    return collect(items, size, ["train", "mafl_train", "mafl_test"], meta, n_landmarks=5, skip_bad=skip_bad,
                   progress=progress, split_origin=origin)


# --------------------------------------------------------------------------------------------
# CUB-200-2011


def cub(root: str | Path, size: int = 128, skip_bad: bool = False, progress: bool = True) -> Prepared:
    """CUB-200-2011 with ReDO's train/val/test split and the segmentation masks."""
    root = _folder(root, "CUB_200_2011")
    images_txt = _find(root, ["images.txt"], "image list", "give the CUB_200_2011 folder itself")
    split_file = _find(root, ["train_val_test_split.txt"], "ReDO split file",
                       "download train_val_test_split.txt from the ReDO repository into DIR")
    seg_root = _find(root, ["segmentations", "../segmentations"], "segmentations folder",
                     "unpack segmentations.tgz next to or into DIR")
    images = root / "images"
    paths = {}
    for lineno, fields in _lines(images_txt):
        if len(fields) != 2:
            raise DataError(f"{images_txt}:{lineno}: expected 'id path'; use the original images.txt")
        paths[fields[0]] = fields[1]
    split_names = ["train", "val", "test"]
    items = []
    for lineno, fields in _lines(split_file):
        if len(fields) != 2 or fields[1] not in ("0", "1", "2"):
            raise DataError(f"{split_file}:{lineno}: expected 'image_id 0|1|2'; use ReDO's train_val_test_split.txt")
        if fields[0] not in paths:
            raise DataError(f"{split_file}:{lineno}: image id {fields[0]} is not in {images_txt.name}; "
                            f"the split file does not match this CUB copy")
        rel = paths[fields[0]]
        items.append(Item(images / rel, rel, split_names[int(fields[1])],
                          mask=seg_root / (rel.rsplit(".", 1)[0] + ".png"), mask_rule=soft_mask))
    meta = {"source": "cub", "description": "CUB-200-2011, ReDO split, mask = segmentation > 0.5",
            "eval_splits": {"test": "test"}, "options": {"size": size}}
    origin = {k: f"{split_file.name} value {i}" for i, k in enumerate(split_names)}
    return collect(items, size, split_names, meta, with_masks=True, skip_bad=skip_bad, progress=progress,
                   split_origin=origin)


# --------------------------------------------------------------------------------------------
# Oxford Flowers 102


def flowers_mask(pixels: np.ndarray) -> np.ndarray:
    """segmim files paint the background pure blue (0, 0, 254); JPEG noise allowed."""
    if pixels.ndim != 3 or pixels.shape[2] < 3:
        raise DataError("a segmim file is not a colour image; use the original segmim_*.jpg files")
    r, g, b = (pixels[..., k].astype(np.int16) for k in range(3))
    background = (r < 40) & (g < 40) & (b > 200)
    return (~background).astype(np.float32)


def flowers(root: str | Path, size: int = 128, skip_bad: bool = False, progress: bool = True) -> Prepared:
    """Oxford Flowers 102 with the ReDO/GANSeg reading of setid.mat and the segmim masks."""
    root = _folder(root, "Oxford Flowers 102")
    jpg = _find(root, ["jpg"], "images folder", "unpack 102flowers.tgz into DIR")
    segmim = _find(root, ["segmim"], "segmentations folder", "unpack 102segmentations.tgz into DIR")
    setid = _find(root, ["setid.mat"], "split file", "download setid.mat into DIR")
    try:
        from scipy.io import loadmat

        mat = loadmat(setid)
    except ImportError:
        raise DataError(f"{setid}: reading it needs scipy; pip install scipy") from None
    except Exception as e:  # scipy raises its own MatReadError, ValueError, ... for damaged files
        raise DataError(f"{setid}: not a readable MATLAB file ({e}); download setid.mat again") from None
    # ReDO (and GANSeg) train on the large 'tstid' set and test on 'trnid'.
    roles = (("train", "tstid"), ("val", "valid"), ("test", "trnid"))
    items = []
    for split, key in roles:
        if key not in mat:
            raise DataError(f"{setid}: no '{key}' entry; download the original setid.mat")
        for idx in np.asarray(mat[key]).reshape(-1).tolist():
            name = f"image_{int(idx):05d}.jpg"
            items.append(Item(jpg / name, f"jpg/{name}", split, mask=segmim / f"segmim_{int(idx):05d}.jpg",
                              mask_rule=flowers_mask))
    meta = {"source": "flowers", "description": "Oxford Flowers 102, train = tstid, test = trnid, segmim masks",
            "eval_splits": {"test": "test"}, "options": {"size": size}}
    origin = {split: f"setid.mat '{key}'" for split, key in roles}
    return collect(items, size, [r for r, _ in roles], meta, with_masks=True, skip_bad=skip_bad, progress=progress,
                   split_origin=origin)


# --------------------------------------------------------------------------------------------
# Taichi


def _taichi_annotations(path: Path) -> list[tuple[str, np.ndarray]]:
    """(file name, (18, 2) x/y pixels with NaN for missing) from a taichi_*_gt.pkl table."""
    try:
        import pandas as pd
    except ImportError:
        raise DataError(f"{path}: reading it needs pandas; pip install pandas") from None
    try:
        table = pd.read_pickle(path)
        names, values = list(table["file_name"]), list(table["value"])
    except Exception as e:  # a foreign pickle can fail in many ways; all mean "not the table we expect"
        raise DataError(f"{path}: not a keypoint table with 'file_name' and 'value' columns ({type(e).__name__}); "
                        f"download it again from the motion-cosegmentation repository") from None
    out = []
    for name, value in zip(names, values):
        pts = np.asarray(value, dtype=np.float64)
        if pts.shape != (18, 2):
            raise DataError(f"{path}: keypoints of {name} have shape {pts.shape}, expected (18, 2)")
        pts = np.where(pts == -1, np.nan, pts)
        out.append((str(name), pts))
    return out


def taichi(root: str | Path, size: int = 128, frame_step: int = 1, skip_bad: bool = False,
           progress: bool = True) -> Prepared:
    """Taichi: GAN frames from train/, regression sets from the keypoint tables, test masks."""
    root = _folder(root, "Taichi")
    if frame_step < 1:
        raise DataError(f"--frame-step must be >= 1, got {frame_step}")
    train_dir = _find(root, ["train"], "training frames", "put the training videos' PNG frames in DIR/train/<video>/")
    ann = _find(root, ["landmark", "landmarks"], "keypoint tables folder",
                "copy taichi_train_gt.pkl and taichi_test_gt.pkl into DIR/landmark/")
    evals = _find(root, ["eval_images/taichi-256", "eval_images"], "annotated frames",
                  "unpack eval_images.tar.gz into DIR")
    mask_dir = _find(root, ["taichi-test-masks"], "test masks folder", "unpack the test masks into DIR/taichi-test-masks/")

    items = []
    for video in sorted(p for p in train_dir.iterdir() if p.is_dir()) or [train_dir]:
        frames = sorted(f for f in video.iterdir() if f.is_file() and is_image(f.name))
        for f in frames[::frame_step]:
            items.append(Item(f, str(f.relative_to(root)), "train"))
    if not any(it.split == "train" for it in items):
        raise DataError(f"{train_dir}: no frames found; put PNG frames in DIR/train/<video>/")
    for split, table, folder in (("fit", "taichi_train_gt.pkl", "train"), ("test", "taichi_test_gt.pkl", "test")):
        table_path = ann / table
        if not table_path.is_file():
            raise DataError(f"{table_path}: keypoint table not found; copy it from the motion-cosegmentation "
                            f"repository's landmarks/ folder")
        for name, pts in _taichi_annotations(table_path):
            image = evals / folder / name
            if not image.is_file():
                raise DataError(f"{table_path}: lists {name}, which is not in {evals / folder}; "
                                f"unpack the matching eval_images.tar.gz")
            mask = mask_dir / name if split == "test" else None
            if mask is not None and not mask.is_file():
                raise DataError(f"{mask}: test mask not found; every test frame needs its mask")
            items.append(Item(image, f"eval/{folder}/{name}", split, landmarks=pts, mask=mask, mask_rule=soft_mask))
    meta = {"source": "taichi", "description": f"Taichi, GAN frames every {frame_step}, 5000/300 keypoint sets",
            "landmark_names": list(TAICHI_NAMES), "landmark_protocol": "keypoints",
            "eval_splits": {"fit": "fit", "test": "test"}, "options": {"size": size, "frame_step": frame_step}}
    origin = {"train": "train/", "fit": "taichi_train_gt.pkl", "test": "taichi_test_gt.pkl"}
    return collect(items, size, ["train", "fit", "test"], meta, n_landmarks=18, with_masks=True,
                   skip_bad=skip_bad, progress=progress, split_origin=origin)

