"""Checks for lesson 07 (part embeddings, T-SNE, and how to measure their separation; Appendix D)."""
from __future__ import annotations

import torch

from . import Exercise, expect_close, fail


def _clusters(seed: int, n_per: int = 30, n_classes: int = 4, dim: int = 6, spread: float = 1.3):
    g = torch.Generator().manual_seed(seed)
    centres = torch.randn(n_classes, dim, generator=g, dtype=torch.float64) * 2.0
    labels = torch.arange(n_classes).repeat_interleave(n_per)
    x = centres[labels] + spread * torch.randn(len(labels), dim, generator=g, dtype=torch.float64)
    return x, labels


def _reference_knn(x: torch.Tensor, labels: torch.Tensor, k: int) -> float:
    dist = torch.cdist(x, x)
    dist.fill_diagonal_(float("inf"))
    nearest = dist.topk(k, largest=False).indices  # (N, k)
    votes = torch.nn.functional.one_hot(labels[nearest], int(labels.max()) + 1).sum(dim=1)  # (N, C)
    predicted = votes.argmax(dim=1)  # ties go to the smallest label
    return (predicted == labels).double().mean().item()


# --------------------------------------------------------------------------------------------
# 7.1 leave-one-out k-nearest-neighbour accuracy

def _verify_knn(fn) -> None:
    title = "7.1 k-NN accuracy"
    x, labels = _clusters(61)
    before = x.clone()
    value = fn(x, labels, 5)
    try:
        value = float(value)
    except (TypeError, ValueError):
        fail(title, f"return one number, the fraction of points classified right; got {type(value).__name__}.")
    if not torch.equal(x, before):
        fail(title, "your function changed its input; work on copies (e.g. fill_diagonal_ on a new matrix).")
    if not 0.0 <= value <= 1.0:
        fail(title, f"an accuracy is a fraction between 0 and 1, got {value:.3g}.")
    ref = _reference_knn(x, labels, 5)
    dist = torch.cdist(x, x)
    with_self = labels[dist.topk(5, largest=False).indices]
    with_self_acc = (torch.nn.functional.one_hot(with_self, 4).sum(1).argmax(1) == labels).double().mean().item()
    if abs(value - ref) > 1e-9 and abs(value - with_self_acc) < 1e-9:
        fail(title, "each point counted itself among its neighbours: leave it out (its distance to itself is 0).")
    expect_close(title, torch.tensor(value), torch.tensor(ref), "not the leave-one-out accuracy yet: for each "
                 "point take the k nearest *other* points (Euclidean), predict their most frequent label (ties "
                 "to the smallest label), and return the fraction predicted right.", atol=1e-9)


def _solution_knn():
    def knn_accuracy(x, labels, k):
        dist = torch.cdist(x, x)
        dist.fill_diagonal_(float("inf"))
        neighbours = labels[dist.topk(k, largest=False).indices]
        votes = torch.nn.functional.one_hot(neighbours, int(labels.max()) + 1).sum(dim=1)
        return (votes.argmax(dim=1) == labels).double().mean().item()
    return knn_accuracy


def _mistake_knn():
    def knn_accuracy(x, labels, k):  # each point votes for itself
        neighbours = labels[torch.cdist(x, x).topk(k, largest=False).indices]
        votes = torch.nn.functional.one_hot(neighbours, int(labels.max()) + 1).sum(dim=1)
        return (votes.argmax(dim=1) == labels).double().mean().item()
    return knn_accuracy


check_knn_accuracy = Exercise("7.1 k-NN accuracy", _verify_knn, _solution_knn, _mistake_knn)


# --------------------------------------------------------------------------------------------
# 7.2 recover the part constants from samples alone (eq. 3 in log space)

def _embeddings(seed: int):
    g = torch.Generator().manual_seed(seed)
    const = torch.randn(5, 8, generator=g, dtype=torch.float64)  # w_k^const
    dynamic = torch.randn(40, 8, generator=g, dtype=torch.float64) * 3.0  # w^dynamic per image
    return dynamic[:, None, :] * const[None], const


def _verify_constants(fn) -> None:
    title = "7.2 part constants from samples"
    w, const = _embeddings(62)
    result = fn(w)
    if not isinstance(result, torch.Tensor) or tuple(result.shape) != (5, 8):
        fail(title, f"return a (K, D) = (5, 8) tensor, got "
                    f"{tuple(result.shape) if isinstance(result, torch.Tensor) else type(result).__name__}.")
    log_c = const.abs().log()
    target = log_c - log_c.mean(dim=0, keepdim=True)
    uncentred = w.abs().log().mean(dim=0)
    if torch.allclose(result.double(), uncentred, atol=1e-6):
        fail(title, "the average of log|w_k| over images still contains the average of log|w_dynamic|; "
                    "subtract, per image and dimension, the mean over parts first.")
    expect_close(title, result.double(), target, "not yet: in log|w_k| = log|w_dynamic| + log|w_k^const| the "
                 "first term is the same for every part of an image, so log|w_k| minus its mean over the K "
                 "parts no longer depends on the image. Average that over images.", atol=1e-6)


def _solution_constants():
    def part_constants(w):
        logs = w.abs().log()  # (N, K, D)
        return (logs - logs.mean(dim=1, keepdim=True)).mean(dim=0)
    return part_constants


def _mistake_constants():
    return lambda w: w.abs().log().mean(dim=0)


check_part_constants = Exercise("7.2 part constants from samples", _verify_constants, _solution_constants,
                                _mistake_constants)


# --------------------------------------------------------------------------------------------
# 7.3 how many neighbours does a 2-D map keep?

def _reference_overlap(high: torch.Tensor, low: torch.Tensor, k: int) -> float:
    def neighbours(x):
        d = torch.cdist(x, x)
        d.fill_diagonal_(float("inf"))
        return d.topk(k, largest=False).indices
    a, b = neighbours(high), neighbours(low)
    shared = (a[:, :, None] == b[:, None, :]).any(dim=2).sum(dim=1)
    return (shared.double() / k).mean().item()


def _verify_overlap(fn) -> None:
    title = "7.3 neighbourhood overlap"
    high, _ = _clusters(63, n_per=20)
    g = torch.Generator().manual_seed(64)
    low = high[:, :2] + 0.8 * torch.randn(len(high), 2, generator=g, dtype=torch.float64)
    value = fn(high, low, 7)
    try:
        value = float(value)
    except (TypeError, ValueError):
        fail(title, f"return one number between 0 and 1, got {type(value).__name__}.")
    if abs(fn(high, high, 7) - 1.0) > 1e-9:
        fail(title, "a map compared with itself must keep every neighbour (overlap 1); leave each point out "
                    "of its own neighbour list in both spaces.")
    expect_close(title, torch.tensor(value), torch.tensor(_reference_overlap(high, low, 7)),
                 "not yet: for each point, count how many of its k nearest other points in the high-dimensional "
                 "space are also among its k nearest in the 2-D map, divide by k, and average over points.",
                 atol=1e-9)


def _solution_overlap():
    def neighbourhood_overlap(high, low, k):
        def neighbours(x):
            d = torch.cdist(x, x)
            d.fill_diagonal_(float("inf"))
            return d.topk(k, largest=False).indices
        a, b = neighbours(high), neighbours(low)
        return ((a[:, :, None] == b[:, None, :]).any(dim=2).double().sum(dim=1) / k).mean().item()
    return neighbourhood_overlap


def _mistake_overlap():
    def neighbourhood_overlap(high, low, k):  # compares neighbour lists position by position
        def neighbours(x):
            d = torch.cdist(x, x)
            d.fill_diagonal_(float("inf"))
            return d.topk(k, largest=False).indices
        return (neighbours(high) == neighbours(low)).double().mean().item()
    return neighbourhood_overlap


check_neighbourhood_overlap = Exercise("7.3 neighbourhood overlap", _verify_overlap, _solution_overlap,
                                       _mistake_overlap)

EXERCISES = [check_knn_accuracy, check_part_constants, check_neighbourhood_overlap]
