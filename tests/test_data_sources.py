"""The paper's datasets, prepared from small fixture trees built in the real download layouts."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from data_prep import DataError, sources

S = 48  # output size in these tests
RED = (230, 20, 20)


def write_image(path: Path, w: int, h: int, colour=(40, 120, 200), markers=(), radius: int | None = None,
                rect=None) -> None:
    """A flat image with red squares centred on `markers` (x, y) pixels and an optional filled
    rectangle (left, top, right, bottom, value) — written as JPEG or PNG by extension."""
    arr = np.empty((h, w, 3), dtype=np.uint8)
    arr[:] = colour
    r = radius if radius is not None else max(2, max(w, h) // 14)
    for x, y in markers:
        arr[max(0, y - r):y + r + 1, max(0, x - r):x + r + 1] = RED
    if rect is not None:
        left, top, right, bottom, value = rect
        arr[top:bottom, left:right] = value
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(arr).save(path, quality=95) if path.suffix == ".jpg" else Image.fromarray(arr).save(path)


def write_mask(path: Path, w: int, h: int, regions) -> None:
    """Grey mask: list of (left, top, right, bottom, value)."""
    arr = np.zeros((h, w), dtype=np.uint8)
    for left, top, right, bottom, value in regions:
        arr[top:bottom, left:right] = value
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(arr).save(path)


def truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])


def assert_markers_at_landmarks(images: torch.Tensor, landmarks: torch.Tensor, visible: torch.Tensor) -> None:
    """Every visible landmark, mapped to its pixel, lands on a red marker."""
    size = images.shape[-1]
    col = ((landmarks[..., 0] + 1) * size / 2).floor().long().clamp(0, size - 1)
    row = ((landmarks[..., 1] + 1) * size / 2).floor().long().clamp(0, size - 1)
    n = torch.arange(images.shape[0]).unsqueeze(1)
    px = images[n, :, row, col].float()  # (N, L, 3)
    red = (px[..., 0] > 150) & (px[..., 1] < 110) & (px[..., 2] < 110)
    assert bool(red[visible].all()), px[visible & ~red]


# --------------------------------------------------------------------------------------------
# CelebA


CELEBA_SIZES = {1: (120, 150), 2: (160, 120), 3: (100, 100), 4: (130, 110), 5: (110, 130), 6: (150, 150),
                7: (120, 140), 8: (100, 120)}


def celeba_points(w: int, h: int, k: int) -> list[tuple[int, int]]:
    """Five landmarks inside the image, different per image."""
    return [(int(w * (0.3 + 0.02 * k)), int(h * 0.35)), (int(w * 0.68), int(h * 0.36)), (int(w * 0.5), int(h * 0.55)),
            (int(w * 0.35), int(h * 0.75)), (int(w * 0.65), int(h * 0.76))]


@pytest.fixture
def celeba_root(tmp_path) -> Path:
    root = tmp_path / "celeba"
    lm_rows, lm_align, boxes, part = [], [], [], []
    for k, (w, h) in CELEBA_SIZES.items():
        name = f"{k:06d}.jpg"
        pts = celeba_points(w, h, k)
        write_image(root / "Img" / "img_celeba" / name, w, h, markers=pts)
        lm_rows.append(f"{name} " + " ".join(f"{x} {y}" for x, y in pts))
        # Image 2's face box covers 10 % of it: dropped in the wild.
        bw, bh = (int(w * 0.3), int(h * 0.33)) if k == 2 else (int(w * 0.7), int(h * 0.8))
        boxes.append(f"{name}  5  6 {bw} {bh}")
        part.append(f"{name} {2 if k == 8 else 0}")
        apts = [(x * 178 // w, 40 + y * 150 // h) for x, y in pts]  # inside the aligned square below row 30
        write_image(root / "Img" / "img_align_celeba" / name, 178, 218, markers=apts, radius=8)
        lm_align.append(f"{name} " + " ".join(f"{x} {y}" for x, y in apts))
    header = "lefteye_x lefteye_y righteye_x righteye_y nose_x nose_y leftmouth_x leftmouth_y rightmouth_x rightmouth_y"
    (root / "Anno").mkdir()
    (root / "Anno" / "list_landmarks_celeba.txt").write_text(f"{len(lm_rows)}\n{header}\n" + "\n".join(lm_rows) + "\n")
    (root / "Anno" / "list_landmarks_align_celeba.txt").write_text(f"{len(lm_align)}\n{header}\n"
                                                                     + "\n".join(lm_align) + "\n")
    (root / "Anno" / "list_bbox_celeba.txt").write_text(f"{len(boxes)}\nimage_id x_1 y_1 width height\n"
                                                        + "\n".join(boxes) + "\n")
    (root / "Eval").mkdir()
    (root / "Eval" / "list_eval_partition.txt").write_text("\n".join(part) + "\n")
    (root / "MAFL").mkdir()
    (root / "MAFL" / "training.txt").write_text("000004.jpg\n000005.jpg\n")
    (root / "MAFL" / "testing.txt").write_text("000006.jpg\n000007.jpg\n")
    return root


def test_celeba_wild_splits_filter_and_landmarks(celeba_root):
    data = sources.celeba(celeba_root, size=S, progress=False)
    assert data.split_names == ["train", "mafl_train", "mafl_test"]
    by_split = {name: [f for f, s in zip(data.files, data.split.tolist()) if s == i]
                for i, name in enumerate(data.split_names)}
    # Train = partition 0 without MAFL; image 2 dropped (small face), image 8 is not partition 0.
    assert by_split == {"train": ["000001.jpg", "000003.jpg"], "mafl_train": ["000004.jpg", "000005.jpg"],
                        "mafl_test": ["000006.jpg", "000007.jpg"]}
    assert data.meta["landmark_protocol"] == "mafl" and data.meta["landmark_names"][0] == "left_eye"
    assert data.meta["eval_splits"] == {"fit": "mafl_train", "test": "mafl_test"}
    assert data.images.shape == (6, 3, S, S) and data.visible.all()
    # Whole image resized, aspect not kept: normalised landmarks are the source fractions.
    w, h = CELEBA_SIZES[1]
    x, y = celeba_points(w, h, 1)[2]
    assert torch.allclose(data.landmarks[0, 2], torch.tensor([(x + 0.5) * 2 / w - 1, (y + 0.5) * 2 / h - 1]))
    assert_markers_at_landmarks(data.images, data.landmarks, data.visible)


def test_celeba_aligned_crop(celeba_root):
    data = sources.celeba(celeba_root, size=S, aligned=True, progress=False)
    assert len(data) == 7, "no face-size filter on aligned images (image 8 is not in any split)"
    assert_markers_at_landmarks(data.images, data.landmarks, data.visible)
    # The 178 x 178 square starts 30 px from the top.
    x, y = celeba_points(*CELEBA_SIZES[1], 1)[0]
    ax, ay = x * 178 // CELEBA_SIZES[1][0], 40 + y * 150 // CELEBA_SIZES[1][1]
    assert torch.allclose(data.landmarks[0, 0], torch.tensor([(ax + 0.5) * 2 / 178 - 1, (ay - 30 + 0.5) * 2 / 178 - 1]))


def test_celeba_failures(celeba_root):
    (celeba_root / "MAFL" / "testing.txt").unlink()
    with pytest.raises(DataError, match=r"MAFL/testing.txt: MAFL test list not found; put MAFL"):
        sources.celeba(celeba_root, size=S, progress=False)
    (celeba_root / "MAFL" / "testing.txt").write_text("000002.jpg\n")  # only a small face: dropped
    with pytest.raises(DataError, match="split 'mafl_test' is empty"):
        sources.celeba(celeba_root, size=S, progress=False)
    (celeba_root / "MAFL" / "testing.txt").write_text("000006.jpg\n")
    lm = celeba_root / "Anno" / "list_landmarks_celeba.txt"
    lm.write_text(lm.read_text().replace("000003.jpg ", "000003.jpg 12 "))
    with pytest.raises(DataError, match=r"list_landmarks_celeba.txt:5: expected a file name and 10 numbers"):
        sources.celeba(celeba_root, size=S, progress=False)
    with pytest.raises(DataError, match="folder not found"):
        sources.celeba(celeba_root / "missing", size=S, progress=False)


def test_celeba_wild_skips_an_unreadable_header(celeba_root):
    (celeba_root / "Img" / "img_celeba" / "000003.jpg").write_bytes(b"not a jpeg at all")
    with pytest.raises(DataError, match=r"000003.jpg: cannot read image"):
        sources.celeba(celeba_root, size=S, progress=False)
    data = sources.celeba(celeba_root, size=S, skip_bad=True, progress=False)
    assert "000003.jpg" not in data.files and data.meta["skipped"][0].startswith("000003.jpg (")


def test_celeba_missing_image(celeba_root):
    (celeba_root / "Img" / "img_align_celeba" / "000005.jpg").unlink()
    with pytest.raises(DataError, match=r"000005.jpg: file not found"):
        sources.celeba(celeba_root, size=S, aligned=True, progress=False)


# --------------------------------------------------------------------------------------------
# CUB


CUB_FILES = ["001.Black_footed_Albatross/Black_Footed_Albatross_0001_796111.jpg",
             "001.Black_footed_Albatross/Black_Footed_Albatross_0002_55.jpg",
             "002.Laysan_Albatross/Laysan_Albatross_0001_545.jpg",
             "002.Laysan_Albatross/Laysan_Albatross_0002_1027.jpg",
             "002.Laysan_Albatross/Laysan_Albatross_0003_1033.jpg"]


@pytest.fixture
def cub_root(tmp_path) -> Path:
    root = tmp_path / "CUB_200_2011"
    for i, rel in enumerate(CUB_FILES):
        write_image(root / "images" / rel, 96, 96, colour=(90 + 20 * i, 140, 60))
        # Values 255 (fg), 200 (fg: > 0.5), 100 (bg: < 0.5) on a 96 px grid that maps onto 48 px pixels.
        write_mask(tmp_path / "segmentations" / rel.replace(".jpg", ".png"), 96, 96,
                   [(24, 24, 72, 72, 255), (0, 0, 24, 24, 200), (72, 72, 96, 96, 100)])
    (root / "images.txt").write_text("".join(f"{i + 1} {rel}\n" for i, rel in enumerate(CUB_FILES)))
    (root / "train_val_test_split.txt").write_text("1 0\n2 0\n3 1\n4 2\n5 0\n")
    return root


def test_cub_split_and_masks(cub_root):
    data = sources.cub(cub_root, size=S, progress=False)
    assert data.split_names == ["train", "val", "test"]
    assert data.split_counts() == {"train": 3, "val": 1, "test": 1}
    assert data.files[3] == CUB_FILES[3] and data.split[3] == 2
    expected = torch.zeros(S, S, dtype=torch.bool)
    expected[12:36, 12:36] = True
    expected[0:12, 0:12] = True
    assert bool(data.has_mask.all())
    for m in data.fg_masks:
        assert torch.equal(m, expected)


def test_cub_failures(cub_root, tmp_path):
    seg = tmp_path / "segmentations" / CUB_FILES[1].replace(".jpg", ".png")
    write_mask(seg, 80, 96, [(0, 0, 10, 10, 255)])
    with pytest.raises(DataError, match=r"mask is 80x96 but image .* is 96x96; masks must have the image's size"):
        sources.cub(cub_root, size=S, progress=False)
    write_mask(seg, 96, 96, [(0, 0, 10, 10, 255)])
    (cub_root / "train_val_test_split.txt").write_text("1 0\n9 2\n")
    with pytest.raises(DataError, match=r"train_val_test_split.txt:2: image id 9 is not in images.txt"):
        sources.cub(cub_root, size=S, progress=False)
    (cub_root / "train_val_test_split.txt").unlink()
    with pytest.raises(DataError, match="ReDO split file not found; download train_val_test_split.txt"):
        sources.cub(cub_root, size=S, progress=False)


def test_cub_truncated_image_and_skip_bad(cub_root):
    truncate(cub_root / "images" / CUB_FILES[0])
    with pytest.raises(DataError, match=r"Black_Footed_Albatross_0001_796111.jpg: cannot read image .*--skip-bad"):
        sources.cub(cub_root, size=S, progress=False)
    data = sources.cub(cub_root, size=S, skip_bad=True, progress=False)
    assert len(data) == 4 and CUB_FILES[0] not in data.files
    assert len(data.meta["skipped"]) == 1 and data.meta["skipped"][0].startswith(CUB_FILES[0])
    truncate(cub_root / "images" / CUB_FILES[3])  # the only test image
    with pytest.raises(DataError, match=r"split 'test' is empty .* or fix the unreadable files"):
        sources.cub(cub_root, size=S, skip_bad=True, progress=False)


# --------------------------------------------------------------------------------------------
# Oxford Flowers


@pytest.fixture
def flowers_root(tmp_path) -> Path:
    from scipy.io import savemat

    root = tmp_path / "flowers"
    for k in range(1, 7):
        write_image(root / "jpg" / f"image_{k:05d}.jpg", 64, 80, colour=(200, 60 + 20 * k, 90))
        # Background pure blue, the flower: a violet-blue block (must stay foreground) and a red one.
        write_image(root / "segmim" / f"segmim_{k:05d}.jpg", 64, 80, colour=(0, 0, 254),
                    rect=(16, 20, 48, 40, (70, 60, 230)), markers=[(32, 50)], radius=8)
    savemat(root / "setid.mat", {"trnid": np.array([[1, 2]]), "valid": np.array([[3]]), "tstid": np.array([[4, 5, 6]])})
    return root


def test_flowers_splits_follow_the_paper(flowers_root):
    data = sources.flowers(flowers_root, size=32, progress=False)
    assert data.split_counts() == {"train": 3, "val": 1, "test": 2}, "train = tstid, test = trnid"
    assert [f for f, s in zip(data.files, data.split.tolist()) if s == 2] == ["jpg/image_00001.jpg",
                                                                              "jpg/image_00002.jpg"]
    m = data.fg_masks[0].float()
    # Foreground = the two blocks: rows 20..40 x cols 16..48 and 42..59 x 24..41 of 80 x 64.
    expected = torch.zeros(80, 64)
    expected[20:40, 16:48] = 1
    expected[42:59, 24:41] = 1
    expected = torch.nn.functional.interpolate(expected[None, None], size=(32, 32), mode="area")[0, 0] > 0.5
    assert float((m.bool() == expected).float().mean()) > 0.97


def test_flowers_missing_setid(flowers_root):
    (flowers_root / "setid.mat").write_bytes(b"not a mat file")
    with pytest.raises(DataError, match=r"setid.mat: not a readable MATLAB file"):
        sources.flowers(flowers_root, size=32, progress=False)
    (flowers_root / "setid.mat").unlink()
    with pytest.raises(DataError, match=r"setid.mat: split file not found; download setid.mat"):
        sources.flowers(flowers_root, size=32, progress=False)


# --------------------------------------------------------------------------------------------
# Taichi


@pytest.fixture
def taichi_root(tmp_path) -> Path:
    pd = pytest.importorskip("pandas")
    root = tmp_path / "taichi"
    for video, frames in (("vid_a", 3), ("vid_b", 2)):
        for f in range(frames):
            write_image(root / "train" / video / f"{f:07d}.png", 64, 64, colour=(100, 100 + 30 * f, 80))
    rng = np.random.default_rng(0)
    for split, names in (("train", ["a#1.png", "a#2.png", "b#1.png"]), ("test", ["c#1.png", "c#9.png"])):
        values = []
        for k, name in enumerate(names):
            pts = rng.integers(20, 236, size=(18, 2)).astype(np.float64)
            pts[3] = -1  # right elbow missing
            if k == 0:
                pts[16] = -1
            write_image(root / "eval_images" / "taichi-256" / split / name, 256, 256,
                        markers=[tuple(p) for p in pts.astype(int) if p[0] >= 0], radius=3)
            if split == "test":
                write_mask(root / "taichi-test-masks" / name, 256, 256, [(64, 64, 192, 192, 255)])
            values.append(pts)
        (root / "landmark").mkdir(exist_ok=True)
        pd.DataFrame({"file_name": names, "value": values}).to_pickle(root / "landmark" / f"taichi_{split}_gt.pkl")
    return root


def test_taichi_splits_keypoints_masks(taichi_root):
    data = sources.taichi(taichi_root, size=64, progress=False)
    assert data.split_counts() == {"train": 5, "fit": 3, "test": 2}
    assert data.meta["landmark_protocol"] == "keypoints" and len(data.meta["landmark_names"]) == 18
    assert data.meta["eval_splits"] == {"fit": "fit", "test": "test"}
    labelled = data.split > 0
    assert not bool(data.visible[~labelled].any()), "GAN frames carry no keypoints"
    vis = data.visible[labelled]
    assert not bool(vis[:, 3].any()) and not bool(vis[0, 16]) and bool(vis[1, 16])
    assert_markers_at_landmarks(data.images[labelled], data.landmarks[labelled], vis)
    assert data.has_mask.tolist() == [False] * 8 + [True] * 2
    expected = torch.zeros(64, 64, dtype=torch.bool)
    expected[16:48, 16:48] = True
    assert torch.equal(data.fg_masks[-1], expected)
    assert sources.taichi(taichi_root, size=32, frame_step=2, progress=False).split_counts()["train"] == 3


def test_taichi_failures(taichi_root):
    (taichi_root / "taichi-test-masks" / "c#9.png").unlink()
    with pytest.raises(DataError, match=r"c#9.png: test mask not found"):
        sources.taichi(taichi_root, size=32, progress=False)
    (taichi_root / "landmark" / "taichi_test_gt.pkl").write_bytes(b"\x80\x04garbage")
    with pytest.raises(DataError, match=r"taichi_test_gt.pkl: not a keypoint table"):
        sources.taichi(taichi_root, size=32, progress=False)
