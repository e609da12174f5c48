"""Score a segmenter on labelled images with the paper's protocols (see metrics.py).

The train split fits the landmark regression; the test split is scored.  Every number comes
with its references, so a reader sees what is learned beyond finding the object.
`evaluate_run` adds the overlay figure, `report` turns the result into a few lines.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..config import ALIVE_MASS, GANSegConfig
from ..training.segmenter import Segmenter, predict
from ..viz import save_figure, segmentation_overlays
from . import metrics

MAX_REGRESSION_IMAGES = 5000  # train images used to fit the landmark regression (the paper's ~5k)


class EvaluationError(ValueError):
    """Data that cannot be scored (no landmarks and no masks, wrong image size)."""


@dataclass
class LabelledImages:
    """One split as whole tensors; what is unknown is None."""

    images: torch.Tensor  # (N, 3, S, S) uint8
    landmarks: torch.Tensor | None = None  # (N, L, 2) float, (x, y) in [-1, 1]
    visible: torch.Tensor | None = None  # (N, L) bool
    fg_masks: torch.Tensor | None = None  # (N, S, S) bool
    part_labels: torch.Tensor | None = None  # (N, S, S) int, 0 = background
    protocol: str | None = None  # "mafl" or "keypoints" (see metrics.py)
    has_mask: torch.Tensor | None = None  # (N,) bool where only some images have a foreground mask
    eyes: tuple[int, int] = metrics.EYES  # mafl: the two landmarks whose distance normalises the error

    def masked(self) -> torch.Tensor:
        """Indices of the images with a foreground mask."""
        if self.has_mask is None:
            return torch.arange(len(self.images))
        return torch.nonzero(self.has_mask).view(-1)

    @classmethod
    def from_dataset(cls, ds) -> "LabelledImages":
        """From a data_prep dataset (whole-split tensors and `.meta`)."""
        meta = getattr(ds, "meta", None) or {}
        landmarks = getattr(ds, "landmarks", None)
        protocol = meta.get("landmark_protocol") if landmarks is not None else None
        if landmarks is not None and protocol is None:
            protocol = "mafl" if landmarks.shape[1] == 5 else "keypoints"
        fg, has = getattr(ds, "fg_masks", None), getattr(ds, "has_mask", None)
        if has is not None and bool(has.all()):
            has = None
        eyes = tuple(meta.get("landmark_eyes", metrics.EYES))
        return cls(ds.images, landmarks, getattr(ds, "visible", None), fg, getattr(ds, "part_labels", None),
                   protocol, has, eyes)

    def head(self, n: int) -> "LabelledImages":
        return self.select(slice(0, n))

    def select(self, index) -> "LabelledImages":
        """The images at `index` (a slice, an index tensor or a boolean mask)."""
        cut = (lambda t: None if t is None else t[index])
        return LabelledImages(self.images[index], cut(self.landmarks), cut(self.visible), cut(self.fg_masks),
                              cut(self.part_labels), self.protocol, cut(self.has_mask), self.eyes)

    def complete_faces(self) -> torch.Tensor:
        """(N,) bool: the images whose landmarks are all visible (the mafl protocol scores only those)."""
        if self.visible is None:
            return torch.ones(len(self.images), dtype=torch.bool)
        return self.visible.all(dim=1)


def what_is_skipped(test: LabelledImages) -> list[str]:
    """One line per metric family that this data cannot support.

    Unlabelled images (a folder of photos, nothing else) support neither: the evaluation then
    reports the parts' usage and draws the overlays, which is what there is to look at."""
    skipped = []
    if test.landmarks is None:
        skipped.append("landmark error (the data has no landmarks)")
    if test.fg_masks is None:
        skipped.append("foreground IoU (the data has no foreground masks)")
    return skipped


def label_centers(part_labels: torch.Tensor, n_labels: int) -> np.ndarray:
    """Centres of the ground-truth parts 1..n_labels as a (N, n_labels, 2) array (missing part -> 0, 0)."""
    onehot = torch.nn.functional.one_hot(part_labels.long(), n_labels + 1).permute(0, 3, 1, 2).float()
    return metrics.part_centers(torch.cat([onehot[:, 1:], onehot[:, :1]], dim=1))  # background last


def evaluate_masks(train_masks: torch.Tensor, train: LabelledImages, test_masks: torch.Tensor,
                   test: LabelledImages) -> dict:
    """All metrics and references from predicted soft masks (N, K+1, S, S) of both splits."""
    result: dict = {"n_train": int(len(train.images)), "n_test": int(len(test.images)),
                    "image_size": int(test.images.shape[-1]), "skipped": what_is_skipped(test)}
    if test.landmarks is not None:
        if train.landmarks is None:
            raise EvaluationError("the train split has no landmarks to fit the regression")
        ftr, fte = metrics.part_centers(train_masks), metrics.part_centers(test_masks)
        if test.protocol == "mafl":
            # faces without all their points (no row in the landmarks CSV) cannot be scored in % IOD
            keep_tr, keep_te = train.complete_faces(), test.complete_faces()
            if not keep_te.any() or not keep_tr.any():
                raise EvaluationError("no image of the " + ("test" if not keep_te.any() else "train") +
                                      " split has all its landmarks; the mafl protocol scores complete faces")
            for name, keep in (("train", keep_tr), ("test", keep_te)):
                if not keep.all():
                    result["skipped"].append(f"{int((~keep).sum())} of {len(keep)} {name} images in the landmark "
                                             "error (not all of their landmarks are given)")
            tr, te = train.select(keep_tr), test.select(keep_te)
            ftr, fte = ftr[keep_tr.numpy()], fte[keep_te.numpy()]
            eyes = te.eyes
            err = metrics.mafl_landmark_error(ftr, tr.landmarks, fte, te.landmarks, eyes)
            mean_shape = metrics.mean_shape_error(tr.landmarks, te.landmarks, eyes)
            refs = {"mean_shape": mean_shape}
            if tr.fg_masks is not None and te.fg_masks is not None and tr.has_mask is None \
                    and te.has_mask is None:
                refs["localisation_only"] = metrics.localisation_only_error(
                    tr.fg_masks, tr.landmarks, te.fg_masks, te.landmarks, eyes)
            if tr.part_labels is not None and te.part_labels is not None:
                n_labels = int(max(tr.part_labels.max(), te.part_labels.max()))
                refs["ground_truth_parts"] = metrics.mafl_landmark_error(
                    label_centers(tr.part_labels, n_labels), tr.landmarks,
                    label_centers(te.part_labels, n_labels), te.landmarks, eyes)
            result["landmarks"] = {
                "protocol": "mafl: regression without bias, mean L2 / inter-ocular distance, %",
                "eyes": list(eyes), "n_images": {"train": int(keep_tr.sum()), "test": int(keep_te.sum())},
                "error_pct": err, "x_mean_shape": err / mean_shape,
                "references_pct": refs,
            }
        else:
            size = int(test.images.shape[-1])
            vis_tr = train.visible if train.visible is not None else torch.ones(train.landmarks.shape[:2], dtype=bool)
            vis_te = test.visible if test.visible is not None else torch.ones(test.landmarks.shape[:2], dtype=bool)
            errs = metrics.keypoint_errors(ftr, train.landmarks, vis_tr, fte, test.landmarks, vis_te, size)
            # mean-shape reference: a regression with bias from a constant feature predicts the visible mean
            zeros_tr, zeros_te = np.zeros((len(train.images), 1)), np.zeros((len(test.images), 1))
            refs = {"mean_shape": metrics.keypoint_errors(zeros_tr, train.landmarks, vis_tr, zeros_te,
                                                          test.landmarks, vis_te, size)}
            if train.fg_masks is not None and test.fg_masks is not None and train.has_mask is None \
                    and test.has_mask is None:
                refs["localisation_only"] = metrics.keypoint_errors(
                    metrics.region_centroid(train.fg_masks), train.landmarks, vis_tr,
                    metrics.region_centroid(test.fg_masks), test.landmarks, vis_te, size)
            result["landmarks"] = {
                "protocol": "keypoints: regression with bias per keypoint, visible points only, pixels",
                **errs, "x_mean_shape": errs["mean_px"] / max(refs["mean_shape"]["mean_px"], 1e-12),
                "references": refs,
            }
    result["parts"] = {"protocol": f"segmenter's soft masks on the test images: mass = share of the image, "
                                   f"alive = mass >= {ALIVE_MASS} with under half of it on the border ring",
                       **metrics.part_usage(test_masks, ALIVE_MASS)}
    if test.fg_masks is not None:
        keep = test.masked()  # images that have a ground-truth mask
        gt = test.fg_masks[keep]
        result["foreground"] = {
            "protocol": "argmax != background, IoU per image, averaged",
            "iou": metrics.foreground_iou(metrics.foreground_from_masks(test_masks[keep]), gt),
            "n_images": int(len(keep)),
            "references": metrics.reference_ious(gt),
        }
    return result


def evaluate_segmenter(model: Segmenter, train: LabelledImages, test: LabelledImages,
                       device: str | torch.device = "cpu") -> tuple[dict, torch.Tensor]:
    """Run the segmenter on both splits and score it; returns (metrics, test soft masks)."""
    for split, data in (("train", train), ("test", test)):
        if data.images.dim() != 4 or data.images.shape[1] != 3:
            raise EvaluationError(f"{split} images must be (N, 3, S, S), got {tuple(data.images.shape)}")
    what_is_skipped(test)
    train = train.head(MAX_REGRESSION_IMAGES)
    need_train = test.landmarks is not None
    train_masks = predict(model, train.images, device=device) if need_train else None
    test_masks = predict(model, test.images, device=device)
    return evaluate_masks(train_masks, train, test_masks, test), test_masks


def evaluate_run(model: Segmenter, cfg: GANSegConfig, train: LabelledImages, test: LabelledImages, data: str,
                 device: str | torch.device = "cpu", figures_dir: Path | None = None) -> dict:
    """Score the segmenter of a run on `data` (its name, recorded) and draw overlays into figures_dir."""
    result, test_masks = evaluate_segmenter(model, train, test, device)
    result = {"data": data, "preset": cfg.name, "segmenter": cfg.segmenter.arch, **result}
    if figures_dir is not None:
        n = min(16, len(test.images))
        fig = segmentation_overlays(test.images[:n], test_masks[:n],
                                    None if test.landmarks is None else test.landmarks[:n],
                                    title=f"{cfg.name}: distilled segmenter on held-out images")
        save_figure(fig, figures_dir / "eval_overlays.png")
    return result


def report(result: dict) -> str:
    """A few lines a reader can take in at once."""
    lm = result.get("landmarks")
    fitted = f", regression fitted on {result['n_train']}" if lm is not None else ""
    lines = [f"evaluation on {result['n_test']} held-out images ({result['image_size']} px){fitted}:"]
    if lm is not None and "error_pct" in lm:
        refs = lm["references_pct"]
        lines.append(f"  landmark error {lm['error_pct']:.1f} % of inter-ocular distance "
                     f"= {lm['x_mean_shape']:.2f} x mean shape ({refs['mean_shape']:.1f} %)")
        if "localisation_only" in refs:
            lines.append(f"    references: localisation only {refs['localisation_only']:.1f} %"
                         + (f", ground-truth part centres {refs['ground_truth_parts']:.1f} %"
                            if "ground_truth_parts" in refs else ""))
    elif lm is not None:
        lines.append(f"  keypoint error {lm['mean_px']:.2f} px per point (MAE sum {lm['mae_px']:.1f} px) "
                     f"= {lm['x_mean_shape']:.2f} x mean shape")
    fg = result.get("foreground")
    if fg is not None:
        r = fg["references"]
        lines.append(f"  foreground IoU {fg['iou']:.3f} (all-foreground {r['all_foreground']:.3f}, "
                     f"centre box {r['centre_box']:.3f})")
    if lm is None and fg is None:
        lines.append("  no landmarks or foreground masks in the data: nothing to score, parts and overlays only")
    parts = result.get("parts")
    if parts is not None:
        usage = ", ".join(f"{m:.1%}" + (" (border)" if b >= 0.5 else "")
                          for m, b in zip(parts["mass"], parts["border_share"]))
        lines.append(f"  parts alive {parts['alive']} of {parts['n_parts']}; share of the image each: {usage}")
    return "\n".join(lines)
