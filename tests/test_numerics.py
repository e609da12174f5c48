"""Subnormal floats are flushed to zero where the library trains on CPU (training/numerics.py)."""
import pytest
import torch

from _tiny import tiny_config, tiny_images
from ganseg_lib.training.numerics import flush_subnormals

SUBNORMAL = 1e-40  # below float32's smallest normal, 1.18e-38


def test_flush_subnormals_reads_them_as_zero_on_cpu():
    if not flush_subnormals("cpu"):
        pytest.skip("this CPU has no flush-to-zero mode that torch can set")
    tiny = torch.tensor([SUBNORMAL * 1e10], dtype=torch.float32)  # a normal number
    assert (tiny * 1e-10).item() == 0.0  # the product would be subnormal: written as zero
    assert torch.tensor([1e-36]).mul(1e-3).item() == 0.0
    assert torch.tensor([1e-30]).mul(1e3).item() > 0  # normal numbers untouched


def test_flush_subnormals_leaves_other_devices_alone():
    assert flush_subnormals("meta") is False


def test_training_and_distillation_flush_subnormals(tmp_path, monkeypatch):
    """`train` and `distill` set the mode for their device before their first step."""
    from ganseg_lib.training import gan, segmenter

    seen = []
    monkeypatch.setattr(gan, "flush_subnormals", lambda device: seen.append(("train", torch.device(device).type)))
    monkeypatch.setattr(segmenter, "flush_subnormals",
                        lambda device: seen.append(("distill", torch.device(device).type)))
    state = gan.train(tiny_config(steps=1), tiny_images(), tmp_path, gan.TrainOptions(progress=False, grid_samples=0))
    segmenter.distill(state.cfg, state.g_ema, tmp_path / "seg.pt", steps=1, progress=False)
    assert seen == [("train", "cpu"), ("distill", "cpu")]
