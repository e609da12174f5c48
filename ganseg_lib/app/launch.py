"""`ganseg train --procs N`: N training processes on this machine, started by the command itself.

It does what `torchrun --standalone --nproc_per_node=N -m ganseg_lib train ... --batch B/N` does
(the documented multi-process path, `training/distributed.py`), without torchrun: each rank
gets the environment torchrun would give it (RANK, WORLD_SIZE, LOCAL_RANK, a free MASTER_PORT
on 127.0.0.1) and its share of the threads (OMP_NUM_THREADS, else the cores, divided by N),
and the global batch (the preset's, or `--batch`) is split evenly over the ranks.  The result
is the same checkpoint, bit for bit, as the torchrun command.  On a resumed run the batch per
process recorded in the checkpoint is kept, as under torchrun.

Only rank 0 reports an error; the launcher waits for every rank and returns rank 0's exit
status (or the first non-zero one).  When one rank dies, the others, which would wait for it
in their next all-reduce, are stopped.

Measured on a 2-core CPU (`benchmarks/measured/procs-*.json`): at equal global batch two
processes of one thread were 2 % slower than one process of two threads for `cpu-tiny` and 5 %
faster for `cpu-small`, so one process stays the default.
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import socket
import sys
import time

import torch

from .data import CLIError

WAIT_AFTER_FAILURE_S = 10.0  # how long the other ranks get to finish after one failed


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rank_environment(rank: int, world: int, port: int) -> dict[str, str]:
    """The variables torchrun sets for one rank of a standalone job on this machine."""
    return {"RANK": str(rank), "WORLD_SIZE": str(world), "LOCAL_RANK": str(rank), "LOCAL_WORLD_SIZE": str(world),
            "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port)}


def batch_per_process(global_batch: int, procs: int) -> int:
    if global_batch % procs:
        raise CLIError(f"--procs {procs} must divide the batch ({global_batch} images per step); "
                       f"choose --batch {global_batch - global_batch % procs or procs} or another --procs")
    return global_batch // procs


def threads_per_process(procs: int) -> int:
    """The threads this process would use (OMP_NUM_THREADS, else the cores), shared out over procs."""
    return max(1, torch.get_num_threads() // procs)


def _rank_main(rank: int, world: int, port: int, threads: int, args: argparse.Namespace) -> None:
    os.environ.update(rank_environment(rank, world, port), OMP_NUM_THREADS=str(threads))
    torch.set_num_threads(threads)
    from .cli import run_command  # the command itself, in this rank

    sys.exit(run_command(args, report_errors=rank == 0))  # which leaves the process group


def launch(args: argparse.Namespace, global_batch: int) -> int:
    """Run `args.func(args)` (a `ganseg train` command) on args.procs local ranks; its exit status."""
    procs = args.procs
    if "WORLD_SIZE" in os.environ and int(os.environ["WORLD_SIZE"]) > 1:
        raise CLIError("--procs starts its own processes; under torchrun leave it out")
    if args.device.startswith("cuda") and procs > torch.cuda.device_count():
        raise CLIError(f"--procs {procs} on {args.device} needs {procs} GPUs (one per process); "
                       f"this machine has {torch.cuda.device_count()}")
    child = argparse.Namespace(**vars(args))
    child.procs = 1
    if not args.resume:
        child.batch = batch_per_process(global_batch, procs)
    port, threads = free_port(), threads_per_process(procs)
    ctx = mp.get_context("spawn")
    ranks = [ctx.Process(target=_rank_main, args=(r, procs, port, threads, child)) for r in range(procs)]
    for p in ranks:
        p.start()
    try:
        return _wait(ranks)
    except KeyboardInterrupt:  # the ranks got the same signal; give them their own clean stop
        for p in ranks:
            p.join(WAIT_AFTER_FAILURE_S)
        raise
    finally:
        for p in ranks:
            if p.is_alive():
                p.kill()
                p.join()


def _wait(ranks: list) -> int:
    deadline = None
    while any(p.is_alive() for p in ranks):
        failed = [p for p in ranks if p.exitcode not in (None, 0)]
        if failed and deadline is None:
            deadline = time.monotonic() + WAIT_AFTER_FAILURE_S
        if deadline is not None and time.monotonic() > deadline:
            break
        time.sleep(0.2)
    failed = [p.exitcode for p in ranks if p.exitcode not in (None, 0)]  # rank 0's first
    if not failed:
        return 0
    return failed[0] if failed[0] > 0 else 128 - failed[0]  # killed by a signal: the shell's 128 + N
