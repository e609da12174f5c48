"""GAN training (Sec. 3.4): alternating D and G steps, lazy regularisers, an EMA generator.

One iteration ("step") is one D update followed by one G update:

    D: L_GAN(D) (eq. 14) on a real batch and a fresh fake batch made under no_grad, plus the R1
       penalty (eq. 15) every `loss.r1_interval` steps, scaled by the interval (lazy R1).
    G: L_GAN(G) (eq. 13), plus lambda_con L_con (eq. 16) + lambda_area L_area (eq. 17) every
       `loss.reg_interval` steps, scaled by that interval.
    EMA: g_ema <- decay * g_ema + (1 - decay) * g, parameters and BatchNorm statistics alike.

Real batches are random index tensors into the whole training split held as uint8 in memory
(no loader processes).  Everything random comes from one sampling generator whose state goes
into the checkpoint with the global torch, numpy and Python states, so `resume` continues the
exact same sequence: killed and resumed on CPU, a run reaches the same weights as one that was
never interrupted.

Several processes (`torchrun --nproc_per_node=N`): each draws its real images from its own
shard of the data and its own noise; gradients are averaged with one all-reduce per network
(and the BatchNorm statistics with another), so all ranks keep identical weights; only rank 0
writes files.  A non-finite loss on any rank stops every rank before the optimiser step.
"""
from __future__ import annotations

import copy
import csv
import hashlib
import math
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
import torch.distributed as dist
from torch import nn

from . import losses
from .checkpoint import CheckpointError, atomic_write, atomic_write_text, load_checkpoint, save_checkpoint
from .config import GANSegConfig, from_dict, to_dict
from .discriminator import Discriminator
from .generator import Generator

CHECKPOINT = "checkpoint.pt"  # latest GAN checkpoint inside a run folder
LOG = "log.csv"
LOG_FIELDS = ["step", "elapsed_s", "it_per_s", "d_loss", "g_loss", "r1", "con", "area", "real_logit", "fake_logit"]


class TrainingDiverged(RuntimeError):
    """A loss became NaN or infinite; the last good checkpoint is left as it was."""


# --------------------------------------------------------------------------------------------
# processes

@dataclass(frozen=True)
class DistInfo:
    rank: int  # this process, 0..world-1
    world: int  # number of processes
    device: torch.device

    @property
    def main(self) -> bool:
        return self.rank == 0


def init_distributed(device: str = "cpu") -> DistInfo:
    """Join the process group when launched by torchrun (WORLD_SIZE > 1): gloo on CPU, nccl on GPU."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and not dist.is_initialized():
        backend = "nccl" if device.startswith("cuda") else "gloo"
        dist.init_process_group(backend)
    rank = dist.get_rank() if dist.is_initialized() else 0
    world = dist.get_world_size() if dist.is_initialized() else 1
    dev = torch.device(device)
    if dev.type == "cuda":
        dev = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(dev)
    return DistInfo(rank, world, dev)


def _all_reduce_mean(tensors: list[torch.Tensor], world: int) -> None:
    """Average a list of tensors across ranks in place, as one flat all-reduce."""
    if world == 1 or not tensors:
        return
    flat = torch.cat([t.reshape(-1) for t in tensors])
    dist.all_reduce(flat)
    flat /= world
    offset = 0
    for t in tensors:
        t.copy_(flat[offset:offset + t.numel()].view_as(t))
        offset += t.numel()


def _sync_grads(module: nn.Module, loss: torch.Tensor, world: int) -> bool:
    """Average gradients across ranks; True when every rank's loss is finite (checked together)."""
    bad = torch.tensor([0.0 if math.isfinite(loss.item()) else 1.0], device=loss.device)
    grads = [p.grad for p in module.parameters() if p.grad is not None]
    if world > 1:
        flat = torch.cat([bad] + [g.reshape(-1) for g in grads])
        dist.all_reduce(flat)
        bad = flat[:1]
        flat = flat[1:] / world
        offset = 0
        for g in grads:
            g.copy_(flat[offset:offset + g.numel()].view_as(g))
            offset += g.numel()
    return bad.item() == 0.0


def _broadcast_module(module: nn.Module, world: int) -> None:
    if world > 1:
        for t in list(module.parameters()) + list(module.buffers()):
            dist.broadcast(t.data, 0)


# --------------------------------------------------------------------------------------------
# the two steps

def real_batch(images: torch.Tensor, index: torch.Tensor, device: torch.device) -> torch.Tensor:
    """uint8 (N, 3, S, S) and an index (B,) -> float (B, 3, S, S) in [-1, 1] on device."""
    return images[index].to(device, non_blocking=True).float().mul_(2.0 / 255.0).sub_(1.0)


def d_step(g: Generator, d: nn.Module, opt_d: torch.optim.Optimizer, real: torch.Tensor, latents,
           cfg: GANSegConfig, do_r1: bool, world: int = 1, autocast=nullcontext) -> dict[str, float]:
    """One discriminator update: eq. 14, plus lazy R1 (eq. 15) when do_r1."""
    with torch.no_grad(), autocast():
        fake = g(latents).image
    real = real.detach().requires_grad_(do_r1)
    with autocast():
        logits = d(torch.cat([real, fake.to(real.dtype)])).float()  # D has no batch statistics: one pass
    real_logits, fake_logits = logits.split([real.shape[0], fake.shape[0]])
    loss = losses.discriminator_loss(real_logits, fake_logits)
    stats = {"d_loss": loss.item(), "real_logit": real_logits.mean().item(), "fake_logit": fake_logits.mean().item()}
    if do_r1:
        r1 = losses.r1_penalty(real_logits, real, cfg.loss.r1_gamma, cfg.loss.r1_interval)
        stats["r1"] = r1.item()
        loss = loss + r1
    opt_d.zero_grad(set_to_none=True)
    loss.backward()
    if not _sync_grads(d, loss, world):
        raise TrainingDiverged(f"discriminator loss is {loss.item()} ({_fmt(stats)})")
    opt_d.step()
    return stats


def g_step(g: nn.Module, d: nn.Module, opt_g: torch.optim.Optimizer, latents, cfg: GANSegConfig,
           do_reg: bool, world: int = 1, autocast=nullcontext) -> dict[str, float]:
    """One generator update: eq. 13, plus the concentration and area losses (eq. 16-17) when do_reg."""
    d.requires_grad_(False)  # D's weights are not updated here: skip their gradients
    try:
        with autocast():
            out = g(latents)
            loss = losses.generator_loss(d(out.image).float())
        stats = {"g_loss": loss.item()}
        if do_reg:
            part_masks = out.masks[:, :-1].float()  # (B, K, S, S), background excluded
            con = losses.concentration_loss(part_masks, out.part_centers.float())
            area = losses.area_loss(out.heatmaps.float(), part_masks)
            stats.update(con=con.item(), area=area.item())
            loss = loss + cfg.loss.reg_interval * (cfg.loss.lambda_con * con + cfg.loss.lambda_area * area)
        opt_g.zero_grad(set_to_none=True)
        loss.backward()
    finally:
        d.requires_grad_(True)
    if not _sync_grads(g, loss, world):
        raise TrainingDiverged(f"generator loss is {loss.item()} ({_fmt(stats)})")
    opt_g.step()
    _all_reduce_mean([b for b in g.buffers() if b.is_floating_point()], world)  # BatchNorm statistics
    return stats


def iteration(state: GANState, cfg: GANSegConfig, real: torch.Tensor, d_latents, g_latents, step: int,
              world: int = 1, autocast=nullcontext) -> dict[str, float]:
    """Training iteration `step` (1-based), as `train` runs it: a D step with R1 on its lazy
    interval, a G step with the mask losses on theirs, then the EMA update."""
    lc = cfg.loss
    stats = d_step(state.g, state.d, state.opt_d, real, d_latents, cfg, do_r1=step % lc.r1_interval == 0,
                   world=world, autocast=autocast)
    stats |= g_step(state.g, state.d, state.opt_g, g_latents, cfg, do_reg=step % lc.reg_interval == 0,
                    world=world, autocast=autocast)
    ema_update(state.g_ema, state.g, cfg.train.ema_decay)
    return stats


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


def _fmt(stats: dict[str, float]) -> str:
    return ", ".join(f"{k}={v:.4g}" for k, v in stats.items())


# --------------------------------------------------------------------------------------------
# state, checkpoints

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


def adam(params, lr: float, betas: tuple[float, float]) -> torch.optim.Adam:
    """Adam with the fused kernel (one pass over all parameters): 6x faster steps than the
    per-parameter loop for the small CPU models, where the optimiser is a visible share."""
    return torch.optim.Adam(params, lr=lr, betas=betas, fused=True)


def build_state(cfg: GANSegConfig, device: torch.device, seed: int, rank: int = 0) -> GANState:
    torch.manual_seed(seed)  # same initial weights on every rank
    g, d = Generator(cfg).to(device), Discriminator(cfg).to(device)
    g_ema = copy.deepcopy(g).eval().requires_grad_(False)
    t = cfg.train
    opt_g = adam(g.parameters(), t.lr_g, t.betas)
    opt_d = adam(d.parameters(), t.lr_d, t.betas)
    sampler = torch.Generator().manual_seed(seed * 1000003 + rank)
    return GANState(cfg, g, d, g_ema, opt_g, opt_d, sampler)


def _rng_states() -> dict:
    np_state = np.random.get_state()
    states = {
        "torch": torch.get_rng_state(),
        "numpy": [np_state[0], torch.from_numpy(np_state[1].astype(np.int64)), *np_state[2:]],
        "python": random.getstate(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def _set_rng_states(states: dict) -> None:
    torch.set_rng_state(states["torch"])
    kind, key, *rest = states["numpy"]
    np.random.set_state((kind, key.numpy().astype(np.uint32), *rest))
    random.setstate(_tuples(states["python"]))
    if "cuda" in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])


def _tuples(x):
    return tuple(_tuples(v) for v in x) if isinstance(x, (list, tuple)) else x


def _gather_sampler_states(sampler: torch.Generator, world: int) -> list[torch.Tensor]:
    state = sampler.get_state()
    if world == 1:
        return [state]
    parts = [torch.empty_like(state) for _ in range(world)]
    dist.all_gather(parts, state)
    return parts


def gan_payload(state: GANState, data_id: dict, seed: int, world: int, sampler_states: list[torch.Tensor]) -> dict:
    return {
        "config": to_dict(state.cfg), "step": state.step, "elapsed": state.elapsed, "seed": seed, "world": world,
        "data": data_id,
        "g": state.g.state_dict(), "d": state.d.state_dict(), "g_ema": state.g_ema.state_dict(),
        "opt_g": state.opt_g.state_dict(), "opt_d": state.opt_d.state_dict(),
        "rng": _rng_states(), "samplers": sampler_states,
    }


def load_gan(path: str | os.PathLike, device: str | torch.device = "cpu") -> tuple[GANSegConfig, Generator, dict]:
    """The EMA generator of a GAN checkpoint (eval mode) with its config and the raw checkpoint."""
    ck = load_checkpoint(path, ("gan", "course"))
    cfg = from_dict(ck["config"])
    g = Generator(cfg)
    g.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in ck["g_ema"].items()})
    return cfg, g.to(device).eval().requires_grad_(False), ck


def data_fingerprint(images: torch.Tensor) -> dict:
    """Size and SHA-256 of the training images, to refuse resuming on different data."""
    return {"n": int(images.shape[0]), "shape": list(images.shape[1:]),
            "sha256": hashlib.sha256(images.contiguous().numpy().tobytes()).hexdigest()}


# --------------------------------------------------------------------------------------------
# the loop

def _trim_log(path: Path, last_step: int) -> None:
    """Drop log rows written after the checkpoint we resume from (they will be written again)."""
    if not path.exists():
        return
    with open(path, newline="") as f:
        rows = [r for r in csv.DictReader(f) if int(r["step"]) <= last_step]
    text = ",".join(LOG_FIELDS) + "\n" + "".join(",".join(r.get(k, "") for k in LOG_FIELDS) + "\n" for r in rows)
    atomic_write_text(path, text)


class _Averager:
    def __init__(self):
        self.sums: dict[str, float] = {}
        self.counts: dict[str, int] = {}

    def add(self, stats: dict[str, float]) -> None:
        for k, v in stats.items():
            self.sums[k] = self.sums.get(k, 0.0) + v
            self.counts[k] = self.counts.get(k, 0) + 1

    def pop(self) -> dict[str, float]:
        out = {k: self.sums[k] / self.counts[k] for k in self.sums}
        self.sums, self.counts = {}, {}
        return out


def save_sample_grid(g_ema: Generator, latents, path: Path, title: str) -> None:
    from .viz import sample_grid, save_figure

    with torch.no_grad():
        out = g_ema(latents)
    fig = sample_grid(out.image.cpu(), out.masks.cpu(), out.points.cpu(), out.part_centers.cpu(), ncols=8, title=title)
    save_figure(fig, path)


def train(cfg: GANSegConfig, images: torch.Tensor, run_dir: str | os.PathLike, *, resume: bool = False,
          seed: int = 0, device: str = "cpu", bf16: bool = False, channels_last: bool = False,
          progress: bool = True, callback: Callable[[int], None] | None = None, time_budget_s: float | None = None,
          grid_samples: int = 32, keep_every: int = 0, log=print) -> GANState:
    """Train (or continue training) a GAN on uint8 `images` (N, 3, S, S) until cfg.train.steps.

    Writes into run_dir: checkpoint.pt (atomic, every train.checkpoint_every steps and at the
    end), samples/step_XXXXXX.png, log.csv, config.json.  With resume=True the run continues
    from run_dir/checkpoint.pt; `cfg` must then match the checkpoint's networks, batch and
    learning rates (loss weights, steps and intervals may change, e.g. to branch a run).
    `callback(step)` runs after every completed step (tests use it to kill the process).
    `time_budget_s` stops early (with a checkpoint) once this many seconds of this call have passed.
    `grid_samples` images per sample grid (0: no grids).  `keep_every` > 0 also keeps a copy
    checkpoint_stepXXXXXX.pt whenever the step is a multiple of it (to branch or compare later).
    """
    info = init_distributed(device)
    run_dir = Path(run_dir)
    ckpt_path = run_dir / CHECKPOINT
    size = cfg.generator.image_size
    if images.dtype != torch.uint8 or images.dim() != 4 or tuple(images.shape[1:]) != (3, size, size):
        raise ValueError(f"training images must be uint8 (N, 3, {size}, {size}) for preset {cfg.name!r}, "
                         f"got {images.dtype} {tuple(images.shape)}")
    data_id = data_fingerprint(images)
    ck = None
    if resume:
        ck = load_checkpoint(ckpt_path, "gan")
        saved = from_dict(ck["config"])
        if _architecture(saved) != _architecture(cfg):
            raise CheckpointError(f"{ckpt_path} was made with another generator, discriminator, batch or "
                                  "learning rate; resume with the run's own config")
        if ck["data"]["sha256"] != data_id["sha256"]:
            raise CheckpointError(f"{ckpt_path} was trained on other data ({ck['data']['n']} images); "
                                  "resume with the same --data file")
        seed = ck["seed"]
    state = build_state(cfg, info.device, seed, info.rank)
    if ck is not None:
        state.g.load_state_dict(ck["g"])
        state.d.load_state_dict(ck["d"])
        state.g_ema.load_state_dict(ck["g_ema"])
        state.opt_g.load_state_dict(ck["opt_g"])
        state.opt_d.load_state_dict(ck["opt_d"])
        state.step, state.elapsed = ck["step"], ck["elapsed"]
        _set_rng_states(ck["rng"])
        if ck["world"] == info.world:
            state.sampler.set_state(ck["samplers"][info.rank])
        elif info.main:
            log(f"note: checkpoint made with {ck['world']} processes, resuming with {info.world}: "
                "the noise sequence restarts from a new seed")
            state.sampler.manual_seed(seed * 1000003 + info.rank + 7919 * state.step)
    else:
        torch.manual_seed(seed)
        np.random.seed(seed % 2**32)
        random.seed(seed)
    del ck
    _broadcast_module(state.g, info.world)
    _broadcast_module(state.d, info.world)
    _broadcast_module(state.g_ema, info.world)
    if channels_last:
        for m in (state.g, state.d, state.g_ema):
            m.to(memory_format=torch.channels_last)

    t = cfg.train
    shard = images[info.rank::info.world]  # this rank's share of the real images
    if info.device.type == "cuda":
        shard = shard.to(info.device)
    fixed = state.g_ema.sample_latents(max(grid_samples, 1),
                                     generator=torch.Generator().manual_seed(seed + 12345), device=info.device)
    autocast = (lambda: torch.autocast(info.device.type, dtype=torch.bfloat16)) if bf16 else nullcontext

    if info.main:
        run_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_text(run_dir / "config.json", _json(to_dict(cfg)))
        if resume:
            _trim_log(run_dir / LOG, state.step)
        elif (run_dir / LOG).exists():
            (run_dir / LOG).unlink()

    def checkpoint() -> None:
        samplers = _gather_sampler_states(state.sampler, info.world)  # every rank takes part
        if info.main:
            save_checkpoint(ckpt_path, gan_payload(state, data_id, seed, info.world, samplers), "gan")
            if keep_every and state.step % keep_every == 0:
                atomic_write(run_dir / f"checkpoint_step{state.step:06d}.pt",
                             lambda tmp: shutil.copyfile(ckpt_path, tmp))
        if info.main and grid_samples:
            save_sample_grid(state.g_ema, fixed, run_dir / "samples" / f"step_{state.step:06d}.png",
                             f"{cfg.name}, step {state.step} (EMA generator)")

    from tqdm import tqdm
    bar = tqdm(total=t.steps, initial=state.step, disable=(None if progress else True) if info.main else True,
               desc=f"train {cfg.name}", unit="it", dynamic_ncols=True)
    avg = _Averager()
    state.g.train()
    last_time, last_step, last_elapsed = time.perf_counter(), state.step, state.elapsed
    deadline = None if time_budget_s is None else last_time + time_budget_s
    try:
        while state.step < t.steps:
            step = state.step + 1
            latents = state.g.sample_latents(t.batch, generator=state.sampler, device=info.device)
            index = torch.randint(len(shard), (t.batch,), generator=state.sampler)
            real = real_batch(shard, index.to(shard.device), info.device)
            if channels_last:
                real = real.contiguous(memory_format=torch.channels_last)
            g_latents = state.g.sample_latents(t.batch, generator=state.sampler, device=info.device)
            stats = iteration(state, cfg, real, latents, g_latents, step, world=info.world, autocast=autocast)
            state.step = step
            avg.add(stats)
            now = time.perf_counter()
            state.elapsed += now - last_time
            last_time = now
            bar.update(1)
            if step % t.log_every == 0 or step == t.steps:
                row = avg.pop()
                rate = (step - last_step) / max(1e-9, state.elapsed - last_elapsed)
                row |= {"step": step, "elapsed_s": state.elapsed, "it_per_s": rate}
                last_elapsed, last_step = state.elapsed, step
                bar.set_postfix_str(_fmt({k: row[k] for k in ("d_loss", "g_loss") if k in row}), refresh=False)
                if info.main:
                    _append_log(run_dir / LOG, row)
            out_of_time = deadline is not None and _agree(time.perf_counter() > deadline, info)
            if step % t.checkpoint_every == 0 or step == t.steps or out_of_time:
                checkpoint()
            if callback is not None:
                callback(step)
            if out_of_time:
                if info.main:
                    log(f"time budget of {time_budget_s:.0f} s reached at step {step}")
                break
    except TrainingDiverged as err:
        kept = f"the last good checkpoint {ckpt_path} (step {_ckpt_step(ckpt_path)}) is kept" \
            if ckpt_path.exists() else "no checkpoint had been written yet"
        raise TrainingDiverged(f"training stopped at step {state.step + 1}: {err}; {kept}; "
                               "try lower learning rates (--set train.lr_g=... train.lr_d=...)") from None
    finally:
        bar.close()
    return state


def _architecture(cfg: GANSegConfig) -> tuple:
    """What a resumed run cannot change: the networks, the batch and the optimiser settings."""
    t = cfg.train
    return cfg.generator, cfg.discriminator, t.batch, t.lr_g, t.lr_d, tuple(t.betas)


def _agree(flag: bool, info: DistInfo) -> bool:
    """True on every rank when it is true on rank 0 (ranks must stop at the same step)."""
    if info.world == 1:
        return flag
    t = torch.tensor([1.0 if flag else 0.0], device=info.device)
    dist.broadcast(t, 0)
    return bool(t.item())


def _ckpt_step(path: Path) -> int | str:
    try:
        return load_checkpoint(path, "gan")["step"]
    except CheckpointError:
        return "?"


def _append_log(path: Path, row: dict) -> None:
    new = not path.exists()
    with open(path, "a", newline="") as f:
        if new:
            f.write(",".join(LOG_FIELDS) + "\n")
        f.write(",".join("" if row.get(k) is None else (str(row[k]) if k == "step" else f"{row[k]:.6g}")
                         for k in LOG_FIELDS) + "\n")


def _json(obj) -> str:
    import json
    return json.dumps(obj, indent=2) + "\n"
