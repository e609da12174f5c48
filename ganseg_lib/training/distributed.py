"""Several processes (`torchrun --nproc_per_node=N`): joining the group and keeping ranks identical.

Each rank draws its own data and noise; gradients and BatchNorm statistics are averaged with
one flat all-reduce per list of tensors, so all ranks keep identical weights.  With one
process every function here is a no-op (or returns its input).
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn


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


def leave_group(clean: bool) -> None:
    """Close this process's group (a no-op without one).

    After a clean run every rank first meets the others at a barrier, so that no rank tears down
    its gloo connections while a peer is still sending or receiving on them: a peer that closes
    early can make the other process abort ("terminate called without an active exception").
    After a failure it closes at once, since the other ranks may never reach the barrier.
    """
    if not dist.is_initialized():
        return
    if clean:
        dist.barrier()
    dist.destroy_process_group()


def rank() -> int:
    """This process's rank (0 without a process group)."""
    return dist.get_rank() if dist.is_initialized() else 0


def all_reduce_mean(tensors: list[torch.Tensor], world: int) -> None:
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


def sync_grads(module: nn.Module, loss: torch.Tensor, world: int) -> torch.Tensor:
    """Average gradients across ranks; returns a bool tensor, true when every rank's loss is finite
    (checked in the same all-reduce).  It stays on the device: reading it is the caller's choice."""
    bad = (~torch.isfinite(loss.detach())).float().reshape(1)
    all_reduce_mean([bad] + [p.grad for p in module.parameters() if p.grad is not None], world)
    return bad[0] == 0.0


def sync_buffers(module: nn.Module, world: int) -> None:
    """Average the floating buffers (BatchNorm statistics) across ranks."""
    all_reduce_mean([b for b in module.buffers() if b.is_floating_point()], world)


def broadcast_module(module: nn.Module, world: int) -> None:
    """Rank 0's parameters and buffers on every rank."""
    if world > 1:
        for t in list(module.parameters()) + list(module.buffers()):
            dist.broadcast(t.data, 0)


def agree(flag: bool, info: DistInfo) -> bool:
    """True on every rank when it is true on rank 0 (ranks must stop at the same step)."""
    if info.world == 1:
        return flag
    t = torch.tensor([1.0 if flag else 0.0], device=info.device)
    dist.broadcast(t, 0)
    return bool(t.item())


def gather_states(state: torch.Tensor, world: int) -> list[torch.Tensor]:
    """Every rank's copy of `state` (e.g. a sampler's RNG state), in rank order."""
    if world == 1:
        return [state]
    parts = [torch.empty_like(state) for _ in range(world)]
    dist.all_gather(parts, state)
    return parts
