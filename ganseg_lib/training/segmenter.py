"""Distillation, the paper's second stage (Sec. 3, Fig. 1): a segmenter trained on the EMA
generator's own image/mask pairs.

Every step draws fresh latents, renders images and their K+1 masks with the EMA generator
(eval mode, no gradients), takes the argmax as the label map and trains a torchvision
segmentation network, built without any pretrained weights, with
0.5 cross-entropy + 0.5 Dice (the authors' released code; the paper names only the network).
The paper uses DeepLab V3 (the released code: torchvision's DeepLabV3-ResNet50); the CPU presets
use a light MobileNetV3 model (see `SegmenterConfig.arch`).
"""
from __future__ import annotations

import os
import time
from typing import Callable, Iterable

import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from ..checkpoint import load_checkpoint, save_checkpoint, state_to_float
from ..config import GANSegConfig, from_dict, to_dict
from ..model import Generator
from .distributed import DistInfo, agree, broadcast_module, sync_buffers, sync_grads
from .numerics import flush_subnormals
from .state import adam

SEGMENTER = "segmenter.pt"  # segmenter checkpoint inside a run folder

ARCHS = ("deeplabv3_resnet50", "deeplabv3_mobilenet_v3_large", "lraspp_mobilenet_v3_large", "fcn_resnet50")


class DistillationDiverged(RuntimeError):
    """The distillation loss became NaN or infinite; the segmenter file on disk is left as it was."""


class SegmenterError(ValueError):
    """An unknown architecture or an unusable segmenter checkpoint."""


def _torchvision_model(arch: str, n_classes: int) -> nn.Module:
    # imported here: torchvision's segmentation models take a second to import, which every
    # `ganseg` command would otherwise pay at start-up
    from torchvision.models import segmentation as seg

    if arch not in ARCHS:
        raise SegmenterError(f"unknown segmenter arch {arch!r}; choose one of {', '.join(ARCHS)}")
    kwargs = {"weights": None, "weights_backbone": None, "num_classes": n_classes}
    if arch != "lraspp_mobilenet_v3_large":
        kwargs["aux_loss"] = False
    return getattr(seg, arch)(**kwargs)


class Segmenter(nn.Module):
    """(B, 3, S, S) image in [-1, 1] -> (B, K+1, S, S) logits (last channel = background).

    `input_scale` > 1 enlarges the input first: MobileNet and ResNet reduce by 8-32, which at
    32 px leaves only 1-4 feature pixels per side.
    """

    def __init__(self, arch: str, n_classes: int, input_scale: int = 1):
        super().__init__()
        self.arch, self.n_classes, self.input_scale = arch, n_classes, input_scale
        self.net = _torchvision_model(arch, n_classes)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        size = image.shape[-2:]
        x = image
        if self.input_scale != 1:
            x = F.interpolate(x, scale_factor=self.input_scale, mode="bilinear", align_corners=False)
        logits = self.net(x)["out"]
        if logits.shape[-2:] != size:
            logits = F.interpolate(logits, size=size, mode="bilinear", align_corners=False)
        return logits


def build_segmenter(cfg: GANSegConfig) -> Segmenter:
    s = cfg.segmenter
    return Segmenter(s.arch, cfg.generator.n_parts + 1, s.input_scale)


def dice_loss(logits: torch.Tensor, labels: torch.Tensor, eps: float = 1.0) -> torch.Tensor:
    """Soft Dice, 1 - (2 |P G| + eps) / (|P| + |G| + eps) per class over the batch, averaged over classes.

    Sums pool the whole batch; the released code computes Dice per image and averages the images.

    logits (B, C, H, W), labels (B, H, W) int64.
    """
    probs = logits.softmax(dim=1)
    onehot = F.one_hot(labels, logits.shape[1]).permute(0, 3, 1, 2).to(probs.dtype)
    inter = (probs * onehot).sum(dim=(0, 2, 3))
    total = probs.sum(dim=(0, 2, 3)) + onehot.sum(dim=(0, 2, 3))
    return (1.0 - (2.0 * inter + eps) / (total + eps)).mean()


def distillation_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """0.5 cross-entropy + 0.5 Dice, as in the authors' released code (the paper does not give the loss)."""
    return 0.5 * F.cross_entropy(logits, labels) + 0.5 * dice_loss(logits, labels)


@torch.no_grad()
def generated_pairs(g_ema: Generator, batch: int, generator: torch.Generator, device) -> tuple[torch.Tensor, torch.Tensor]:
    """Images (B, 3, S, S) in [-1, 1] and label maps (B, S, S) = argmax of the K+1 masks."""
    out = g_ema(g_ema.sample_latents(batch, generator=generator, device=device))
    return out.image, out.masks.argmax(dim=1)


@torch.no_grad()
def recalibrate_batchnorm(model: nn.Module, inputs: Iterable) -> None:
    """Re-estimate every BatchNorm's running statistics as a plain average over `inputs`.

    Each element of `inputs` is passed to `model` in train mode without gradients; the model
    ends in eval mode.  torchvision's MobileNetV3 averages its statistics with momentum 0.01,
    so after a short training they still lag the weights; a few dozen batches fix that.
    """
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    saved = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative average over the batches below
    model.train()
    for x in inputs:
        model(x)
    for m, momentum in zip(norms, saved):
        m.momentum = momentum
    model.eval()


def distill(cfg: GANSegConfig, g_ema: Generator, out_path: str | os.PathLike, *, steps: int | None = None,
            seed: int = 0, device: str = "cpu", progress: bool = True, world: int = 1, rank: int = 0,
            callback: Callable[[int, float], None] | None = None, stop: Callable[[int], bool] | None = None,
            log=print) -> Segmenter:
    """Train a segmenter on generated pairs for `steps` (default cfg.segmenter.steps); save it to out_path.

    `stop(step)` may end training early (e.g. a time budget); rank 0's answer is taken by every
    rank, so that all stop at the same step.
    """
    s = cfg.segmenter
    steps = s.steps if steps is None else steps
    dev = torch.device(device)
    info = DistInfo(rank, world, dev)
    flush_subnormals(dev)
    g_ema = g_ema.to(dev).eval().requires_grad_(False)
    torch.manual_seed(seed)
    model = build_segmenter(cfg).to(dev).train()
    broadcast_module(model, world)
    opt = adam(model.parameters(), s.lr, s.betas)
    rng = torch.Generator().manual_seed(seed * 1000003 + 17 + rank)
    bar = tqdm(total=steps, disable=(None if progress else True) if rank == 0 else True,
               desc=f"distill {s.arch}", unit="it", dynamic_ncols=True)
    start = time.perf_counter()
    running = None
    try:
        for step in range(1, steps + 1):
            images, labels = generated_pairs(g_ema, s.batch, rng, dev)
            loss = distillation_loss(model(images), labels)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if not sync_grads(model, loss, world):
                kept = f"{out_path} is left as it was" if os.path.exists(out_path) else "nothing was written"
                raise DistillationDiverged(f"distillation loss became {loss.item()} at step {step}; {kept}; "
                                           "try a lower --set segmenter.lr=...")
            opt.step()
            sync_buffers(model, world)
            value = loss.item()
            running = value if running is None else 0.98 * running + 0.02 * value
            bar.update(1)
            if step % 25 == 0:
                bar.set_postfix_str(f"loss={running:.4f}", refresh=False)
            if callback is not None:
                callback(step, value)
            if stop is not None and agree(stop(step), info):  # rank 0's clock decides for all
                steps = step
                break
    finally:
        bar.close()
    if s.bn_recalibration:
        recalibrate_batchnorm(model, (generated_pairs(g_ema, s.batch, rng, dev)[0] for _ in range(s.bn_recalibration)))
        sync_buffers(model, world)
    model.eval()
    if rank == 0:
        save_checkpoint(out_path, {"config": to_dict(cfg), "steps": steps, "seed": seed,
                                   "seconds": time.perf_counter() - start, "final_loss": running,
                                   "segmenter": model.state_dict()}, "segmenter")
    return model


def load_segmenter(path: str | os.PathLike, device: str | torch.device = "cpu") -> tuple[GANSegConfig, Segmenter]:
    """A segmenter (eval mode) from a "segmenter" or "course" checkpoint."""
    ck = load_checkpoint(path, ("segmenter", "course"))
    cfg = from_dict(ck["config"])
    model = build_segmenter(cfg)
    model.load_state_dict(state_to_float(ck["segmenter"]))
    return cfg, model.to(device).eval()


@torch.no_grad()
def predict(model: Segmenter, images: torch.Tensor, batch: int = 256, device: str | torch.device = "cpu") -> torch.Tensor:
    """Softmax masks (N, K+1, S, S) float32 on CPU for uint8 (N, 3, S, S) or float [-1, 1] images."""
    model = model.to(device).eval()
    out = []
    for i in range(0, len(images), batch):
        x = images[i:i + batch].to(device)
        if x.dtype == torch.uint8:
            x = x.float().mul_(2.0 / 255.0).sub_(1.0)
        out.append(model(x).float().softmax(dim=1).cpu())
    return torch.cat(out) if out else torch.empty(0)
