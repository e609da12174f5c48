"""Any image folder (landmarks CSV, masks, split CSV) and the command line, with its bad inputs."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from data_prep import DataError, load
from data_prep.folder import folder
from data_prep.prepare import main

RED = (230, 20, 20)
SIZES = {"a.jpg": (80, 60), "b.png": (50, 100), "sub/c.jpg": (64, 64), "sub/d.png": (120, 90), "e.jpg": (70, 70)}


def points_for(w: int, h: int) -> list[tuple[int, int]]:
    return [(w // 4, h // 3), (3 * w // 4, h // 2)]


@pytest.fixture
def photos(tmp_path) -> Path:
    """Mixed sizes and formats, a subfolder, a red marker on each landmark, a mask per image."""
    root = tmp_path / "photos"
    for rel, (w, h) in SIZES.items():
        arr = np.full((h, w, 3), (60, 150, 90), dtype=np.uint8)
        r = max(w, h) // 12
        for x, y in points_for(w, h):
            arr[y - r:y + r + 1, x - r:x + r + 1] = RED
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(arr).save(root / rel, quality=95)
        mask = np.zeros((h, w), dtype=np.uint8)
        mask[: h // 2] = 255
        (tmp_path / "masks" / rel).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(mask).save((tmp_path / "masks" / rel).with_suffix(".png"))
    (root / ".hidden.jpg").write_bytes(b"ignored")
    (root / "notes.txt").write_text("not an image")
    rows = ["file,x1,y1,x2,y2"]
    for rel, (w, h) in SIZES.items():
        (x1, y1), (x2, y2) = points_for(w, h)
        rows.append(f"{rel},{x1},{y1},{'' if rel == 'e.jpg' else x2},{y2}")
    (tmp_path / "points.csv").write_text("\n".join(rows) + "\n")
    (tmp_path / "splits.csv").write_text("file,split\n" + "".join(
        f"{rel},{'test' if rel in ('b.png', 'sub/d.png') else 'train'}\n" for rel in SIZES))
    return root


def test_folder_with_everything(photos, tmp_path):
    data = folder(photos, size=32, landmarks=tmp_path / "points.csv", masks=tmp_path / "masks",
                  splits=tmp_path / "splits.csv", progress=False)
    assert data.files == sorted(SIZES)
    assert data.split_counts() == {"train": 3, "test": 2}
    assert data.meta["landmark_protocol"] == "keypoints" and data.meta["landmark_names"] == ["point1", "point2"]
    # Mixed sizes: each image resized to 32 x 32, its landmarks scaled with it.
    for i, rel in enumerate(data.files):
        w, h = SIZES[rel]
        x, y = points_for(w, h)[0]
        assert torch.allclose(data.landmarks[i, 0], torch.tensor([(x + 0.5) * 2 / w - 1, (y + 0.5) * 2 / h - 1]))
        col = int((data.landmarks[i, 0, 0] + 1) * 16)
        row = int((data.landmarks[i, 0, 1] + 1) * 16)
        assert data.images[i, 0, row, col] > 150 and data.images[i, 1, row, col] < 110
    e = data.files.index("e.jpg")
    assert data.visible[e].tolist() == [True, False], "an empty value makes the point invisible"
    expected = torch.zeros(32, 32, dtype=torch.bool)
    expected[:16] = True
    assert all(torch.equal(m, expected) for m in data.fg_masks)


def test_folder_alone_gets_a_seeded_split(photos):
    a = folder(photos, size=16, seed=1, progress=False)
    b = folder(photos, size=16, seed=1, progress=False)
    assert a.split_counts() == {"train": 4, "test": 1}
    assert torch.equal(a.split, b.split)
    assert a.landmarks is None and a.fg_masks is None


def test_folder_without_landmark_rows(photos, tmp_path):
    (tmp_path / "few.csv").write_text("file,x1,y1\na.jpg,3,4\n")
    data = folder(photos, size=16, landmarks=tmp_path / "few.csv", progress=False)
    assert int(data.visible.sum()) == 1, "images without a row have invisible points"


@pytest.mark.parametrize("text, message", [
    ("name,x1,y1\na.jpg,1,2\n", r"points.csv: header must be file,x1,y1,x2,y2,... \(got name,x1,y1\)"),
    ("file,x1,y1,x2\na.jpg,1,2,3\n", r"header must be file,x1,y1,x2,y2"),
    ("file,x1,y1\nzz.jpg,1,2\n", r"points.csv:2: zz.jpg is not an image in the folder"),
    ("file,x1,y1\na.jpg,1\n", r"points.csv:2: 2 fields, the header has 3"),
    ("file,x1,y1\na.jpg,1,two\n", r"points.csv:2: a coordinate is not a number"),
    ("file,x1,y1\na.jpg,1,2\na.jpg,1,2\n", r"points.csv:3: a.jpg appears twice"),
])
def test_bad_landmarks_csv(photos, tmp_path, text, message):
    (tmp_path / "points.csv").write_text(text)
    with pytest.raises(DataError, match=message):
        folder(photos, size=16, landmarks=tmp_path / "points.csv", progress=False)


@pytest.mark.parametrize("text, message", [
    ("file,part\n", r"splits.csv: header must be file,split"),
    ("file,split\na.jpg,train\n", r"splits.csv: no split for b.png; add a row for every image"),
    ("file,split\nq.jpg,train\n", r"splits.csv:2: q.jpg is not an image in the folder"),
    ("file,split\na.jpg,holdout\n", r"splits.csv:2: split 'holdout' is not one of train, val, test"),
])
def test_bad_split_csv(photos, tmp_path, text, message):
    (tmp_path / "splits.csv").write_text(text)
    with pytest.raises(DataError, match=message):
        folder(photos, size=16, splits=tmp_path / "splits.csv", progress=False)


def test_empty_split(photos, tmp_path):
    (tmp_path / "splits.csv").write_text("file,split\n" + "".join(f"{rel},train\n" for rel in SIZES))
    with pytest.raises(DataError, match=r"split 'test' is empty \(from splits.csv\)"):
        folder(photos, size=16, splits=tmp_path / "splits.csv", progress=False)


def test_mask_problems(photos, tmp_path):
    Image.fromarray(np.zeros((10, 10), dtype=np.uint8)).save(tmp_path / "masks" / "a.png")
    with pytest.raises(DataError, match=r"masks/a.png: mask is 10x10 but image .*a.jpg is 80x60"):
        folder(photos, size=16, masks=tmp_path / "masks", progress=False)
    (tmp_path / "masks" / "a.png").unlink()
    with pytest.raises(DataError, match=r"a.png: no mask for image a.jpg"):
        folder(photos, size=16, masks=tmp_path / "masks", progress=False)


def test_rgba_masks_use_colour_where_opaque(photos, tmp_path):
    w, h = SIZES["a.jpg"]
    rgba = np.zeros((h, w, 4), dtype=np.uint8)
    rgba[..., 3] = 255  # opaque black everywhere: background
    rgba[: h // 2, :, 1] = 200  # green top half: foreground
    Image.fromarray(rgba, mode="RGBA").save(tmp_path / "masks" / "a.png")
    data = folder(photos, size=16, masks=tmp_path / "masks", progress=False)
    m = data.fg_masks[data.files.index("a.jpg")]
    assert bool(m[:8].all()) and not bool(m[8:].any())


def test_missing_and_empty_folders(tmp_path):
    with pytest.raises(DataError, match=r"nowhere: folder not found"):
        folder(tmp_path / "nowhere", size=16, progress=False)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match=r"empty: no image files"):
        folder(tmp_path / "empty", size=16, progress=False)


def test_corrupt_image_and_skip_bad(photos):
    (photos / "sub" / "c.jpg").write_bytes((photos / "sub" / "c.jpg").read_bytes()[:200])
    with pytest.raises(DataError, match=r"c.jpg: cannot read image .* --skip-bad"):
        folder(photos, size=16, progress=False)
    data = folder(photos, size=16, skip_bad=True, progress=False)
    assert "sub/c.jpg" not in data.files and data.meta["skipped"][0].startswith("sub/c.jpg")


# --------------------------------------------------------------------------------------------
# command line


def test_cli_writes_a_file_and_summarises(photos, tmp_path, capsys):
    out = tmp_path / "out" / "mine.pt"
    code = main(["folder", str(photos), "--size", "24", "--landmarks", str(tmp_path / "points.csv"),
                 "--masks", str(tmp_path / "masks"), "--splits", str(tmp_path / "splits.csv"), "--out", str(out),
                 "--quiet"])
    assert code == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith(f"wrote {out}: 5 images at 24 px (3 train, 2 test)") and "\n" not in line
    assert len(load(out, "test")) == 2


def test_cli_synthetic(tmp_path, capsys):
    out = tmp_path / "faces.pt"
    assert main(["synthetic:faces-aligned", "--n", "20", "--size", "32", "--seed", "4", "--out", str(out),
                 "--quiet"]) == 0
    assert "(18 train, 2 test)" in capsys.readouterr().out
    assert load(out).meta["source"] == "synthetic:faces-aligned"


@pytest.mark.parametrize("args, message", [
    (["synthetic:dogs"], "unknown synthetic domain 'dogs'"),
    (["cub"], "cub needs the dataset folder"),
    (["cub", "NOWHERE"], "NOWHERE: folder not found"),
    (["synthetic:faces", "--masks", "m"], "--masks only applies to the folder source"),
    (["synthetic:faces", "somewhere"], "is generated, it takes no folder"),
    (["imagenet", "x"], "unknown source 'imagenet'"),
    (["folder", "PHOTOS", "--splits", "BAD"], "BAD: split CSV not found"),
])
def test_cli_bad_input_exits_2_without_output(tmp_path, capsys, photos, args, message):
    def fill(text: str) -> str:
        return (text.replace("NOWHERE", str(tmp_path / "nowhere")).replace("PHOTOS", str(photos))
                .replace("BAD", str(tmp_path / "bad.csv")))

    args, message = [fill(a) for a in args], fill(message)
    out = tmp_path / "x.pt"
    assert main(args + ["--out", str(out), "--quiet", "--n", "4"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and message in err and "\n" not in err
    assert not out.exists() and list(tmp_path.glob("*.tmp")) == [] and list(tmp_path.glob(".x.pt*")) == []


def test_cli_lists_skipped_files(photos, tmp_path, capsys):
    (photos / "b.png").write_bytes(b"\x89PNG broken")
    out = tmp_path / "s.pt"
    assert main(["folder", str(photos), "--size", "16", "--skip-bad", "--out", str(out), "--quiet"]) == 0
    captured = capsys.readouterr()
    assert "skipped: b.png (" in captured.err and "1 skipped" in captured.out


def test_cli_as_a_module(tmp_path):
    """The real entry point: exit status 2, one error line, no file."""
    out = tmp_path / "never.pt"
    done = subprocess.run([sys.executable, "-m", "data_prep.prepare", "flowers", str(tmp_path / "missing"),
                           "--out", str(out)], capture_output=True, text=True, cwd=Path(__file__).parents[1])
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [f"error: {tmp_path / 'missing'}: folder not found; give the folder "
                                                f"that holds the Oxford Flowers 102 download"]
    assert not out.exists()
