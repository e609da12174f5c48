"""Subnormal floats on CPU: why the first iterations of a large model can be many times slower.

A float32 below 1.2e-38 in magnitude (a subnormal) makes x86 arithmetic take a slow microcode
path, tens of times slower per operation.  GAN training makes them: one Adam step moves every
weight of a deep discriminator at once, and the 128-px `paper-fast` D scores fakes at -87 to
-108 after its first step (seed 0); the loss's gradient there (a sigmoid of the logit) is 1e-38
to 1e-47, subnormal, and every convolution backward that carries it crawls until D settles.
Measured on the `paper-fast` iteration at batch 1, one thread: 26.8 s with subnormals kept,
3.8 s with them read as zero (`python -m benchmarks.bench_iteration --keep-subnormals`
measures the difference at any preset and batch).

Flushing them to zero (the x86 FTZ/DAZ modes) changes results only where a value was already
below 1.2e-38, far under anything training can resolve.  The mode belongs to the process (and to
the threads it starts afterwards) and stays set; torch offers no way to read it back.
"""
from __future__ import annotations

import torch


def flush_subnormals(device: torch.device | str) -> bool:
    """On CPU, read and write subnormal floats as zero from now on; True when the CPU supports it."""
    return torch.device(device).type == "cpu" and torch.set_flush_denormal(True)
