"""The training loop: lazy regularisers, EMA, exact resume after SIGKILL, NaN stop, log."""
import csv
import json
import math
import os
import subprocess
import sys

import pytest
import torch

from _tiny import tiny_config, tiny_images
from ganseg_lib import losses
from ganseg_lib.checkpoint import load_checkpoint
from ganseg_lib.config import apply_overrides, to_dict
from ganseg_lib.model import Generator
from ganseg_lib.training.gan import TrainingDiverged, TrainOptions, d_step, ema_update, g_step, real_batch, train
from ganseg_lib.training.log import LOG, read_log
from ganseg_lib.training.state import build_state

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

RUNNER = r"""
import json, os, signal, sys
import torch
from ganseg_lib.config import from_dict
from ganseg_lib.training import gan
cfg = from_dict(json.loads(sys.argv[1]))
run, kill_at, resume = sys.argv[2], int(sys.argv[3]), sys.argv[4] == "1"
images = torch.randint(0, 256, (48, 3, 16, 16), generator=torch.Generator().manual_seed(0), dtype=torch.uint8)
step_done = gan.iteration
def iteration(state, cfg, real, d_latents, g_latents, step, **kw):
    if step == kill_at + 1:  # step kill_at is complete, with its log row and checkpoint
        os.kill(os.getpid(), signal.SIGKILL)
    return step_done(state, cfg, real, d_latents, g_latents, step, **kw)
gan.iteration = iteration
gan.train(cfg, images, run, gan.TrainOptions(resume=resume, progress=False, grid_samples=4))
"""


def _run(cfg, run, kill_at=-1, resume=False):
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""), OMP_NUM_THREADS="1")
    return subprocess.run([sys.executable, "-c", RUNNER, json.dumps(to_dict(cfg)), str(run), str(kill_at),
                           "1" if resume else "0"], env=env, capture_output=True, text=True, timeout=300)


def _state_equal(a: dict, b: dict, path="") -> None:
    assert type(a) is type(b), path
    if isinstance(a, dict):
        assert a.keys() == b.keys(), path
        for k in a:
            _state_equal(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            _state_equal(x, y, f"{path}[{i}]")
    elif isinstance(a, torch.Tensor):
        assert torch.equal(a, b), f"tensor {path} differs"
    elif path.endswith(".elapsed"):
        pass
    else:
        assert a == b, path


@pytest.mark.parametrize("augmented", [False, True], ids=["plain", "adaptive-augmentation"])
def test_sigkill_then_resume_gives_identical_weights(tmp_path, augmented):
    cfg = tiny_config(steps=8, checkpoint_every=3)
    if augmented:  # augmentations drawn from the sampler and ADA's p must continue exactly too
        cfg = apply_overrides(cfg, ["augment.policy=color,translation,cutout", "augment.ada_target=0.1",
                                    "augment.ada_speed_images=64", "augment.p=0.5"])
    full, killed = tmp_path / "full", tmp_path / "killed"
    done = _run(cfg, full)
    assert done.returncode == 0, done.stderr
    died = _run(cfg, killed, kill_at=5)
    assert died.returncode == -9  # SIGKILL after step 5, checkpoint at step 3
    assert load_checkpoint(killed / "checkpoint.pt", "gan")["step"] == 3
    assert not [p for p in killed.iterdir() if p.name.endswith(".tmp")]
    resumed = _run(cfg, killed, resume=True)
    assert resumed.returncode == 0, resumed.stderr
    a, b = load_checkpoint(full / "checkpoint.pt"), load_checkpoint(killed / "checkpoint.pt")
    assert a["step"] == b["step"] == 8
    for key in ("g", "d", "g_ema", "opt_g", "opt_d", "samplers", "rng", "ada"):
        _state_equal(a[key], b[key], key)
    with open(killed / "log.csv") as f:
        assert [int(r["step"]) for r in csv.DictReader(f)] == list(range(1, 9))  # no duplicated rows
    assert (killed / "samples" / "step_000008.png").exists()


def test_lazy_regularisers_run_on_their_intervals():
    cfg = tiny_config()
    st = build_state(cfg, torch.device("cpu"), 0)
    images = tiny_images()
    seen = []
    for step in range(1, 9):
        lat = st.g.sample_latents(4, generator=st.sampler)
        real = real_batch(images, torch.randint(48, (4,), generator=st.sampler), torch.device("cpu"))
        s = d_step(st.g, st.d, st.opt_d, real, lat, cfg, do_r1=step % cfg.loss.r1_interval == 0)
        s |= g_step(st.g, st.d, st.opt_g, lat, cfg, do_reg=step % cfg.loss.reg_interval == 0)
        seen.append(("r1" in s, "con" in s and "area" in s))
    assert cfg.loss.r1_interval == 4 and cfg.loss.reg_interval == 2
    assert [r for r, _ in seen] == [False, False, False, True] * 2
    assert [c for _, c in seen] == [False, True] * 4
    # G's step leaves D trainable and gives D no gradient
    assert all(p.requires_grad for p in st.d.parameters())


def test_g_step_scales_regularisers_by_interval(monkeypatch):
    cfg = tiny_config()
    st = build_state(cfg, torch.device("cpu"), 0)
    lat = st.g.sample_latents(4, generator=st.sampler)
    captured = {}

    def fake_gen_loss(logits):
        return logits.sum() * 0.0

    monkeypatch.setattr(losses, "generator_loss", fake_gen_loss)
    monkeypatch.setattr(losses, "concentration_loss", lambda m, c: (m.sum() * 0 + 1.0))
    monkeypatch.setattr(losses, "area_loss", lambda h, m: (m.sum() * 0 + 2.0))
    orig_backward = torch.Tensor.backward

    def spy(self, *a, **k):
        captured["loss"] = self.item()
        return orig_backward(self, *a, **k)

    monkeypatch.setattr(torch.Tensor, "backward", spy)
    g_step(st.g, st.d, st.opt_g, lat, cfg, do_reg=True)
    lc = cfg.loss
    assert captured["loss"] == pytest.approx(lc.reg_interval * (lc.lambda_con * 1.0 + lc.lambda_area * 2.0))


def test_ema_update_parameters_and_buffers():
    cfg = tiny_config()
    g = Generator(cfg)
    ema = Generator(cfg)
    with torch.no_grad():
        for p in g.parameters():
            p.fill_(1.0)
        for p in ema.parameters():
            p.fill_(0.0)
        for b in g.buffers():
            if b.is_floating_point():
                b.fill_(2.0)
    ema_update(ema, g, decay=0.75)
    assert all(torch.allclose(p, torch.full_like(p, 0.25)) for p in ema.parameters())
    # BatchNorm statistics: running_mean starts at 0, running_var at 1; integer counters are copied
    norms = [m for m in ema.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert norms, "the generator has BatchNorm statistics"
    for bn in norms:
        assert torch.allclose(bn.running_mean, torch.full_like(bn.running_mean, 0.5))  # 0.75*0 + 0.25*2
        assert torch.allclose(bn.running_var, torch.full_like(bn.running_var, 1.25))  # 0.75*1 + 0.25*2


def test_nan_loss_stops_and_keeps_the_last_good_checkpoint(tmp_path, monkeypatch):
    cfg = tiny_config(steps=10, checkpoint_every=2)
    real_loss = losses.generator_loss
    calls = {"n": 0}

    def poisoned(logits):
        calls["n"] += 1
        value = real_loss(logits)
        return value * float("nan") if calls["n"] >= 5 else value

    monkeypatch.setattr(losses, "generator_loss", poisoned)
    with pytest.raises(TrainingDiverged) as err:
        train(cfg, tiny_images(), tmp_path, TrainOptions(progress=False, grid_samples=0))
    msg = str(err.value)
    assert "step 5" in msg and "last good checkpoint" in msg and "(step 4)" in msg and "\n" not in msg
    ck = load_checkpoint(tmp_path / "checkpoint.pt", "gan")
    assert ck["step"] == 4
    assert all(torch.isfinite(v).all() for v in ck["g"].values() if v.is_floating_point())


def test_train_refuses_images_of_the_wrong_size(tmp_path):
    with pytest.raises(ValueError, match="uint8 \\(N, 3, 16, 16\\)"):
        train(tiny_config(), tiny_images(size=32), tmp_path, TrainOptions(progress=False, grid_samples=0))
    assert not (tmp_path / "checkpoint.pt").exists()


def test_resume_refuses_other_data(tmp_path):
    cfg = tiny_config(steps=2)
    train(cfg, tiny_images(), tmp_path, TrainOptions(progress=False, grid_samples=0))
    with pytest.raises(Exception, match="other data"):
        train(tiny_config(steps=4), tiny_images(seed=1), tmp_path,
              TrainOptions(resume=True, progress=False, grid_samples=0))


def test_keep_every_keeps_copies(tmp_path):
    train(tiny_config(steps=4, checkpoint_every=1), tiny_images(), tmp_path,
          TrainOptions(progress=False, grid_samples=0, keep_every=2))
    assert sorted(p.name for p in tmp_path.glob("checkpoint_step*.pt")) == ["checkpoint_step000002.pt",
                                                                           "checkpoint_step000004.pt"]
    assert load_checkpoint(tmp_path / "checkpoint_step000002.pt", "gan")["step"] == 2


def test_time_budget_stops_with_a_checkpoint(tmp_path):
    state = train(tiny_config(steps=1000), tiny_images(), tmp_path,
                  TrainOptions(progress=False, time_budget_s=0.0, grid_samples=0))
    assert state.step == 1
    assert load_checkpoint(tmp_path / "checkpoint.pt")["step"] == 1
    assert math.isfinite(state.elapsed)
    assert [row["step"] for row in read_log(tmp_path / LOG)] == ["1"]  # the log ends at the step it stopped


def _refuse_host_reads(monkeypatch):
    """Make every read of a tensor's value on the host (item, bool, float, int, tolist) fail."""
    def refuse(self, *args, **kwargs):
        raise AssertionError("a tensor was read on the host")
    for name in ("item", "tolist", "__bool__", "__float__", "__int__"):
        monkeypatch.setattr(torch.Tensor, name, refuse)


@pytest.mark.parametrize("step", [1, 2, 4])  # plain, with the mask losses, with R1 too
def test_an_iteration_reads_nothing_on_the_host(monkeypatch, step):
    from ganseg_lib.training.gan import iteration
    cfg = tiny_config()
    st = build_state(cfg, torch.device("cpu"), 0)
    real = real_batch(tiny_images(), torch.arange(4), torch.device("cpu"))
    lat, lat_g = st.g.sample_latents(4, generator=st.sampler), st.g.sample_latents(4, generator=st.sampler)
    with monkeypatch.context() as m:
        _refuse_host_reads(m)
        stats = iteration(st, cfg, real, lat, lat_g, step=step)
    assert all(isinstance(v, torch.Tensor) and v.dim() == 0 for v in stats.values())
    assert bool(stats["finite"]) and ("r1" in stats) == (step == 4) and ("con" in stats) == (step % 2 == 0)


def test_the_log_averages_device_statistics_read_in_one_transfer():
    from ganseg_lib.training.log import Averager
    avg = Averager()
    avg.add({"d_loss": torch.tensor(1.0), "aug_p": 0.5})
    avg.add({"d_loss": torch.tensor(3.0), "aug_p": 0.25, "r1": torch.tensor(4.0)})
    assert avg.pop() == {"d_loss": 2.0, "aug_p": 0.375, "r1": 4.0}
    assert avg.pop() == {}


def test_compiled_steps_agree_with_eager_steps():
    """torch.compile'd G and D (the R1 step keeps the eager D) train like the eager networks.
    The aot_eager backend traces and differentiates as inductor does, without generating code."""
    from ganseg_lib.training.gan import iteration
    cfg = tiny_config()
    images = tiny_images()
    runs = []
    for compiled in (False, True):
        st = build_state(cfg, torch.device("cpu"), 0)
        nets = (torch.compile(st.g, backend="aot_eager"), torch.compile(st.d, backend="aot_eager")) if compiled else None
        losses_seen = []
        for step in range(1, 5):  # step 2: mask losses, step 4: R1 as well
            real = real_batch(images, torch.randint(48, (4,), generator=st.sampler), torch.device("cpu"))
            lat, lat_g = st.g.sample_latents(4, generator=st.sampler), st.g.sample_latents(4, generator=st.sampler)
            stats = iteration(st, cfg, real, lat, lat_g, step, compiled=nets)
            losses_seen.append({k: float(v) for k, v in stats.items() if k in ("d_loss", "g_loss", "r1", "con", "area")})
        runs.append((losses_seen, [p.detach().clone() for m in (st.g, st.d) for p in m.parameters()]))
    (eager_losses, eager_w), (comp_losses, comp_w) = runs
    assert [sorted(s) for s in eager_losses] == [sorted(s) for s in comp_losses]
    assert "r1" in eager_losses[3] and "con" in eager_losses[1]
    for a, b in zip(eager_losses, comp_losses):
        assert all(abs(a[k] - b[k]) <= 1e-4 * (1 + abs(a[k])) for k in a), (a, b)
    # Adam moves a weight by about lr per step whatever its gradient's size, so float-rounding
    # differences in near-zero gradients can move single weights by up to ~lr_d = 4e-4 per step
    assert len(eager_w) == len(comp_w) > 10
    assert max((a - b).abs().max().item() for a, b in zip(eager_w, comp_w)) < 4 * cfg.train.lr_d


def test_channels_last_trains_like_the_default_layout(tmp_path):
    """--channels-last (a GPU option) runs on CPU too and changes only the memory layout."""
    finals = []
    for layout in (False, True):
        st = train(tiny_config(steps=3), tiny_images(), tmp_path / str(layout),
                   TrainOptions(progress=False, grid_samples=0, channels_last=layout))
        finals.append([p.detach().clone() for p in st.g.parameters()])
    assert max((a - b).abs().max().item() for a, b in zip(*finals)) < 4 * tiny_config().train.lr_d
