"""The evaluation protocols against values worked out by hand on tiny arrays."""
import numpy as np
import pytest
import torch

from ganseg_lib.evaluation import metrics
from ganseg_lib.evaluation.evaluate import EvaluationError, LabelledImages, evaluate_masks, label_centers, what_is_skipped


def test_pixel_grid_uses_pixel_centres():
    g = metrics.pixel_grid(2, 4)  # 2 rows, 4 columns
    assert g.shape == (2, 4, 2)
    assert g[0, 0].tolist() == [-0.75, -0.5]  # x = (0 + 0.5) * 2/4 - 1, y = (0 + 0.5) * 2/2 - 1
    assert g[1, 3].tolist() == [0.75, 0.5]


def test_part_centers_are_mask_weighted_means_without_background():
    masks = np.zeros((1, 3, 2, 2))  # K = 2 parts + background
    masks[0, 0, 0, 1] = 1.0  # part 0 only at row 0, column 1 -> (x, y) = (0.5, -0.5)
    masks[0, 1, 1, 0] = 1.0  # part 1: weight 1 at (-0.5, 0.5) and weight 3 at (0.5, 0.5)
    masks[0, 1, 1, 1] = 3.0
    masks[0, 2] = 100.0  # background mass must not matter
    c = metrics.part_centers(masks)
    assert c.shape == (1, 2, 2)
    np.testing.assert_allclose(c[0, 0], [0.5, -0.5], atol=1e-9)
    np.testing.assert_allclose(c[0, 1], [(-0.5 * 1 + 0.5 * 3) / 4, 0.5], atol=1e-9)


def test_interocular_error_by_hand():
    gt = np.array([[[0.0, 0.0], [1.0, 0.0], [0.5, 0.5]]])  # eyes 1 apart
    pred = gt + np.array([0.3, 0.4])  # every point off by 0.5
    assert metrics.interocular_error(pred, gt)[0] == pytest.approx(0.5)
    gt2 = gt * 2  # eyes 2 apart: the same offset is half the error
    assert metrics.interocular_error(gt2 + np.array([0.3, 0.4]), gt2)[0] == pytest.approx(0.25)


def test_mafl_regression_has_no_bias():
    rng = np.random.default_rng(0)
    feats = rng.normal(size=(40, 4))  # 2 parts x (x, y)
    a = rng.normal(size=(4, 6))  # -> 3 landmarks x (x, y)
    lm = (feats @ a).reshape(40, 3, 2)
    lm[:, 1] += [1.0, 0.0]  # keep the eyes apart
    lm[:, 0] -= [1.0, 0.0]
    # a purely linear map is recovered exactly except for the eye offsets, which need a bias
    err = metrics.mafl_landmark_error(feats[:30], lm[:30], feats[30:], lm[30:])
    assert err > 1.0  # without a bias the constant eye offsets cannot be fitted
    # the number equals an explicit least-squares without intercept
    coef, *_ = np.linalg.lstsq(feats[:30], lm[:30].reshape(30, -1), rcond=None)
    pred = (feats[30:] @ coef).reshape(10, 3, 2)
    expected = 100 * metrics.interocular_error(pred, lm[30:]).mean()
    assert err == pytest.approx(expected, rel=1e-6)


def test_mafl_regression_exact_for_linear_data():
    rng = np.random.default_rng(1)
    feats = rng.normal(size=(30, 4))
    a = rng.normal(size=(4, 4))
    lm = (feats @ a).reshape(30, 2, 2)
    assert metrics.mafl_landmark_error(feats[:20], lm[:20], feats[20:], lm[20:]) < 1e-6


def test_mean_shape_error_by_hand():
    train = np.array([[[0.0, 0.0], [1.0, 0.0]], [[0.0, 0.0], [1.0, 0.0]]])
    test = np.array([[[0.0, 0.5], [1.0, 0.5]]])  # the mean shape is 0.5 too high everywhere, iod 1
    assert metrics.mean_shape_error(train, test) == pytest.approx(50.0)


def test_localisation_only_uses_the_foreground_centroid_with_bias():
    # landmarks = centroid + fixed offsets: a regression with bias from the centroid is exact
    n, s = 12, 8
    fg = np.zeros((n, s, s), dtype=bool)
    lms = []
    for i in range(n):
        r, c = i % 5, (3 * i) % 5
        fg[i, r:r + 3, c:c + 3] = True
        cx, cy = (c + 1 + 0.5) * 2 / s - 1, (r + 1 + 0.5) * 2 / s - 1
        lms.append([[cx - 0.2, cy], [cx + 0.2, cy], [cx, cy + 0.1]])
    lms = np.array(lms)
    np.testing.assert_allclose(metrics.region_centroid(fg)[0], [(0 + 1 + 0.5) * 2 / s - 1] * 2)
    assert metrics.localisation_only_error(fg[:8], lms[:8], fg[8:], lms[8:]) < 1e-6


def test_iou_by_hand():
    pred = np.array([[[1, 1], [0, 0]], [[0, 0], [0, 0]], [[1, 0], [0, 0]]], dtype=bool)
    gt = np.array([[[1, 0], [1, 0]], [[0, 0], [0, 0]], [[0, 1], [0, 0]]], dtype=bool)
    np.testing.assert_allclose(metrics.iou_per_image(pred, gt), [1 / 3, 1.0, 0.0])
    assert metrics.foreground_iou(pred, gt) == pytest.approx((1 / 3 + 1 + 0) / 3)


def test_foreground_is_argmax_not_background():
    masks = np.zeros((1, 3, 1, 3))
    masks[0, :, 0, 0] = [0.5, 0.1, 0.4]  # part 0 wins
    masks[0, :, 0, 1] = [0.2, 0.2, 0.6]  # background wins
    masks[0, :, 0, 2] = [0.3, 0.35, 0.35]  # tie between part 1 and background: argmax takes the first
    assert metrics.foreground_from_masks(masks).tolist() == [[[True, False, True]]]


def test_reference_ious_by_hand():
    gt = np.zeros((1, 4, 4), dtype=bool)
    gt[0, :2, :2] = True  # 4 pixels top-left
    box = metrics.centre_box(4, 4)
    assert box.sum() == 4 and box[1:3, 1:3].all()
    refs = metrics.reference_ious(gt)
    assert refs["all_foreground"] == pytest.approx(4 / 16)
    assert refs["centre_box"] == pytest.approx(1 / 7)  # overlap pixel (1,1); union 4 + 4 - 1


def test_keypoint_protocol_skips_invisible_points_and_sums_pixels():
    rng = np.random.default_rng(2)
    feats = rng.normal(size=(30, 2))
    kp = np.stack([feats * 0.5 + 0.1, feats * -0.3 + 0.2], axis=1)  # (30, 2 keypoints, 2), affine in feats
    vis = np.ones((30, 2), dtype=bool)
    test_kp = kp[20:].copy()
    test_vis = vis[20:].copy()
    test_kp[0, 1] = [50.0, 50.0]  # wildly wrong but invisible: must not count
    test_vis[0, 1] = False
    kp_train = kp[:20].copy()
    kp_train[3, 0] = [9.0, 9.0]  # wrong but invisible in train: must not affect the fit
    vis_train = vis[:20].copy()
    vis_train[3, 0] = False
    e = metrics.keypoint_errors(feats[:20], kp_train, vis_train, feats[20:], test_kp, test_vis, image_size=64)
    assert e["mean_px"] < 1e-6 and e["mae_px"] < 1e-6
    # a known offset: every visible test point off by 0.1 in x = 3.2 px at 64 px
    off = test_kp + np.array([0.1, 0.0])
    e = metrics.keypoint_errors(feats[:20], kp_train, vis_train, feats[20:], off, test_vis, image_size=64)
    assert e["mean_px"] == pytest.approx(3.2, rel=1e-6)
    assert e["mae_px"] == pytest.approx(3.2 * (2 * 10 - 1) / 10, rel=1e-6)  # summed per image, 19 visible
    assert e["mean_norm"] == pytest.approx(3.2 / 64, rel=1e-6)


def test_label_centers_put_background_last():
    labels = torch.zeros(1, 2, 2, dtype=torch.long)
    labels[0, 0, 1] = 2  # part 2 at (0.5, -0.5); part 1 missing -> (0, 0)
    c = label_centers(labels, 2)
    np.testing.assert_allclose(c[0], [[0.0, 0.0], [0.5, -0.5]], atol=1e-6)


def test_evaluate_masks_reports_metrics_and_references():
    # a perfect "segmenter": masks equal to ground-truth parts, landmarks = part centres
    n, s = 24, 8
    g = torch.Generator().manual_seed(0)
    labels = torch.zeros(n, s, s, dtype=torch.long)
    for i in range(n):
        r, c = torch.randint(0, 4, (2,), generator=g).tolist()
        labels[i, r:r + 2, c:c + 2] = 1
        labels[i, r + 2:r + 4, c:c + 4] = 2
    onehot = torch.nn.functional.one_hot(labels, 3).permute(0, 3, 1, 2).float()
    masks = torch.cat([onehot[:, 1:], onehot[:, :1]], dim=1)
    centres = torch.as_tensor(metrics.part_centers(masks), dtype=torch.float32)
    lms = torch.stack([centres[:, 0] - 0.1, centres[:, 0] + 0.1, centres[:, 1]], dim=1)
    data = LabelledImages(torch.zeros(n, 3, s, s, dtype=torch.uint8), lms, torch.ones(n, 3, dtype=bool),
                          labels > 0, labels, "mafl")
    res = evaluate_masks(masks[:16], data.head(16), masks[16:], LabelledImages(
        data.images[16:], lms[16:], None, (labels > 0)[16:], labels[16:], "mafl"))
    assert res["foreground"]["iou"] == pytest.approx(1.0)
    refs = res["landmarks"]["references_pct"]
    assert set(refs) == {"mean_shape", "localisation_only", "ground_truth_parts"}
    assert res["landmarks"]["x_mean_shape"] == pytest.approx(res["landmarks"]["error_pct"] / refs["mean_shape"])
    assert res["skipped"] == []


def test_missing_ground_truth_is_named_or_refused():
    imgs = torch.zeros(2, 3, 4, 4, dtype=torch.uint8)
    assert what_is_skipped(LabelledImages(imgs, fg_masks=torch.ones(2, 4, 4, dtype=bool))) == [
        "landmark error (the data has no landmarks)"]
    assert "foreground IoU" in what_is_skipped(LabelledImages(imgs, landmarks=torch.zeros(2, 5, 2)))[0]
    assert len(what_is_skipped(LabelledImages(imgs))) == 2  # unlabelled: both named, parts still reported
