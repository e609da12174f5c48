"""The paper's face protocol (MAFL: no bias, % of the eye distance) for any folder, and part usage."""
import json

import numpy as np
import pytest
import torch
from PIL import Image

from data_prep import load
from data_prep.fileformat import save
from data_prep.folder import folder
from data_prep.prepare import main as prepare_main
from ganseg_lib.evaluation import metrics
from ganseg_lib.config import ALIVE_MASS
from ganseg_lib.evaluation.evaluate import LabelledImages, evaluate_masks

N_IMAGES = 12


@pytest.fixture
def faces(tmp_path):
    """12 images of 40 px with 3 landmarks each (eyes are points 2 and 3), a split CSV."""
    root = tmp_path / "faces"
    root.mkdir()
    rng = np.random.default_rng(0)
    rows, splits = ["file,x1,y1,x2,y2,x3,y3"], ["file,split"]
    for i in range(N_IMAGES):
        name = f"f{i:02d}.png"
        Image.fromarray(rng.integers(0, 255, (40, 40, 3), dtype=np.uint8)).save(root / name)
        dx = rng.integers(-4, 5)
        rows.append(f"{name},{20 + dx},{30},{12 + dx},{14},{28 + dx},{14}")  # mouth, left eye, right eye
        splits.append(f"{name},{'test' if i >= 8 else 'train'}")
    (tmp_path / "points.csv").write_text("\n".join(rows) + "\n")
    (tmp_path / "splits.csv").write_text("\n".join(splits) + "\n")
    return root


def test_prepare_records_the_mafl_protocol_and_the_eyes(faces, tmp_path, capsys):
    out = tmp_path / "faces.ganseg-data"
    rc = prepare_main(["folder", str(faces), "--landmarks", str(tmp_path / "points.csv"), "--splits",
                       str(tmp_path / "splits.csv"), "--landmark-protocol", "mafl", "--eyes", "2,3", "--size", "32",
                       "--out", str(out), "--quiet"])
    assert rc == 0
    ds = load(out, "test")
    assert ds.meta["landmark_protocol"] == "mafl" and ds.meta["landmark_eyes"] == [1, 2]
    assert ds.meta["landmark_names"] == ["point1", "point2", "point3"]  # not MAFL's names: another order
    test = LabelledImages.from_dataset(ds)
    assert test.protocol == "mafl" and test.eyes == (1, 2)


def test_default_stays_keypoints_and_mafl_defaults_to_the_first_two_points(faces, tmp_path):
    plain = folder(faces, size=32, landmarks=tmp_path / "points.csv", progress=False)
    assert plain.meta["landmark_protocol"] == "keypoints" and "landmark_eyes" not in plain.meta
    mafl = folder(faces, size=32, landmarks=tmp_path / "points.csv", landmark_protocol="mafl", progress=False)
    assert mafl.meta["landmark_eyes"] == [0, 1]


@pytest.mark.parametrize("args, message", [
    (["--eyes", "2,3"], "add --landmark-protocol mafl"),
    (["--landmark-protocol", "mafl", "--eyes", "2,9"], "give --eyes I,J within 1..3"),
    (["--landmark-protocol", "mafl", "--eyes", "2"], "expected two different point numbers"),
    (["--landmark-protocol", "mafl", "--eyes", "2,2"], "expected two different point numbers"),
    (["--landmark-protocol", "mafl", "--eyes", "a,b"], "expected two different point numbers"),
])
def test_bad_eyes_are_one_line_and_write_nothing(faces, tmp_path, capsys, args, message):
    out = tmp_path / "bad.ganseg-data"
    rc = prepare_main(["folder", str(faces), "--landmarks", str(tmp_path / "points.csv"), "--size", "32",
                       "--out", str(out), "--quiet", *args])
    err = capsys.readouterr().err.strip()
    assert rc != 0 and message in err and len(err.splitlines()) == 1
    assert not out.exists() and not list(tmp_path.glob("*.tmp"))


def test_interocular_error_is_normalised_by_the_named_eyes():
    gt = np.array([[[0.0, 0.5], [-0.5, -0.2], [0.5, -0.2]]])  # mouth, left eye, right eye: eye distance 1.0
    pred = gt + np.array([0.3, 0.4])  # every point 0.5 off
    assert metrics.interocular_error(pred, gt, eyes=(1, 2))[0] == pytest.approx(0.5)
    # normalised by points 0 and 1 (distance sqrt(0.25 + 0.49)) the same error reads larger
    assert metrics.interocular_error(pred, gt)[0] == pytest.approx(0.5 / np.hypot(0.5, 0.7))


def test_evaluation_reports_the_mafl_figures_with_the_named_eyes(faces, tmp_path):
    path = tmp_path / "faces.ganseg-data"
    save(folder(faces, size=32, landmarks=tmp_path / "points.csv", splits=tmp_path / "splits.csv",
                landmark_protocol="mafl", eyes=(1, 2), progress=False), path)
    train, test = (LabelledImages.from_dataset(load(path, s)) for s in ("train", "test"))
    # masks whose single part sits on the mouth point of each image: centres carry the landmarks exactly
    def masks_on(landmarks):
        m = torch.zeros(len(landmarks), 2, 32, 32)
        m[:, 1] = 1.0
        for i, (x, y) in enumerate(((landmarks[:, 0] + 1) * 16 - 0.5).round().long().tolist()):
            m[i, 0, y, x], m[i, 1, y, x] = 1.0, 0.0
        return m
    result = evaluate_masks(masks_on(train.landmarks), train, masks_on(test.landmarks), test)
    lm = result["landmarks"]
    assert lm["eyes"] == [1, 2]
    expected_mean = metrics.mean_shape_error(train.landmarks, test.landmarks, eyes=(1, 2))
    assert lm["references_pct"]["mean_shape"] == pytest.approx(expected_mean)
    assert lm["x_mean_shape"] == pytest.approx(lm["error_pct"] / expected_mean)
    assert lm["error_pct"] < expected_mean  # the part follows the face, the mean shape cannot
    assert result["parts"]["n_parts"] == 1 and result["parts"]["alive"] == 0  # one pixel: far below ALIVE_MASS
    json.dumps(result)  # metrics.json must serialise


def test_part_usage_counts_dead_and_border_parts():
    masks = torch.zeros(2, 4, 16, 16)
    masks[:, 0, 4:12, 4:12] = 1.0  # alive, central: 64 / 256 of the image
    masks[:, 1, 0:2, :] = 1.0  # on the top border ring (2 px = 0.125 * 16)
    masks[:, 2, 8, 8] = 1.0  # 1 / 256 of the image: below ALIVE_MASS
    masks[:, 3] = 1.0 - masks[:, :3].sum(1)  # background
    usage = metrics.part_usage(masks, ALIVE_MASS)
    assert usage["mass"] == pytest.approx([0.25, 0.125, 1 / 256])
    assert usage["border_share"] == pytest.approx([0.0, 1.0, 0.0])
    assert usage["alive"] == 1 and usage["n_parts"] == 3
