"""The part-tracking diagnostic: do a run's parts follow the face in generated and in real images."""
import json

import numpy as np
import pytest

from benchmarks import bench_part_tracking as tracking
from _faces import faces, similar
from _tiny import cli_train_and_distill


def test_correlation_and_explained_variance_by_hand():
    a = np.array([0.0, 1.0, 2.0, 3.0])
    assert tracking.correlation(a, 2 * a + 1) == pytest.approx(1.0)
    assert tracking.correlation(a, -a) == pytest.approx(-1.0)
    assert tracking.correlation(a, np.ones(4)) == 0.0  # a constant does not vary: no correlation
    x = np.array([[0.0], [1.0], [2.0], [3.0]])
    assert tracking.explained(x, 3 * x - 1, x + 0.5, 3 * (x + 0.5) - 1) == pytest.approx(1.0)
    # y = x predicts 0 for both test rows; their targets 0 and 3: residual 0 + 9 against 2.25 + 2.25 about
    # their mean 1.5, so R^2 = 1 - 9 / 4.5 = -1 (worse than the test targets' own mean)
    assert tracking.explained(x, x, np.zeros((2, 1)), np.array([[0.0], [3.0]])) == pytest.approx(-1.0)


def _tracked(rng, n: int, noise: float) -> tuple[dict, dict]:
    """Landmarks that move by up to 1 px and four part centres that follow their centre with `noise` px."""
    base = np.array([[-2.0, -1.0], [3.0, -1.0], [0.5, 2.0], [-2.0, 4.5], [3.0, 4.5]])
    shift = rng.normal(0.0, 0.5, size=(n, 1, 2))
    marks = base + shift
    offsets = np.array([[-3.0, -3.0], [3.0, -3.0], [0.0, 3.0], [0.0, 6.0]])
    parts = offsets + shift + rng.normal(0.0, noise, size=(n, 4, 2))
    return parts, marks


def test_parts_that_follow_the_face_explain_it_and_noisy_parts_do_not():
    rng = np.random.default_rng(0)
    for noise, lowest_r2 in ((0.01, 0.99), (5.0, None)):
        fit, test = _tracked(rng, 400, noise), _tracked(rng, 200, noise)
        stats = tracking.tracking_statistics({"fit": fit[0], "test": test[0]}, {"fit": fit[1], "test": test[1]})
        assert np.allclose(stats["face_centre_std_px"], 0.5, atol=0.06)
        if lowest_r2 is not None:  # parts on the face: every centre correlates with the face centre
            assert stats["r2_face_centre"] > lowest_r2 and stats["r2_landmarks"] > lowest_r2
            assert np.min(stats["correlation_with_face_centre_xy"]) > 0.99
        else:  # 5 px of noise against 0.5 px of motion: the centres explain almost nothing
            assert stats["r2_face_centre"] < 0.15
            assert np.allclose(stats["part_std_px"], 5.0, rtol=0.15)


def test_main_reports_both_halves_of_a_trained_run(tmp_path, capsys):
    data = faces(tmp_path, 24, similar)
    run = tmp_path / "run"
    cli_train_and_distill(data, run)
    out = tmp_path / "tracking.json"
    report = tracking.main(["--runs", str(run), "--data", str(data), "--samples", "6", "--out", str(out)])
    assert json.loads(out.read_text()) == report and report["samples"] == 6
    gen, real = report["runs"]["run"]["generated"], report["runs"]["run"]["real"]
    assert np.asarray(gen["generator_std_px"]).shape == (4, 2) and np.asarray(gen["correlation_xy"]).shape == (4, 2)
    assert len(gen["segmenter_error_px"]) == 4 and min(gen["segmenter_error_px"]) >= 0.0
    assert real["test_images"] == 6 and np.asarray(real["landmark_std_px"]).shape == (5, 2)
    assert np.isfinite(real["r2_face_centre"]) and np.isfinite(real["r2_landmarks"])
    assert "explain R^2" in capsys.readouterr().out
    with pytest.raises(SystemExit, match="missing.ganseg-data"):  # bad data: one line naming the file
        tracking.main(["--runs", str(run), "--data", str(tmp_path / "missing.ganseg-data"), "--out", str(out)])


def test_a_run_without_its_segmenter_is_one_line(tmp_path):
    (tmp_path / "run").mkdir()
    with pytest.raises(SystemExit, match="holds no checkpoint.pt; train and distill"):
        tracking.main(["--runs", str(tmp_path / "run"), "--data", "any.ganseg-data"])
