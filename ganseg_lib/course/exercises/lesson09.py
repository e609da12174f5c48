"""Checks for lesson 09 (distillation loss and the paper's evaluation protocols, Sec. 3 and 4.1)."""
from __future__ import annotations

import numpy as np
import torch
from sklearn.linear_model import LinearRegression

from ...evaluation import metrics
from ...training.segmenter import dice_loss
from . import Exercise, expect_close, fail


def _scalar(title: str, value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        fail(title, f"return one number, got {type(value).__name__}.")


# --------------------------------------------------------------------------------------------
# 9.1 the soft Dice loss

def _verify_dice(fn) -> None:
    title = "9.1 Dice loss"
    g = torch.Generator().manual_seed(81)
    logits = torch.randn(3, 5, 6, 6, generator=g, dtype=torch.float64) * 2
    labels = torch.randint(0, 5, (3, 6, 6), generator=g)
    labels[:, :3] = 4  # a large "background" class, as in real masks
    value = fn(logits, labels)
    if not isinstance(value, torch.Tensor) or value.dim() != 0:
        fail(title, "return a 0-d tensor (so that it can be backpropagated).")
    ref = dice_loss(logits, labels)
    probs = logits.softmax(dim=1)
    onehot = torch.nn.functional.one_hot(labels, 5).permute(0, 3, 1, 2).double()
    per_image = 1 - (2 * (probs * onehot).sum((2, 3)) + 1) / (probs.sum((2, 3)) + onehot.sum((2, 3)) + 1)
    if torch.allclose(value.double(), per_image.mean(), atol=1e-6) and not torch.allclose(value.double(), ref):
        fail(title, "you computed Dice per image and averaged; the library (and the check) sums each class's "
                    "overlap over the whole batch first, then averages over classes.")
    hard = logits.argmax(dim=1)
    if torch.allclose(value.double(), dice_loss(torch.nn.functional.one_hot(hard, 5).permute(0, 3, 1, 2).double() * 50,
                                                labels), atol=1e-3):
        fail(title, "use the softmax probabilities, not the argmax: the argmax has no gradient.")
    expect_close(title, value.double(), ref, "not yet: softmax over classes, one-hot labels, then per class "
                 "1 - (2 sum P G + 1) / (sum P + sum G + 1) with sums over batch and pixels, averaged over "
                 "classes (eps = 1).", atol=1e-6)


def _solution_dice():
    def soft_dice(logits, labels):
        probs = logits.softmax(dim=1)
        onehot = torch.nn.functional.one_hot(labels, logits.shape[1]).permute(0, 3, 1, 2).to(probs.dtype)
        inter = (probs * onehot).sum(dim=(0, 2, 3))
        total = probs.sum(dim=(0, 2, 3)) + onehot.sum(dim=(0, 2, 3))
        return (1 - (2 * inter + 1) / (total + 1)).mean()
    return soft_dice


def _mistake_dice():
    def soft_dice(logits, labels):  # per image, then averaged
        probs = logits.softmax(dim=1)
        onehot = torch.nn.functional.one_hot(labels, logits.shape[1]).permute(0, 3, 1, 2).to(probs.dtype)
        inter = (probs * onehot).sum(dim=(2, 3))
        total = probs.sum(dim=(2, 3)) + onehot.sum(dim=(2, 3))
        return (1 - (2 * inter + 1) / (total + 1)).mean()
    return soft_dice


check_dice_loss = Exercise("9.1 Dice loss", _verify_dice, _solution_dice, _mistake_dice)


# --------------------------------------------------------------------------------------------
# 9.2 part centres of detected masks

def _verify_centres(fn) -> None:
    title = "9.2 part centres"
    g = torch.Generator().manual_seed(82)
    masks = torch.rand(2, 4, 10, 12, generator=g).softmax(dim=1)  # (N, K+1, H, W), non-square on purpose
    result = fn(masks)
    result = torch.as_tensor(np.asarray(result) if not isinstance(result, torch.Tensor) else result)
    if tuple(result.shape) != (2, 3, 2):
        fail(title, f"return (N, K, 2) = (2, 3, 2): one (x, y) per part, background excluded; got "
                    f"{tuple(result.shape)}.")
    ref = torch.as_tensor(metrics.part_centers(masks))
    if torch.allclose(result.double(), ref.flip(-1), atol=1e-5):
        fail(title, "x and y are swapped: x runs along the width (columns), y along the height (rows).")
    expect_close(title, result.double(), ref, "not yet: the mask-weighted mean of the pixel-centre coordinates "
                 "(x = (col + 0.5) * 2 / W - 1, y = (row + 0.5) * 2 / H - 1) for each of the first K channels.",
                 atol=1e-5)


def _solution_centres():
    def part_centres(masks):
        h, w = masks.shape[-2:]
        xs = (torch.arange(w, dtype=torch.float64) + 0.5) * 2 / w - 1
        ys = (torch.arange(h, dtype=torch.float64) + 0.5) * 2 / h - 1
        m = masks[:, :-1].double()
        mass = m.sum(dim=(2, 3))
        return torch.stack(((m.sum(dim=2) * xs).sum(-1) / mass, (m.sum(dim=3) * ys).sum(-1) / mass), dim=-1)
    return part_centres


def _mistake_centres():
    def part_centres(masks):  # (row, col) order
        return _solution_centres()(masks).flip(-1)
    return part_centres


check_part_centres = Exercise("9.2 part centres", _verify_centres, _solution_centres, _mistake_centres)


# --------------------------------------------------------------------------------------------
# 9.3 the MAFL landmark error: regression without bias, inter-ocular normalisation

def _landmark_data(seed: int):
    g = np.random.default_rng(seed)
    n_train, n_test, k = 60, 20, 4
    feats = g.uniform(-0.8, 0.8, (n_train + n_test, k, 2))
    mix = g.normal(0, 0.5, (2 * k, 10))
    marks = (feats.reshape(len(feats), -1) @ mix).reshape(-1, 5, 2) + 0.3 + g.normal(0, 0.05, (len(feats), 5, 2))
    return feats[:n_train], marks[:n_train], feats[n_train:], marks[n_train:]


def _verify_landmark_error(fn) -> None:
    title = "9.3 landmark error"
    ftr, ltr, fte, lte = _landmark_data(83)
    value = _scalar(title, fn(ftr, ltr, fte, lte))
    ref = metrics.mafl_landmark_error(ftr, ltr, fte, lte)
    with_bias = LinearRegression().fit(ftr.reshape(60, -1), ltr.reshape(60, -1)).predict(fte.reshape(20, -1))
    biased = 100 * metrics.interocular_error(with_bias.reshape(lte.shape), lte).mean()
    if abs(value - biased) < 1e-6:
        fail(title, "your regression has a bias (intercept); the MAFL protocol fits a linear map without one, "
                    "so that the landmarks' position must come from the part centres.")
    if abs(value - ref / 100) < 1e-6:
        fail(title, "report the error in percent of the inter-ocular distance.")
    if abs(value - ref) > 1e-6:
        fail(title, "not yet: least squares W from the (N, 2K) centres to the (N, 10) landmarks, no bias; on the "
                    "test split, per image the mean over the 5 landmarks of the L2 error divided by the distance "
                    "between landmarks 0 and 1 (the eyes); average over images, in %.")


def _solution_landmark_error():
    def landmark_error(train_centres, train_landmarks, test_centres, test_landmarks):
        a = train_centres.reshape(len(train_centres), -1)
        w, *_ = np.linalg.lstsq(a, train_landmarks.reshape(len(train_landmarks), -1), rcond=None)
        pred = (test_centres.reshape(len(test_centres), -1) @ w).reshape(test_landmarks.shape)
        iod = np.linalg.norm(test_landmarks[:, 0] - test_landmarks[:, 1], axis=-1)
        return 100 * (np.linalg.norm(pred - test_landmarks, axis=-1).mean(axis=1) / iod).mean()
    return landmark_error


def _mistake_landmark_error():
    def landmark_error(train_centres, train_landmarks, test_centres, test_landmarks):  # with a bias column
        def design(c):
            c = c.reshape(len(c), -1)
            return np.concatenate([c, np.ones((len(c), 1))], axis=1)
        w, *_ = np.linalg.lstsq(design(train_centres), train_landmarks.reshape(len(train_landmarks), -1), rcond=None)
        pred = (design(test_centres) @ w).reshape(test_landmarks.shape)
        iod = np.linalg.norm(test_landmarks[:, 0] - test_landmarks[:, 1], axis=-1)
        return 100 * (np.linalg.norm(pred - test_landmarks, axis=-1).mean(axis=1) / iod).mean()
    return landmark_error


check_landmark_error = Exercise("9.3 landmark error", _verify_landmark_error, _solution_landmark_error,
                                _mistake_landmark_error)

EXERCISES = [check_dice_loss, check_part_centres, check_landmark_error]
