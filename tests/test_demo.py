"""`ganseg demo --fast`: the whole path (data, GAN, distillation, evaluation, report) in seconds."""
import json
import time
from dataclasses import replace

from ganseg_lib.app import demo
from ganseg_lib.app.cli import main


def test_demo_fast_runs_end_to_end(tmp_path, capsys):
    assert main(["demo", "--fast", "--out", str(tmp_path), "--quiet", "--set", "loss.lambda_con=5"]) == 0
    out = capsys.readouterr().out
    assert "landmark error" in out and "foreground IoU" in out and "demo finished" in out
    run = tmp_path / "gan-fast"
    m = json.loads((run / "metrics.json").read_text())
    assert m["demo"]["fast"] is True and m["demo"]["gan_iterations"] == demo.FAST.gan_steps
    assert m["demo"]["overrides"] == ["loss.lambda_con=5"]
    assert json.loads((run / "config.json").read_text())["loss"]["lambda_con"] == 5
    assert {"landmarks", "foreground"} <= set(m)
    for name in ("checkpoint.pt", "segmenter.pt", "loss_curves.png", "figures/eval_overlays.png"):
        assert (run / name).exists(), name


def test_each_stage_stops_at_its_wall_time_cap(tmp_path, monkeypatch, capsys):
    # the full demo fits its 20 minutes because each stage stops by the clock, whatever its step
    # cap: a plan whose step caps are out of reach still ends within its minutes
    from ganseg_lib.checkpoint import load_checkpoint

    cap = 400  # without the time caps each stage would run minutes
    plan = replace(demo.FAST, gan_steps=cap, gan_minutes=0.02, distill_steps=cap, distill_minutes=0.01)
    monkeypatch.setattr(demo, "FAST", plan)
    start = time.perf_counter()
    assert main(["demo", "--fast", "--out", str(tmp_path), "--quiet"]) == 0
    assert time.perf_counter() - start < 120
    run = tmp_path / "gan-fast"
    m = json.loads((run / "metrics.json").read_text())
    assert 1 <= m["demo"]["gan_iterations"] < 40 and m["demo"]["stage_seconds"]["gan"] < 30
    assert 1 <= load_checkpoint(run / "segmenter.pt", "segmenter")["steps"] < 40
    assert m["demo"]["stage_seconds"]["distill"] < 30


def test_demo_rejects_an_unknown_override_before_doing_anything(tmp_path, capsys):
    assert main(["demo", "--fast", "--out", str(tmp_path / "demo"), "--set", "train.batchsize=8"]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "train.batchsize" in err[0]
    assert not (tmp_path / "demo").exists()
