"""Small helpers every lesson notebook uses: the fast mode switch and the environment probe.

`GANSEG_FAST=1` (set by `make test` / CI) makes training cells run a few steps or load the
shipped checkpoint; without it the lessons run the real thing.
"""
from __future__ import annotations

import importlib.util
import os

import torch


def fast_mode() -> bool:
    """True when GANSEG_FAST is set to 1/true/yes: short runs for CI."""
    return os.environ.get("GANSEG_FAST", "").strip().lower() in ("1", "true", "yes")


def in_colab() -> bool:
    """True inside Google Colab."""
    return importlib.util.find_spec("google.colab") is not None


def pick(fast_value, full_value):
    """`fast_value` in fast mode, `full_value` otherwise (steps, sizes, sample counts)."""
    return fast_value if fast_mode() else full_value


def default_device() -> torch.device:
    """CUDA when available, else CPU: lessons run on both unchanged."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def describe_runtime() -> str:
    """One line naming the device, thread count and mode, printed at the top of each lesson."""
    device = default_device()
    name = torch.cuda.get_device_name(0) if device.type == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    return f"torch {torch.__version__} on {name}; {'fast (CI) mode' if fast_mode() else 'full mode'}"
