"""A 16-px GANSeg config small enough for multi-step training tests (fractions of a second per step)."""
from dataclasses import replace

import torch

from ganseg_lib.config import DiscriminatorConfig, get_preset


def tiny_config(**train):
    cfg = get_preset("cpu-tiny")
    gen = replace(cfg.generator, image_size=16, resolutions=(8, 16), channels=(8, 8), mask_channels=8, embed_dim=8,
                  spade_hidden=8, head_hidden=8, z_dim=16, mlp_width=16)
    train = {"batch": 4, "steps": 6, "checkpoint_every": 2, "log_every": 1, **train}
    return replace(cfg, name="test-tiny", generator=gen, discriminator=DiscriminatorConfig(channels=(8, 16, 16), fc_width=16),
                   train=replace(cfg.train, **train),
                   segmenter=replace(cfg.segmenter, batch=2, steps=2, bn_recalibration=2))


def tiny_images(n=48, size=16, seed=0):
    return torch.randint(0, 256, (n, 3, size, size), generator=torch.Generator().manual_seed(seed), dtype=torch.uint8)


def cli_train_and_distill(data, run, steps: int = 1) -> None:
    """`ganseg train` (cpu-tiny, batch 4, no grids) then `ganseg distill` (batch 2), `steps` each."""
    from ganseg_lib.app.cli import main

    assert main(["train", "--data", str(data), "--preset", "cpu-tiny", "--out", str(run), "--steps", str(steps),
                 "--batch", "4", "--grid", "0", "--quiet"]) == 0
    assert main(["distill", "--run", str(run), "--steps", str(steps), "--set", "segmenter.batch=2",
                 "segmenter.bn_recalibration=2", "--quiet"]) == 0
