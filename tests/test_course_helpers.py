"""The course's one-place choices: the live-run size per device and the training recipe."""
import pytest
import torch

from ganseg_lib import course
from ganseg_lib.config import get_preset


def test_cpu_live_run_is_the_cpu_tiny_preset_with_the_course_recipe():
    live = course.live_run("cpu")
    cfg = live.config()
    tiny = get_preset("cpu-tiny")
    assert live.device == torch.device("cpu") and live.bf16 is False and live.distill_overrides == ()
    assert cfg.generator == tiny.generator and cfg.train == tiny.train and cfg.segmenter == tiny.segmenter
    assert cfg.loss.lambda_con == 3 and cfg.loss.lambda_area == tiny.loss.lambda_area


def test_a_cuda_device_gets_the_larger_setting_without_a_gpu():
    live = course.live_run(torch.device("cuda"))  # constructing a device object needs no GPU
    cfg = live.config()
    assert live.device.type == "cuda" and live.bf16 is True
    assert cfg.generator.image_size == 64 and cfg.train.batch == 64
    assert cfg.loss.lambda_con == 3  # the recipe holds on every device
    assert "segmenter.batch=128" in live.distill_overrides


def test_default_is_the_device_default_device_finds(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert course.live_run().device.type == "cuda" and course.live_run().config().generator.image_size == 64
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert course.live_run().device.type == "cpu" and course.live_run().config().generator.image_size == 32


def test_the_recipe_is_the_shipped_checkpoints():
    shipped = course.shipped_checkpoint("faces")
    if shipped is None:
        pytest.skip("no shipped faces checkpoint in this copy")
    from ganseg_lib.checkpoint import load_checkpoint
    from ganseg_lib.config import from_dict
    assert from_dict(load_checkpoint(shipped, "course")["config"]).loss == course.live_run("cpu").config().loss
