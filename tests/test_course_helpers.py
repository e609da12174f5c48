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


def test_widget_figure_redraws_on_release_and_reports_the_redraw_time():
    widgets = pytest.importorskip("ipywidgets")
    import matplotlib.pyplot as plt

    drawn = []

    def draw(dx, part):
        drawn.append((dx, part))
        fig, ax = plt.subplots()
        ax.plot([0, dx])
        return fig

    controls = {"dx": widgets.FloatSlider(value=0.0, min=-1, max=1, step=0.1),
                "part": widgets.Dropdown(options=[0, 1], value=0)}
    box = course.widget_figure(draw, controls)
    assert controls["dx"].continuous_update is False  # a drag redraws once, on release
    timing = box.children[1]
    assert drawn == [(0.0, 0)] and timing.value.startswith("redrawn in ")
    timing.value = ""
    controls["dx"].value = 0.5
    assert drawn[-1] == (0.5, 0) and timing.value.endswith(" ms")
