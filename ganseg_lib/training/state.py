"""What a GAN run needs to continue: networks, optimisers, samplers, RNG states, and their checkpoint.

Everything random comes from one sampling generator per rank whose state goes into the
checkpoint with the global torch, numpy and Python states, so a resumed run continues the
exact same sequence.
"""
from __future__ import annotations

import copy
import hashlib
import os
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..checkpoint import CheckpointError, load_checkpoint, state_to_float
from ..config import GANSegConfig, from_dict, to_dict
from ..model import Discriminator, Generator
from .augment import AdaptiveP

CHECKPOINT = "checkpoint.pt"  # latest GAN checkpoint inside a run folder


@dataclass
class GANState:
    """Everything a run needs to continue."""

    cfg: GANSegConfig
    g: Generator
    d: Discriminator
    g_ema: Generator
    opt_g: torch.optim.Optimizer
    opt_d: torch.optim.Optimizer
    sampler: torch.Generator  # latents and real-batch indices of this rank
    step: int = 0  # completed iterations
    elapsed: float = 0.0  # training seconds so far, over all resumes
    ada: AdaptiveP | None = None  # adaptive augmentation strength, when cfg.augment.ada_target > 0


def adam(params, lr: float, betas: tuple[float, float]) -> torch.optim.Adam:
    """Adam with the fused kernel (one pass over all parameters), much faster than the
    per-parameter loop for the small CPU models, where the optimiser is a visible share."""
    return torch.optim.Adam(params, lr=lr, betas=betas, fused=True)


def sampler_seed(seed: int, rank: int) -> int:
    """Seed of rank `rank`'s sampling generator."""
    return seed * 1000003 + rank


def build_state(cfg: GANSegConfig, device: torch.device, seed: int, rank: int = 0) -> GANState:
    torch.manual_seed(seed)  # same initial weights on every rank
    g, d = Generator(cfg).to(device), Discriminator(cfg).to(device)
    g_ema = copy.deepcopy(g).eval().requires_grad_(False)
    t = cfg.train
    opt_g = adam(g.parameters(), t.lr_g, t.betas)
    opt_d = adam(d.parameters(), t.lr_d, t.betas)
    sampler = torch.Generator().manual_seed(sampler_seed(seed, rank))
    a = cfg.augment
    ada = AdaptiveP(a.ada_target, a.ada_speed_images, t.batch, p=a.p) if a.policy and a.ada_target > 0 else None
    return GANState(cfg, g, d, g_ema, opt_g, opt_d, sampler, ada=ada)


def rng_states() -> dict:
    """The global torch, numpy, Python (and CUDA) RNG states as checkpoint-safe values."""
    np_state = np.random.get_state()
    states = {
        "torch": torch.get_rng_state(),
        "numpy": [np_state[0], torch.from_numpy(np_state[1].astype(np.int64)), *np_state[2:]],
        "python": random.getstate(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def set_rng_states(states: dict) -> None:
    """Inverse of `rng_states`."""
    torch.set_rng_state(states["torch"])
    kind, key, *rest = states["numpy"]
    np.random.set_state((kind, key.numpy().astype(np.uint32), *rest))
    random.setstate(_tuples(states["python"]))
    if "cuda" in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])


def _tuples(x):
    return tuple(_tuples(v) for v in x) if isinstance(x, (list, tuple)) else x


def gan_payload(state: GANState, data_id: dict, seed: int, world: int, sampler_states: list[torch.Tensor]) -> dict:
    return {
        "config": to_dict(state.cfg), "step": state.step, "elapsed": state.elapsed, "seed": seed, "world": world,
        "data": data_id,
        "g": state.g.state_dict(), "d": state.d.state_dict(), "g_ema": state.g_ema.state_dict(),
        "opt_g": state.opt_g.state_dict(), "opt_d": state.opt_d.state_dict(),
        "rng": rng_states(), "samplers": sampler_states,
        "ada": state.ada.state_dict() if state.ada is not None else None,
    }


def load_payload(state: GANState, ck: dict) -> None:
    """Networks, optimisers, step counters and global RNG states of a GAN checkpoint into `state`."""
    state.g.load_state_dict(ck["g"])
    state.d.load_state_dict(ck["d"])
    state.g_ema.load_state_dict(ck["g_ema"])
    state.opt_g.load_state_dict(ck["opt_g"])
    state.opt_d.load_state_dict(ck["opt_d"])
    state.step, state.elapsed = ck["step"], ck["elapsed"]
    if state.ada is not None and ck.get("ada") is not None:
        state.ada.load_state_dict(ck["ada"])
    set_rng_states(ck["rng"])


def load_gan(path: str | os.PathLike, device: str | torch.device = "cpu") -> tuple[GANSegConfig, Generator, dict]:
    """The EMA generator of a GAN checkpoint (eval mode) with its config and the raw checkpoint."""
    ck = load_checkpoint(path, ("gan", "course"))
    cfg = from_dict(ck["config"])
    g = Generator(cfg)
    g.load_state_dict(state_to_float(ck["g_ema"]))
    return cfg, g.to(device).eval().requires_grad_(False), ck


def data_fingerprint(images: torch.Tensor) -> dict:
    """Size and SHA-256 of the training images, to refuse resuming on different data."""
    return {"n": int(images.shape[0]), "shape": list(images.shape[1:]),
            "sha256": hashlib.sha256(images.contiguous().numpy().tobytes()).hexdigest()}


def architecture(cfg: GANSegConfig) -> tuple:
    """What a resumed run cannot change: the networks, the batch and the optimiser settings."""
    t = cfg.train
    return cfg.generator, cfg.discriminator, t.batch, t.lr_g, t.lr_d, tuple(t.betas)


def checkpoint_step(path: Path) -> int | str:
    """The step a GAN checkpoint was written at, or "?" when it cannot be read."""
    try:
        return load_checkpoint(path, "gan")["step"]
    except CheckpointError:
        return "?"
