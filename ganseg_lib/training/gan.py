"""GAN training (Sec. 3.4): alternating D and G steps, lazy regularisers, an EMA generator.

One iteration ("step") is one D update followed by one G update:

    D: L_GAN(D) (eq. 14) on a real batch and a fresh fake batch made under no_grad, plus the R1
       penalty (eq. 15) every `loss.r1_interval` steps, scaled by the interval (lazy R1).
    G: L_GAN(G) (eq. 13), plus lambda_con L_con (eq. 16) + lambda_area L_area (eq. 17) every
       `loss.reg_interval` steps, scaled by that interval.
    EMA: g_ema <- decay * g_ema + (1 - decay) * g, parameters and BatchNorm statistics alike.

Real batches are random index tensors into the whole training split held as uint8 in memory
(no loader processes).  Resuming (`state`) continues the exact same random sequence: killed
and resumed on CPU, a run reaches the same weights as one that was never interrupted.

Several processes (`distributed`): each draws its real images from its own shard of the data
and its own noise; only rank 0 writes files.

No host synchronisation per step: the steps return their statistics as tensors on the device,
which are summed there and read once per log row (every `train.log_every` steps).  A NaN or
infinite loss on any rank is recorded on the device with its step; the loop reads that record
at each log row and before each checkpoint and stops every rank there, so a checkpoint never
holds weights updated by a non-finite step (the last good one is kept).  Only adaptive
augmentation (ADA) reads D's signs on the host, every few steps.
"""
from __future__ import annotations

import json
import os
import random
import shutil
import time
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from .. import losses
from ..checkpoint import (CheckpointError, atomic_write, atomic_write_text, load_checkpoint, partial_writes,
                          save_checkpoint)
from ..config import ALIVE_MASS, GANSegConfig, from_dict, to_dict
from ..model import Generator
from ..model.generator import from_host
from ..viz import sample_grid, save_figure
from .augment import augment, jitter_reals
from .distributed import DistInfo, agree, broadcast_module, gather_states, init_distributed, sync_buffers, sync_grads
from .log import LOG, Averager, append_log, log_fields, trim_log
from .numerics import flush_subnormals
from .state import (CHECKPOINT, GANState, architecture, build_state, checkpoint_step, data_fingerprint, gan_payload,
                    load_payload, sampler_seed)


class TrainingDiverged(RuntimeError):
    """A loss became NaN or infinite; the last good checkpoint is left as it was."""


# --------------------------------------------------------------------------------------------
# the two steps

def real_batch(images: torch.Tensor, index: torch.Tensor, device: torch.device | str) -> torch.Tensor:
    """uint8 (N, 3, S, S) and an index (B,) -> float (B, 3, S, S) in [-1, 1] on device.
    Images held on the device are indexed there (the loop keeps them on the GPU); from the host
    the batch goes through pinned memory, so neither way waits for the GPU."""
    device = torch.device(device)
    if images.device.type == device.type:
        batch = images[index if index.device == images.device else from_host(index, images.device)]
    else:
        batch = from_host(images[index], device)
    return batch.float().mul_(2.0 / 255.0).sub_(1.0)


def d_step(g: Generator, d: nn.Module, opt_d: torch.optim.Optimizer, real: torch.Tensor, latents,
           cfg: GANSegConfig, do_r1: bool, world: int = 1, autocast=nullcontext,
           d_input: Callable[[torch.Tensor], torch.Tensor] | None = None) -> dict[str, torch.Tensor]:
    """One discriminator update: eq. 14, plus lazy R1 (eq. 15) when do_r1.

    `d_input` (e.g. a differentiable augmentation, augment.py) maps real and fake images alike
    before D sees them; R1 is still taken with respect to the real images themselves.
    Returns 0-dim tensors on the device (nothing is read on the host), "d_finite" among them."""
    with torch.no_grad(), autocast():
        fake = g(latents).image
    real = real.detach().requires_grad_(do_r1)
    both = torch.cat([real, fake.to(real.dtype)])
    if d_input is not None:
        both = d_input(both)
    sizes = [real.shape[0], fake.shape[0]]
    with autocast():
        if cfg.discriminator.minibatch_std_group > 0:  # batch statistics: real and fake never share a group
            logits = torch.cat([d(x) for x in both.split(sizes)]).float()
        else:
            logits = d(both).float()  # D has no batch statistics: one pass
    real_logits, fake_logits = logits.split(sizes)
    loss = losses.discriminator_loss(real_logits, fake_logits)
    detached = real_logits.detach()
    stats = {"d_loss": loss.detach(), "real_logit": detached.mean(), "fake_logit": fake_logits.detach().mean(),
             "real_sign": detached.sign().mean()}
    if do_r1:
        r1 = losses.r1_penalty(real_logits, real, cfg.loss.r1_gamma, cfg.loss.r1_interval)
        stats["r1"] = r1.detach()
        loss = loss + r1
    opt_d.zero_grad(set_to_none=True)
    loss.backward()
    stats["d_finite"] = sync_grads(d, loss, world)
    opt_d.step()  # a non-finite step is caught by the loop before anything is saved
    return stats


def g_step(g: nn.Module, d: nn.Module, opt_g: torch.optim.Optimizer, latents, cfg: GANSegConfig,
           do_reg: bool, world: int = 1, autocast=nullcontext,
           d_input: Callable[[torch.Tensor], torch.Tensor] | None = None) -> dict[str, torch.Tensor]:
    """One generator update: eq. 13, plus the concentration and area losses (eq. 16-17) when do_reg.

    Each regularised step also reports each part's mass (mean mask value: the share of the image
    it covers) and how many parts cover at least ALIVE_MASS of it.  Like `d_step`, it returns
    0-dim tensors on the device, "g_finite" among them."""
    d.requires_grad_(False)  # D's weights are not updated here: skip their gradients
    try:
        with autocast():
            out = g(latents)
            seen = out.image if d_input is None else d_input(out.image)
            loss = losses.generator_loss(d(seen).float())
        stats = {"g_loss": loss.detach()}
        if do_reg:
            part_masks = out.masks[:, :-1].float()  # (B, K, S, S), background excluded
            con = losses.concentration_loss(part_masks, out.part_centers.float())
            area = losses.area_loss(out.heatmaps.float(), part_masks)
            stats.update(con=con.detach(), area=area.detach())
            mass = part_masks.detach().mean(dim=(0, 2, 3))  # (K,) share of the image per part
            stats.update({f"mass{k}": m for k, m in enumerate(mass.unbind())},
                         alive_parts=(mass >= ALIVE_MASS).sum().float())
            lc = cfg.loss
            loss = loss + losses.lazy(lc.lambda_con * con + lc.lambda_area * area, lc.reg_interval)
        opt_g.zero_grad(set_to_none=True)
        loss.backward()
    finally:
        d.requires_grad_(True)
    stats["g_finite"] = sync_grads(g, loss, world)
    opt_g.step()
    sync_buffers(g, world)  # BatchNorm statistics
    return stats


def forward_autocast(device_type: str, bf16: bool) -> Callable:
    """The context the forward passes of `iteration` run under: bfloat16 autocast, or none."""
    return (lambda: torch.autocast(device_type, dtype=torch.bfloat16)) if bf16 else nullcontext


def to_channels_last(state: GANState) -> None:
    """Put G, D and the EMA generator in channels_last layout (their feature maps follow)."""
    for m in (state.g, state.d, state.g_ema):
        m.to(memory_format=torch.channels_last)


def iteration(state: GANState, cfg: GANSegConfig, real: torch.Tensor, d_latents, g_latents, step: int,
              world: int = 1, autocast=nullcontext, compiled: tuple[nn.Module, nn.Module] | None = None
              ) -> dict[str, torch.Tensor | float]:
    """Training iteration `step` (1-based), as `train` runs it: a D step with R1 on its lazy
    interval, a G step with the mask losses on theirs, then the EMA update.  The statistics are
    tensors on the device; "finite" is true when both steps' losses were.

    `compiled` = (torch.compile(state.g), torch.compile(state.d)) runs the forward passes through
    them, except D's in R1 steps: R1 differentiates D's gradient (a double backward), which a
    compiled D cannot do, so those steps use the eager D (the same weights)."""
    lc = cfg.loss
    g_fwd, d_fwd = compiled if compiled is not None else (state.g, state.d)
    do_r1 = step % lc.r1_interval == 0
    d_input = d_augmentation(state, cfg)
    stats = d_step(g_fwd, state.d if do_r1 else d_fwd, state.opt_d, real, d_latents, cfg, do_r1=do_r1,
                   world=world, autocast=autocast, d_input=d_input)
    if state.ada is not None:
        state.ada.observe(stats["real_sign"])
    stats |= g_step(g_fwd, d_fwd, state.opt_g, g_latents, cfg, do_reg=step % lc.reg_interval == 0,
                    world=world, autocast=autocast, d_input=d_input)
    if d_input is not None:
        stats["aug_p"] = augmentation_p(state, cfg)
    ema_update(state.g_ema, state.g, cfg.train.ema_decay)
    stats["finite"] = stats.pop("d_finite") & stats.pop("g_finite")
    return stats


def augmentation_p(state: GANState, cfg: GANSegConfig) -> float:
    """This iteration's augmentation probability: the adaptive controller's, or the config's fixed p."""
    return state.ada.p if state.ada is not None else cfg.augment.p


def d_augmentation(state: GANState, cfg: GANSegConfig) -> Callable[[torch.Tensor], torch.Tensor] | None:
    """The augmentation of D's inputs for this iteration (augment.py), or None when it is off.
    Its randomness comes from the run's sampler, so resuming draws the same augmentations."""
    policy = cfg.augment.policy
    if not policy:
        return None
    p = augmentation_p(state, cfg)
    return lambda images: augment(images, policy, p, state.sampler)


@torch.no_grad()
def ema_update(ema: nn.Module, model: nn.Module, decay: float) -> None:
    """ema <- decay * ema + (1 - decay) * model for parameters and floating buffers; others copied."""
    for e, m in zip(ema.parameters(), model.parameters()):
        e.lerp_(m, 1.0 - decay)
    for e, m in zip(ema.buffers(), model.buffers()):
        if e.is_floating_point():
            e.lerp_(m, 1.0 - decay)
        else:
            e.copy_(m)


def stop_if_diverged(first_bad: torch.Tensor) -> None:
    """Raise TrainingDiverged when the device-side record holds a step whose D or G loss was NaN
    or infinite (reading it is a host synchronisation: the loop does it once per log row)."""
    step = int(first_bad)
    if step:
        raise TrainingDiverged(f"a loss became NaN or infinite at step {step}")


def _fmt(stats: dict[str, float]) -> str:
    return ", ".join(f"{k}={v:.4g}" for k, v in stats.items())


# --------------------------------------------------------------------------------------------
# the loop

@dataclass(frozen=True)
class TrainOptions:
    """How `train` runs (what it trains is the config)."""

    resume: bool = False  # continue from run_dir/checkpoint.pt
    seed: int = 0  # weights, noise and real-batch order (a resumed run keeps its own)
    device: str = "cpu"  # "cpu" or "cuda"
    bf16: bool = False  # bfloat16 autocast (GPU)
    channels_last: bool = False  # channels_last memory format (GPU)
    compile: str = ""  # torch.compile backend for G and the non-R1 D passes, e.g. "inductor"; "" = eager
    progress: bool = True  # show a progress bar
    time_budget_s: float | None = None  # stop early (with a checkpoint) after this many seconds of this call
    grid_samples: int = 32  # images per sample grid (0: no grids)
    keep_every: int = 0  # > 0: also keep checkpoint_stepXXXXXX.pt at every multiple of this many steps
    log: Callable[[str], None] = print  # where notes go


def save_sample_grid(g_ema: Generator, latents, path: Path, title: str) -> None:
    with torch.no_grad():
        out = g_ema(latents)
    fig = sample_grid(out.image.cpu(), out.masks.cpu(), out.points.cpu(), out.part_centers.cpu(), ncols=8, title=title)
    save_figure(fig, path)


def _check_images(cfg: GANSegConfig, images: torch.Tensor) -> None:
    size = cfg.generator.image_size
    if images.dtype != torch.uint8 or images.dim() != 4 or tuple(images.shape[1:]) != (3, size, size):
        raise ValueError(f"training images must be uint8 (N, 3, {size}, {size}) for preset {cfg.name!r}, "
                         f"got {images.dtype} {tuple(images.shape)}")


def _start(cfg: GANSegConfig, ckpt_path: Path, data_id: dict, opts: TrainOptions, info: DistInfo) -> tuple[GANState, int]:
    """A fresh state, or the checkpoint's when resuming; returns it with the run's seed."""
    seed = opts.seed
    if not opts.resume:
        state = build_state(cfg, info.device, seed, info.rank)
        torch.manual_seed(seed)
        np.random.seed(seed % 2**32)
        random.seed(seed)
        return state, seed
    ck = load_checkpoint(ckpt_path, "gan")
    if architecture(from_dict(ck["config"])) != architecture(cfg):
        raise CheckpointError(f"{ckpt_path} was made with another generator, discriminator, batch or "
                              "learning rate; resume with the run's own config")
    if ck["data"]["sha256"] != data_id["sha256"]:
        raise CheckpointError(f"{ckpt_path} was trained on other data ({ck['data']['n']} images); "
                              "resume with the same --data file")
    seed = ck["seed"]
    state = build_state(cfg, info.device, seed, info.rank)
    load_payload(state, ck)
    if ck["world"] == info.world:
        state.sampler.set_state(ck["samplers"][info.rank])
    else:  # every rank re-seeds (from the step, so that the noise is new), only the main one says so
        state.sampler.manual_seed(sampler_seed(seed, info.rank) + 7919 * state.step)
        if info.main:
            opts.log(f"note: checkpoint made with {ck['world']} processes, resuming with {info.world}: "
                     "the noise sequence restarts from a new seed")
    return state, seed


def train(cfg: GANSegConfig, images: torch.Tensor, run_dir: str | os.PathLike,
          options: TrainOptions = TrainOptions()) -> GANState:
    """Train (or continue training) a GAN on uint8 `images` (N, 3, S, S) until cfg.train.steps.

    Writes into run_dir: checkpoint.pt (atomic, every train.checkpoint_every steps and at the
    end), samples/step_XXXXXX.png, log.csv, config.json.  With options.resume the run continues
    from run_dir/checkpoint.pt; `cfg` must then match the checkpoint's networks, batch and
    learning rates (loss weights, steps and intervals may change, e.g. to branch a run).
    """
    opts = options
    info = init_distributed(opts.device)
    flush_subnormals(info.device)  # numerics.py: subnormal gradients make CPU iterations crawl
    run_dir = Path(run_dir)
    ckpt_path = run_dir / CHECKPOINT
    fields = log_fields(cfg.generator.n_parts)
    _check_images(cfg, images)
    data_id = data_fingerprint(images)
    state, seed = _start(cfg, ckpt_path, data_id, opts, info)
    for m in (state.g, state.d, state.g_ema):
        broadcast_module(m, info.world)
    if opts.channels_last:
        to_channels_last(state)

    t = cfg.train
    shard = images[info.rank::info.world]  # this rank's share of the real images
    if info.device.type == "cuda":
        shard = shard.to(info.device)
    fixed = state.g_ema.sample_latents(max(opts.grid_samples, 1),
                                       generator=torch.Generator().manual_seed(seed + 12345), device=info.device)
    autocast = forward_autocast(info.device.type, opts.bf16)
    compiled = (torch.compile(state.g, backend=opts.compile), torch.compile(state.d, backend=opts.compile)) \
        if opts.compile else None

    if info.main:
        run_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_text(run_dir / "config.json", json.dumps(to_dict(cfg), indent=2) + "\n")
        if opts.resume:
            trim_log(run_dir / LOG, state.step, fields)
            partial = partial_writes(ckpt_path)  # saves cut short by a kill
            for p in partial:
                p.unlink()
            if partial:
                opts.log(f"note: removed {len(partial)} partial checkpoint file(s) left by an interrupted save; "
                         f"{ckpt_path} (step {state.step}) was intact")
        elif (run_dir / LOG).exists():
            (run_dir / LOG).unlink()

    def checkpoint() -> None:
        samplers = gather_states(state.sampler.get_state(), info.world)  # every rank takes part
        if info.main:
            save_checkpoint(ckpt_path, gan_payload(state, data_id, seed, info.world, samplers), "gan")
            if opts.keep_every and state.step % opts.keep_every == 0:
                atomic_write(run_dir / f"checkpoint_step{state.step:06d}.pt",
                             lambda tmp: shutil.copyfile(ckpt_path, tmp))
        if info.main and opts.grid_samples:
            save_sample_grid(state.g_ema, fixed, run_dir / "samples" / f"step_{state.step:06d}.png",
                             f"{cfg.name}, step {state.step} (EMA generator)")

    bar = tqdm(total=t.steps, initial=state.step, disable=(None if opts.progress else True) if info.main else True,
               desc=f"train {cfg.name}", unit="it", dynamic_ncols=True)
    avg = Averager()
    first_bad = torch.zeros((), dtype=torch.long, device=info.device)  # first step with a non-finite loss; 0: none
    state.g.train()
    last_time, last_step, last_elapsed = time.perf_counter(), state.step, state.elapsed
    deadline = None if opts.time_budget_s is None else last_time + opts.time_budget_s
    try:
        while state.step < t.steps:
            step = state.step + 1
            latents = state.g.sample_latents(t.batch, generator=state.sampler, device=info.device)
            index = torch.randint(len(shard), (t.batch,), generator=state.sampler)
            real = real_batch(shard, index, info.device)
            aug = cfg.augment
            if aug.jitters_reals:
                real = jitter_reals(real, aug.real_zoom, aug.real_shift, aug.real_flip, state.sampler)
            if opts.channels_last:
                real = real.contiguous(memory_format=torch.channels_last)
            g_latents = state.g.sample_latents(t.batch, generator=state.sampler, device=info.device)
            stats = iteration(state, cfg, real, latents, g_latents, step, world=info.world, autocast=autocast,
                              compiled=compiled)
            first_bad = torch.where(stats.pop("finite") | (first_bad > 0), first_bad, step)  # on the device
            state.step = step
            avg.add(stats)
            now = time.perf_counter()
            state.elapsed += now - last_time
            last_time = now
            bar.update(1)
            out_of_time = deadline is not None and agree(time.perf_counter() > deadline, info)
            last = step == t.steps or out_of_time  # the last step is always logged and saved
            log_now = step % t.log_every == 0 or last
            save_now = step % t.checkpoint_every == 0 or last
            if log_now or save_now:
                stop_if_diverged(first_bad)  # the one host read of the finiteness record
            if log_now:
                row = avg.pop()
                rate = (step - last_step) / max(1e-9, state.elapsed - last_elapsed)
                row |= {"step": step, "elapsed_s": state.elapsed, "it_per_s": rate}
                last_elapsed, last_step = state.elapsed, step
                bar.set_postfix_str(_fmt({k: row[k] for k in ("d_loss", "g_loss") if k in row}), refresh=False)
                if info.main:
                    append_log(run_dir / LOG, row, fields)
            if save_now:
                checkpoint()
            if out_of_time:
                if info.main:
                    opts.log(f"time budget of {opts.time_budget_s:.0f} s reached at step {step}")
                break
    except TrainingDiverged as err:
        kept = f"the last good checkpoint {ckpt_path} (step {checkpoint_step(ckpt_path)}) is kept" \
            if ckpt_path.exists() else "no checkpoint had been written yet"
        raise TrainingDiverged(f"training stopped: {err}; {kept}; "
                               "try lower learning rates (--set train.lr_g=... train.lr_d=...)") from None
    finally:
        bar.close()
    return state
