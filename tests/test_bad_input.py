"""Bad input on the paths a user meets with their own photos: each case ends in one clear line and
a non-zero exit status (or works and says what it left out), and nothing half-written stays behind.

    a folder with corrupt JPEGs and grayscale files      -> exit 2 naming the file, or --skip-bad lists them
    a landmarks CSV with a missing value                 -> keypoints: an invisible point, and the summary
                                                            says so; mafl: one line naming the image (faces
                                                            without a row are unlabelled, left out of the score)
    a checkpoint save killed halfway                     -> the previous checkpoint is intact, resume works
                                                            and removes the partial file
    evaluate on data of another image size               -> one line naming both sizes
    Ctrl-C during distillation                           -> one line, exit 130, segmenter.pt as it was
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import data_prep
from _tiny import cli_train_and_distill
from data_prep.prepare import main as prepare_main
from ganseg_lib.app.cli import main

ROOT = Path(__file__).resolve().parent.parent


def _one_error_line(err: str, prefix: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(prefix), err
    return lines[0]


def _leftovers(folder: Path) -> list[str]:
    """Temporary files of interrupted atomic writes (see checkpoint.atomic_write)."""
    return sorted(p.name for p in folder.rglob(".*.tmp"))


# --------------------------------------------------------------------------------------------
# preparing a folder of real photos

@pytest.fixture
def photos(tmp_path) -> Path:
    """Eight RGB JPEGs, two grayscale files (8-bit JPEG, 16-bit PNG), a grayscale PNG with alpha,
    and two corrupt JPEGs (cut short; not an image at all)."""
    root = tmp_path / "photos"
    root.mkdir()
    rng = np.random.default_rng(0)
    for i in range(8):
        Image.fromarray(rng.integers(0, 256, (40, 30, 3), dtype=np.uint8)).save(root / f"rgb{i}.jpg", quality=90)
    gray = rng.integers(0, 256, (36, 36), dtype=np.uint8)
    Image.fromarray(gray).save(root / "gray8.jpg", quality=90)
    Image.fromarray(gray.astype(np.uint16) * 257).save(root / "gray16.png")
    Image.fromarray(np.stack([gray, np.full_like(gray, 255)], axis=-1), mode="LA").save(root / "gray_alpha.png")
    (root / "cut.jpg").write_bytes((root / "rgb0.jpg").read_bytes()[:300])
    (root / "notajpeg.jpg").write_text("this file is text with a .jpg name\n")
    return root


def test_corrupt_photos_stop_the_preparation_in_one_line(photos, tmp_path, capsys):
    out = tmp_path / "mine.ganseg-data"
    assert prepare_main(["folder", str(photos), "--size", "16", "--out", str(out), "--quiet"]) == 2
    line = _one_error_line(capsys.readouterr().err, "error: ")
    assert "cut.jpg" in line and "--skip-bad" in line
    assert not out.exists() and _leftovers(tmp_path) == []


def test_skip_bad_lists_corrupt_photos_and_keeps_grayscale_ones(photos, tmp_path, capsys):
    out = tmp_path / "mine.ganseg-data"
    assert prepare_main(["folder", str(photos), "--size", "16", "--out", str(out), "--skip-bad", "--quiet"]) == 0
    captured = capsys.readouterr()
    skipped = [line for line in captured.err.splitlines() if line.startswith("skipped: ")]
    assert sorted(line.split()[1] for line in skipped) == ["cut.jpg", "notajpeg.jpg"]
    assert "2 skipped" in captured.out
    data = data_prep.load(out, split=None)
    assert len(data) == 11 and data.images.shape[1:] == (3, 16, 16)
    for name in ("gray8.jpg", "gray16.png", "gray_alpha.png"):  # grayscale becomes three equal channels
        image = data.images[data.files.index(name)].int()
        assert (image[0] == image[1]).all() and (image[1] == image[2]).all() and image.float().std() > 10, name


# --------------------------------------------------------------------------------------------
# a landmarks CSV with a missing value

def _faces_folder(tmp_path: Path, missing: str = "") -> tuple[Path, Path]:
    """24 images with 3 points each; missing="value": one face lacks one value; "rows": four
    faces (two of them in the seeded test split) have no row at all (unlabelled images)."""
    root = tmp_path / "faces"
    root.mkdir()
    rng = np.random.default_rng(1)
    rows = ["file,x1,y1,x2,y2,x3,y3"]
    for i in range(24):
        Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(root / f"f{i:02d}.png")
        pts = [10 + i % 3, 12, 22, 12 + i % 2, 16, 24]
        if missing == "value" and i == 5:
            pts[3] = ""  # the second eye's y of one face was never filled in
        if missing == "rows" and i in (0, 1, 20, 21):
            continue
        rows.append(f"f{i:02d}.png," + ",".join(str(v) for v in pts))
    csv = tmp_path / "points.csv"
    csv.write_text("\n".join(rows) + "\n")
    return root, csv


def _prepare(root, csv, out, *extra) -> int:
    return prepare_main(["folder", str(root), "--landmarks", str(csv), "--size", "32", "--out", str(out),
                         "--quiet", *extra])


def test_a_missing_landmark_value_is_an_invisible_point_for_keypoints(tmp_path, capsys):
    root, csv = _faces_folder(tmp_path, missing="value")
    out = tmp_path / "faces32.ganseg-data"
    assert _prepare(root, csv, out) == 0
    assert "points missing on 1 image (invisible)" in capsys.readouterr().out
    assert not bool(data_prep.load(out, split=None).visible.all())


def test_a_missing_landmark_value_stops_a_mafl_preparation_in_one_line(tmp_path, capsys):
    root, csv = _faces_folder(tmp_path, missing="value")
    out = tmp_path / "faces32.ganseg-data"
    assert _prepare(root, csv, out, "--landmark-protocol", "mafl", "--eyes", "1,2") == 2
    line = _one_error_line(capsys.readouterr().err, "error: ")
    assert str(csv) in line and "f05.png has 2 of its 3 points" in line and "fill in" in line
    assert not out.exists() and _leftovers(tmp_path) == []


def test_mafl_scores_only_the_labelled_faces_and_says_so(tmp_path, capsys):
    root, csv = _faces_folder(tmp_path, missing="rows")
    out = tmp_path / "faces32.ganseg-data"
    assert _prepare(root, csv, out, "--landmark-protocol", "mafl", "--eyes", "1,2", "--test-fraction", "0.25") == 0
    test = data_prep.load(out, "test")
    unlabelled_test = int((~test.visible.all(dim=1)).sum())
    cli_train_and_distill(out, tmp_path / "run")
    capsys.readouterr()
    assert main(["evaluate", "--run", str(tmp_path / "run"), "--data", str(out)]) == 0
    err = capsys.readouterr().err
    m = json.loads((tmp_path / "run" / "metrics.json").read_text())
    lm = m["landmarks"]
    assert lm["n_images"]["test"] == len(test) - unlabelled_test and lm["n_images"]["train"] == m["n_train"] - (
        4 - unlabelled_test)
    assert np.isfinite(lm["error_pct"]) and lm["x_mean_shape"] > 0
    if unlabelled_test:
        assert f"{unlabelled_test} of {len(test)} test images in the landmark error" in err


# --------------------------------------------------------------------------------------------
# a checkpoint save killed halfway

KILLED_SAVE = """
import os, signal, sys, torch
saves = []
real_save = torch.save
def dying_save(obj, f, *args, **kwargs):
    saves.append(f)
    if len(saves) == 2:  # the second checkpoint: write half of it, then die as under `kill -9`
        real_save(obj, f, *args, **kwargs)
        data = open(f, "rb").read()
        open(f, "wb").write(data[: len(data) // 2])
        os.kill(os.getpid(), signal.SIGKILL)
    return real_save(obj, f, *args, **kwargs)
torch.save = dying_save
from ganseg_lib.app.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.fixture(scope="module")
def faces(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "faces32.ganseg-data"
    data_prep.prepare_synthetic("faces", 24, 32, seed=3, out=path)
    return path


def test_a_kill_during_a_checkpoint_save_leaves_the_previous_one_and_resume_works(tmp_path, faces, capsys):
    run = tmp_path / "run"
    train = ["train", "--data", str(faces), "--preset", "cpu-tiny", "--out", str(run), "--batch", "4",
             "--grid", "0", "--quiet", "--set", "train.checkpoint_every=2"]
    done = subprocess.run([sys.executable, "-c", KILLED_SAVE, *train, "--steps", "6"], cwd=ROOT,
                          env=dict(os.environ, OMP_NUM_THREADS="1"), capture_output=True, text=True, timeout=300)
    assert done.returncode == -9, done.stderr
    from ganseg_lib.checkpoint import load_checkpoint
    assert load_checkpoint(run / "checkpoint.pt", "gan")["step"] == 2  # the save at step 4 never landed
    assert len(_leftovers(run)) == 1  # the half-written temporary file the kill left
    assert main(["train", "--data", str(faces), "--out", str(run), "--steps", "6", "--resume", "--quiet"]) == 0
    assert "removed" in capsys.readouterr().err  # the partial file is cleaned up, and said so
    assert load_checkpoint(run / "checkpoint.pt", "gan")["step"] == 6 and _leftovers(run) == []


# --------------------------------------------------------------------------------------------
# evaluate on data of another size; Ctrl-C during distillation

@pytest.fixture(scope="module")
def trained_run(tmp_path_factory, faces):
    run = tmp_path_factory.mktemp("run") / "r"
    cli_train_and_distill(faces, run)
    return run


def test_evaluate_on_data_of_another_size_is_one_line(tmp_path, trained_run, capsys):
    small = tmp_path / "faces16.ganseg-data"
    data_prep.prepare_synthetic("faces", 12, 16, seed=0, out=small)
    capsys.readouterr()
    assert main(["evaluate", "--run", str(trained_run), "--data", str(small)]) == 2
    line = _one_error_line(capsys.readouterr().err, "ganseg: error: ")
    assert str(small) in line and "16 px" in line and "32 px" in line and "--size 32" in line
    assert not (trained_run / "metrics.json").exists()


def test_ctrl_c_during_distillation_keeps_the_segmenter_as_it_was(trained_run, capsys, monkeypatch):
    from ganseg_lib.training import segmenter

    before = (trained_run / "segmenter.pt").read_bytes()
    calls = []
    real_loss = segmenter.distillation_loss

    def interrupted(*args):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt  # what Ctrl-C raises in the middle of the loop
        return real_loss(*args)

    monkeypatch.setattr(segmenter, "distillation_loss", interrupted)
    capsys.readouterr()
    assert main(["distill", "--run", str(trained_run), "--steps", "5", "--set", "segmenter.batch=2",
                 "segmenter.bn_recalibration=1", "--quiet"]) == 130
    line = _one_error_line(capsys.readouterr().err, "ganseg: interrupted")
    assert "segmenter.pt" in line and "as it was" in line
    assert (trained_run / "segmenter.pt").read_bytes() == before and _leftovers(trained_run) == []
