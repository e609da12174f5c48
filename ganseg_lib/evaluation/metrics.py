"""The paper's evaluation protocols (Sec. 4.1) as pure functions of arrays.

Coordinates are (x, y) in [-1, 1] with pixel centres at (j + 0.5) * 2 / S - 1 (see coords.py).
Masks are (N, K+1, H, W) soft or hard assignments whose last channel is the background.

Protocols
---------
Part centres
    x_k = sum_p M_k(p) p / sum_p M_k(p), the mask-weighted mean pixel coordinate of part k
    (softmax probabilities of the segmenter), background excluded: (N, K, 2).
Landmarks, "mafl" protocol (CelebA, MAFL's 5 landmarks: eyes first)
    A linear map WITHOUT bias from the 2K part-centre coordinates to the 2L landmark
    coordinates, fitted by least squares on the train split (scikit-learn
    LinearRegression(fit_intercept=False)), applied to the test split.  Error per image =
    mean over landmarks of the L2 distance divided by the inter-ocular distance (distance
    between the ground-truth eye landmarks, 0 and 1 for MAFL; a folder of faces may name
    others); reported in percent, averaged over images.
Landmarks, "keypoints" protocol (Taichi-like data with visibility)
    One linear map WITH bias per keypoint (its 2 coordinates), fitted only on train images
    where that keypoint is visible; test errors only over visible keypoints.  Reported:
    `mae_px` the paper's Taichi MAE, the sum over visible keypoints of the L2 distance in
    pixels, averaged over images; `mean_px` the mean L2 distance per visible keypoint in
    pixels; `mean_norm` the same divided by the image side.
Foreground IoU (CUB, Flowers, Taichi)
    Predicted foreground = argmax over the K+1 channels is not the background.  IoU =
    |pred & gt| / |pred | gt| per image (1 when both are empty), averaged over images.
References (what a method must beat)
    mean shape: every test image gets the mean train landmark positions.
    localisation only: the same landmark protocol with the ground-truth foreground centroid
    as the only feature, plus a bias (a single point carries no offset to the landmarks, so
    without a bias the reference would be meaninglessly weak); it measures how much of the
    error is only finding the object.
    all-foreground IoU: every pixel predicted foreground.
    centre-box IoU: the central box covering the middle half of each side predicted foreground.
"""
from __future__ import annotations

import numpy as np
import torch
from sklearn.linear_model import LinearRegression

from .. import coords


def _np(x) -> np.ndarray:
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def pixel_grid(height: int, width: int) -> np.ndarray:
    """(H, W, 2) pixel-centre coordinates (x, y) in [-1, 1], float64 (`coords.pixel_grid`)."""
    return coords.pixel_grid(height, width, dtype=torch.float64).numpy()


def part_centers(masks, eps: float = 1e-8) -> np.ndarray:
    """Mask-weighted mean coordinate of each part: (N, K+1, H, W) -> (N, K, 2); background excluded.

    A part with zero mass everywhere gets the image centre (0, 0).  In float64 (`coords.mask_centers`).
    """
    return coords.mask_centers(torch.from_numpy(_np(masks).astype(np.float64)), eps).numpy()


def region_centroid(fg_masks, eps: float = 1e-8) -> np.ndarray:
    """Centroid of a boolean or soft (N, H, W) mask: (N, 2); an empty mask gives (0, 0)."""
    m = _np(fg_masks).astype(np.float64)
    grid = pixel_grid(*m.shape[-2:])
    return np.einsum("nhw,hwc->nc", m, grid) / (m.sum(axis=(-2, -1))[:, None] + eps)


# --------------------------------------------------------------------------------------------
# landmark regression

def fit_linear(features, targets, bias: bool) -> LinearRegression:
    """Least squares from (N, F) to (N, T); bias=False is the MAFL protocol."""
    return LinearRegression(fit_intercept=bias).fit(_np(features).reshape(len(features), -1),
                                                    _np(targets).reshape(len(targets), -1))


EYES = (0, 1)  # MAFL's landmark order starts with the two eyes


def interocular_error(pred, gt, eyes: tuple[int, int] = EYES) -> np.ndarray:
    """Per image: mean_l ||pred_l - gt_l|| / ||gt_e0 - gt_e1||, (N, L, 2) twice -> (N,) (fraction, not %)."""
    pred, gt = _np(pred).astype(np.float64), _np(gt).astype(np.float64)
    iod = np.linalg.norm(gt[:, eyes[0]] - gt[:, eyes[1]], axis=-1)
    return np.linalg.norm(pred - gt, axis=-1).mean(axis=1) / np.maximum(iod, 1e-8)


def mafl_landmark_error(train_features, train_landmarks, test_features, test_landmarks,
                        eyes: tuple[int, int] = EYES) -> float:
    """MAFL protocol: regression without bias, mean inter-ocular-normalised error in percent."""
    test_landmarks = _np(test_landmarks)
    reg = fit_linear(train_features, train_landmarks, bias=False)
    pred = reg.predict(_np(test_features).reshape(len(test_features), -1)).reshape(test_landmarks.shape)
    return float(100.0 * interocular_error(pred, test_landmarks, eyes).mean())


def keypoint_errors(train_features, train_keypoints, train_visible, test_features, test_keypoints, test_visible,
                    image_size: int) -> dict[str, float]:
    """Keypoints protocol: per-keypoint regression with bias on visible points; errors in pixels."""
    ftr = _np(train_features).reshape(len(train_features), -1)
    fte = _np(test_features).reshape(len(test_features), -1)
    ktr, kte = _np(train_keypoints).astype(np.float64), _np(test_keypoints).astype(np.float64)
    vtr, vte = _np(train_visible).astype(bool), _np(test_visible).astype(bool)
    n_test, n_kp = kte.shape[:2]
    dist = np.zeros((n_test, n_kp))
    for j in range(n_kp):
        if vtr[:, j].sum() >= 2:
            reg = LinearRegression(fit_intercept=True).fit(ftr[vtr[:, j]], ktr[vtr[:, j], j])
            pred = reg.predict(fte)
        else:  # hardly ever visible in train: predict its mean position (or the centre)
            pred = np.broadcast_to(ktr[vtr[:, j], j].mean(0) if vtr[:, j].any() else np.zeros(2), (n_test, 2))
        dist[:, j] = np.linalg.norm(pred - kte[:, j], axis=-1) * image_size / 2.0  # [-1, 1] -> pixels
    dist = np.where(vte, dist, 0.0)
    n_visible = vte.sum()
    mean_px = float(dist.sum() / max(n_visible, 1))
    return {"mae_px": float(dist.sum(axis=1).mean()), "mean_px": mean_px, "mean_norm": mean_px / image_size}


def mean_shape_error(train_landmarks, test_landmarks, eyes: tuple[int, int] = EYES) -> float:
    """Reference: the mean train landmark positions for every test image (inter-ocular %, MAFL)."""
    mean = _np(train_landmarks).astype(np.float64).mean(axis=0)
    gt = _np(test_landmarks)
    return float(100.0 * interocular_error(np.broadcast_to(mean, gt.shape), gt, eyes).mean())


def localisation_only_error(train_fg, train_landmarks, test_fg, test_landmarks, eyes: tuple[int, int] = EYES) -> float:
    """Reference: MAFL error of a regression (with bias) from the ground-truth foreground centroid."""
    test_landmarks = _np(test_landmarks)
    reg = fit_linear(region_centroid(train_fg), train_landmarks, bias=True)
    pred = reg.predict(region_centroid(test_fg)).reshape(test_landmarks.shape)
    return float(100.0 * interocular_error(pred, test_landmarks, eyes).mean())


# --------------------------------------------------------------------------------------------
# part usage

def part_usage(masks, alive_mass: float, border: float = 0.125) -> dict:
    """How the K parts of (N, K+1, H, W) masks are used: per part its mass (mean mask value, the
    share of the image it covers), its border share (the part of its mass within `border` x the
    side of the image's edge) and the number of alive parts (mass >= alive_mass and less than half
    of it on the border).  A dead or border-parked part is capacity the model does not use."""
    m = _np(masks).astype(np.float64)[:, :-1]  # (N, K, H, W)
    h, w = m.shape[-2:]
    ring = np.ones((h, w), dtype=bool)
    bh, bw = max(1, round(border * h)), max(1, round(border * w))
    ring[bh:h - bh, bw:w - bw] = False
    total = m.sum(axis=(0, 2, 3))  # (K,)
    mass = total / (m.shape[0] * h * w)
    border_share = (m * ring).sum(axis=(0, 2, 3)) / np.maximum(total, 1e-12)
    alive = (mass >= alive_mass) & (border_share < 0.5)
    return {"mass": mass.tolist(), "border_share": border_share.tolist(), "alive": int(alive.sum()),
            "n_parts": int(m.shape[1])}


# --------------------------------------------------------------------------------------------
# foreground

def foreground_from_masks(masks) -> np.ndarray:
    """(N, K+1, H, W) -> (N, H, W) bool: argmax over channels is not the background (last)."""
    m = _np(masks)
    return m.argmax(axis=1) != m.shape[1] - 1


def iou_per_image(pred, gt) -> np.ndarray:
    """(N, H, W) bool twice -> (N,) intersection over union; 1 where both masks are empty."""
    p, g = _np(pred).astype(bool), _np(gt).astype(bool)
    inter = (p & g).sum(axis=(-2, -1))
    union = (p | g).sum(axis=(-2, -1))
    return np.where(union > 0, inter / np.maximum(union, 1), 1.0)


def foreground_iou(pred, gt) -> float:
    """Mean per-image foreground IoU."""
    return float(iou_per_image(pred, gt).mean())


def centre_box(height: int, width: int) -> np.ndarray:
    """(H, W) bool: the middle half of each side (rows H/4..3H/4, columns W/4..3W/4)."""
    box = np.zeros((height, width), dtype=bool)
    box[height // 4: height - height // 4, width // 4: width - width // 4] = True
    return box


def reference_ious(gt) -> dict[str, float]:
    """IoU of the all-foreground and centre-box predictions against (N, H, W) ground truth."""
    g = _np(gt).astype(bool)
    full = np.ones_like(g)
    box = np.broadcast_to(centre_box(*g.shape[-2:]), g.shape)
    return {"all_foreground": foreground_iou(full, g), "centre_box": foreground_iou(box, g)}
