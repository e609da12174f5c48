"""`ganseg demo --fast`: the whole path (data, GAN, distillation, evaluation, report) in seconds."""
import json

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


def test_full_demo_plan_fits_its_time_budget():
    # the full demo caps each stage by wall time: GAN + distillation leave room for data and evaluation
    plan = demo.FULL
    assert plan.preset in ("cpu-tiny", "cpu-small")
    assert plan.gan_minutes + plan.distill_minutes <= 17.0


def test_demo_rejects_an_unknown_override_before_doing_anything(tmp_path, capsys):
    assert main(["demo", "--fast", "--out", str(tmp_path / "demo"), "--set", "train.batchsize=8"]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "train.batchsize" in err[0]
    assert not (tmp_path / "demo").exists()
