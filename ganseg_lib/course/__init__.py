"""The course: helpers every lesson notebook uses (the fast mode switch, the environment probe,
widgets, the shipped generator) and, in `exercises`, each lesson's checked exercises.
Nothing in the library imports this package.

`GANSEG_FAST=1` (set by `make test` / CI) makes training cells run a few steps or load the
shipped checkpoint; without it the lessons run the real thing.
"""
from __future__ import annotations

import dataclasses
import importlib.util
import os
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import torch

from ..app.data import synthetic_images
from ..app.shipped import load_course_checkpoint, load_snapshot, shipped_snapshots
from ..checkpoint import load_checkpoint
from ..config import GANSegConfig, apply_overrides, from_dict, get_preset
from ..model import Generator
from ..training.gan import TrainOptions, train


def fast_mode() -> bool:
    """True when GANSEG_FAST is set to 1/true/yes: short runs for CI."""
    return os.environ.get("GANSEG_FAST", "").strip().lower() in ("1", "true", "yes")


def in_colab() -> bool:
    """True inside Google Colab (find_spec("google.colab") alone raises where no `google` package exists)."""
    return importlib.util.find_spec("google") is not None and importlib.util.find_spec("google.colab") is not None


def pick(fast_value, full_value):
    """`fast_value` in fast mode, `full_value` otherwise (steps, sizes, sample counts)."""
    return fast_value if fast_mode() else full_value


def default_device() -> torch.device:
    """CUDA when available, else CPU: lessons run on both unchanged."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


# The course's training recipe: the one the shipped faces checkpoint was trained with
# (checkpoints/README.md), on top of a preset. The presets keep the paper's Table-4 weight
# lambda_con = 10; eq. 26 with C_con = 1.25 would give 5 for K = 4; the shipped run used 3
# (lessons 08 and 10 say why). Lessons 08 and 10 train with it.
COURSE_RECIPE: tuple[str, ...] = ("loss.lambda_con=3",)


@dataclass(frozen=True)
class LiveRun:
    """The size of a lesson's live training and distillation on one device, chosen in `live_run`."""

    device: torch.device  # where the cells train and distil
    preset: str  # the GAN preset the live run starts from (COURSE_RECIPE goes on top)
    overrides: tuple[str, ...]  # further GAN config overrides for this device
    distill_overrides: tuple[str, ...]  # segmenter config overrides for this device
    bf16: bool  # bfloat16 autocast in GAN training (`TrainOptions.bf16`)

    def config(self) -> GANSegConfig:
        """The preset with COURSE_RECIPE and this device's overrides applied."""
        return apply_overrides(get_preset(self.preset), [*COURSE_RECIPE, *self.overrides])


def live_run(device: torch.device | str | None = None) -> LiveRun:
    """What lesson 08 trains and lesson 09 distils on `device` (default: `default_device()`).

    CPU: 32-px `cpu-tiny` at its batch 16 and the segmenter's own batch. CUDA: 64-px
    `cpu-small` at batch 64 with bfloat16 autocast, and segmenter batch 128: the cells keep
    their minute budgets, so a GPU spends the same minutes on a larger model and more images.
    """
    device = default_device() if device is None else torch.device(device)
    if device.type == "cuda":
        return LiveRun(device, "cpu-small", ("train.batch=64",), ("segmenter.batch=128",), bf16=True)
    return LiveRun(device, "cpu-tiny", (), (), bf16=False)


def to_cpu(out):
    """A copy of a `GeneratorOutput` (or any dataclass of tensors) with every tensor on the CPU, for plots."""
    return dataclasses.replace(out, **{f.name: getattr(out, f.name).cpu() for f in dataclasses.fields(out)})


def describe_runtime() -> str:
    """One line naming the device, thread count and mode, printed at the top of each lesson."""
    device = default_device()
    name = torch.cuda.get_device_name(0) if device.type == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    return f"torch {torch.__version__} on {name}; {'fast (CI) mode' if fast_mode() else 'full mode'}"


def repo_root() -> Path:
    """The source tree holding `ganseg_lib/` (an editable install or a clone); checkpoints live under it."""
    return Path(__file__).resolve().parents[2]


def widget_figure(draw, controls: dict, layout: str = "horizontal"):
    """Controls and a figure that `draw(**values)` redraws whenever a control is released.

    `draw` is a plain function of the control values that returns a matplotlib Figure, so
    tests and headless runs call it directly; here each redraw replaces the previous figure
    (no stacking under `%matplotlib inline`) and the figure is closed after it is shown.
    Sliders get `continuous_update=False`: a drag redraws once, when the handle is let go, not
    once per step it passes.  A line under the controls says how long the last redraw took.
    Returns the widget to display; the figure for the initial values is drawn at once.
    """
    # imported here: ipywidgets and IPython start a notebook's display machinery
    import ipywidgets as widgets
    from IPython.display import display

    for control in controls.values():
        if control.has_trait("continuous_update"):
            control.continuous_update = False
    timing = widgets.Label(value="")

    def redraw(**values) -> None:
        start = time.perf_counter()
        fig = draw(**values)
        display(fig)
        plt.close(fig)
        timing.value = f"redrawn in {1000 * (time.perf_counter() - start):.0f} ms"

    out = widgets.interactive_output(redraw, controls)
    box = widgets.HBox if layout == "horizontal" else widgets.VBox
    return widgets.VBox([box(list(controls.values())), timing, out])


def checkpoints_folder() -> Path:
    """The folder the lessons load shipped models from: `checkpoints/`, or the one GANSEG_CHECKPOINTS
    names (e.g. where a Colab session keeps them)."""
    return Path(os.environ.get("GANSEG_CHECKPOINTS") or repo_root() / "checkpoints")


def shipped_checkpoint(domain: str = "faces"):
    """Path of the shipped course checkpoint `<domain>-<size>.pt` (the largest size) in
    `checkpoints_folder()`, or None."""
    folder = checkpoints_folder()
    pattern = re.compile(rf"{re.escape(domain)}-(\d+)\.pt")
    found = [(int(m.group(1)), p) for p in folder.glob("*.pt") if (m := pattern.fullmatch(p.name))]
    return max(found)[1] if found else None


def snapshot_generators(domain: str = "faces", size: int = 32) -> dict[int, Generator]:
    """{GAN step: EMA generator} of the shipped training snapshots (`checkpoints/snapshots/`), by step.

    Empty when none are shipped (or GANSEG_CHECKPOINTS names a folder without them).
    """
    found = {}
    for path in shipped_snapshots(domain, size, checkpoints_folder()):
        _, g, step = load_snapshot(path)
        found[step] = g
    return dict(sorted(found.items()))


def course_generator(preset: str = "cpu-small", domain: str = "faces", seed: int = 0):
    """The generator a lesson shows, on the CPU in eval mode, and whether it is trained.

    Loads the EMA generator of the shipped course checkpoint for `domain` (see
    `shipped_checkpoint`) when the repository has one; otherwise builds an untrained generator
    of `preset` (weights from `seed`), whose images are noise but whose points, masks and
    equivariance are already what the lessons teach.  Returns (generator, trained).
    """
    path = shipped_checkpoint(domain)
    if path is not None:
        _, g, _ = load_course_checkpoint(path, "cpu")
        return g.eval(), True
    torch.manual_seed(seed)
    return Generator(get_preset(preset)).eval(), False


def course_config(preset: str = "cpu-small", domain: str = "faces") -> GANSegConfig:
    """The full config of the generator `course_generator` returns (losses and training included)."""
    path = shipped_checkpoint(domain)
    if path is not None:
        return from_dict(load_checkpoint(path, "course")["config"])
    return get_preset(preset)


def load_or_train(domain: str = "faces", preset: str = "cpu-tiny", minutes: float = 4.0, lesson: str = "lesson"):
    """(config, EMA generator, shipped segmenter or None, description) for lessons that need a trained GAN.

    The shipped course checkpoint for `domain` when the repository has one; otherwise a
    generator of `preset` trained here on freshly rendered synthetic images: a few steps in fast
    mode (practically untrained) and `minutes` of wall time otherwise.  The description says
    which of the two the lesson is looking at.
    """
    path = shipped_checkpoint(domain)
    if path is not None:
        cfg, gen, seg = load_course_checkpoint(path, "cpu")
        return cfg, gen, seg, f"the shipped course checkpoint {path.name}"
    steps = pick(["train.steps=2", "train.batch=8"], ["train.steps=1000000"])  # full mode: the time budget stops it
    cfg = apply_overrides(get_preset(preset), steps)
    images = synthetic_images(domain, pick(64, 4000), cfg.generator.image_size, seed=0)
    run = Path(tempfile.mkdtemp(prefix=f"ganseg-{lesson}-"))
    state = train(cfg, images, run, TrainOptions(progress=False, time_budget_s=pick(None, 60 * minutes),
                                                 device=default_device().type))
    return (cfg, state.g_ema.cpu().eval(), None,
            f"a generator trained here for {state.step} steps ({state.elapsed / 60:.1f} min)")
