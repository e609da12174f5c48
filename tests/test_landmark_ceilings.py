"""The landmark-ceilings benchmark: oracle features from the true landmarks, scored as the MAFL error is."""
import json

import numpy as np
import pytest
from PIL import Image

from benchmarks import bench_landmark_ceilings as ceilings
from data_prep.fileformat import MAFL_NAMES, save
from data_prep.folder import folder
from _faces import BASE, faces, similar


def test_faces_that_differ_by_a_similarity_are_exact_for_the_similarity_oracle_and_not_for_less(tmp_path):
    report = ceilings.measure(faces(tmp_path, 80, similar), noise_px=[0.5])
    c = report["ceilings"]
    # exact up to the CSV's 4 decimals and float32 storage
    assert c["similarity"]["error_pct"] < 0.01 and c["affine"]["error_pct"] < 0.01
    # translation alone leaves the rotation and scale unexplained; each richer oracle does better
    assert c["mean_shape"]["error_pct"] > c["translation"]["error_pct"] > c["translation_scale"]["error_pct"] > 1.0
    assert c["translation"]["x_mean_shape"] == pytest.approx(c["translation"]["error_pct"] / c["mean_shape"]["error_pct"])
    assert c["similarity"]["n_features"] == 4 and c["part_centres"]["n_features"] == 6
    assert report["x_mean_shape_with_noise"]["similarity"]["0.5"] > 0.0  # noisy features: no longer exact
    assert report["n_train"] == 60 and report["n_test"] == 20 and report["image_size"] == 32
    assert report["mean_interocular_px"] == pytest.approx(12.0 * 32 / 40, rel=0.25)


def test_a_stretched_face_needs_the_affine_oracle(tmp_path):
    def stretched(rng):  # width and height scaled independently: a similarity's one scale cannot hold both
        return (BASE - BASE.mean(0)) * rng.uniform(0.7, 1.3, size=2) + BASE.mean(0)
    c = ceilings.measure(faces(tmp_path, 60, stretched), noise_px=[1.0])["ceilings"]
    assert c["affine"]["error_pct"] < 0.01 and c["similarity"]["error_pct"] > 1.0


def test_landmarks_are_grouped_by_their_name_without_the_side():
    assert ceilings.landmark_groups(MAFL_NAMES) == [[0, 1], [2], [3, 4]]
    assert ceilings.landmark_groups(["point1", "point2"]) == [[0], [1]]


def test_main_writes_the_report_and_data_without_landmarks_is_one_line(tmp_path, capsys):
    path = faces(tmp_path, 40, similar)
    out = tmp_path / "ceilings.json"
    report = ceilings.main(["--data", str(path), "--out", str(out), "--noise-px", "0.5"])
    assert json.loads(out.read_text())["ceilings"] == report["ceilings"]
    assert "similarity" in capsys.readouterr().out
    bare = tmp_path / "bare"
    bare.mkdir()
    for name in ("a.png", "b.png"):
        Image.fromarray(np.zeros((40, 40, 3), np.uint8)).save(bare / name)
    save(folder(bare, size=32, test_fraction=0.5, progress=False), tmp_path / "bare.ganseg-data")
    with pytest.raises(SystemExit, match="has no landmarks"):
        ceilings.main(["--data", str(tmp_path / "bare.ganseg-data"), "--out", str(tmp_path / "x.json")])
    assert not (tmp_path / "x.json").exists()
