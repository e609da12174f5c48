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
