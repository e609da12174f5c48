"""The `ganseg` command: the train -> distill -> evaluate path, and every bad input of the issue:
one `ganseg: error:` line, exit status 2, and no partial checkpoint or metrics.json."""
import json
import os
import subprocess
import sys

import pytest
import torch

import data_prep
from _tiny import cli_train_and_distill
from ganseg_lib.app.cli import main

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def faces(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "faces32.ganseg-data"
    data_prep.prepare_synthetic("faces", 48, 32, seed=3, out=path)
    return path


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory, faces):
    """A run folder with a 2-step GAN and a 2-step segmenter (cpu-tiny, batch 4)."""
    run = tmp_path_factory.mktemp("run") / "r"
    cli_train_and_distill(faces, run, steps=2)
    return run


def _error(capsys, argv) -> str:
    code = main(argv)
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("ganseg: error: "), err
    return lines[0]


def test_train_distill_evaluate(trained_run, faces, capsys):
    files = {p.name for p in trained_run.iterdir()}
    assert {"checkpoint.pt", "segmenter.pt", "log.csv", "config.json", "loss_curves.png"} <= files
    assert main(["evaluate", "--run", str(trained_run), "--data", str(faces)]) == 0
    out = capsys.readouterr().out
    assert "landmark error" in out and "foreground IoU" in out
    m = json.loads((trained_run / "metrics.json").read_text())
    assert m["n_test"] == 5 and m["n_train"] == 43  # data_prep holds out the last 10 %
    assert set(m["landmarks"]["references_pct"]) == {"mean_shape", "localisation_only", "ground_truth_parts"}
    # the reported IoU is the segmenter's on the data file's test split, recomputed here by hand
    from ganseg_lib.training.segmenter import load_segmenter, predict
    test = data_prep.load(faces, "test")
    masks = predict(load_segmenter(trained_run / "segmenter.pt")[1], test.images)
    pred = masks.argmax(1) != masks.shape[1] - 1  # background is the last channel
    inter, union = (pred & test.fg_masks).sum((1, 2)).double(), (pred | test.fg_masks).sum((1, 2)).double()
    assert m["foreground"]["iou"] == pytest.approx(float((inter / union).mean()), abs=1e-9)
    assert (trained_run / "figures" / "eval_overlays.png").exists()


def test_unknown_preset(capsys, faces, tmp_path):
    line = _error(capsys, ["train", "--data", str(faces), "--preset", "nope", "--out", str(tmp_path / "r")])
    assert "unknown preset 'nope'" in line and "cpu-tiny" in line
    assert not (tmp_path / "r").exists()


def test_unknown_set_field(capsys, faces, tmp_path):
    line = _error(capsys, ["train", "--data", str(faces), "--preset", "cpu-tiny", "--out", str(tmp_path / "r"),
                           "--set", "train.bacth=4"])
    assert "train.bacth" in line and "batch" in line
    assert not (tmp_path / "r").exists()


def test_missing_data_file(capsys, tmp_path):
    line = _error(capsys, ["train", "--data", str(tmp_path / "none.ganseg-data"), "--preset", "cpu-tiny",
                           "--out", str(tmp_path / "r")])
    assert "not found" in line
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("content", [b"hello, not a data file", "torch"])
def test_data_file_of_the_wrong_kind(capsys, tmp_path, content):
    path = tmp_path / "wrong.pt"
    if content == "torch":
        torch.save({"weights": torch.zeros(3)}, path)
    else:
        path.write_bytes(content)
    line = _error(capsys, ["train", "--data", str(path), "--preset", "cpu-tiny", "--out", str(tmp_path / "r")])
    assert str(path) in line
    assert not (tmp_path / "r").exists()


def test_data_of_the_wrong_size(capsys, tmp_path):
    path = tmp_path / "faces16.ganseg-data"
    data_prep.prepare_synthetic("faces", 8, 16, seed=0, out=path)
    line = _error(capsys, ["train", "--data", str(path), "--preset", "cpu-tiny", "--out", str(tmp_path / "r")])
    assert "16 px" in line and "32 px" in line


def test_run_folder_without_checkpoint(capsys, tmp_path, faces):
    (tmp_path / "empty").mkdir()
    assert "no checkpoint" in _error(capsys, ["distill", "--run", str(tmp_path / "empty")])
    assert "segmenter.pt" in _error(capsys, ["evaluate", "--run", str(tmp_path / "empty"), "--data", str(faces)])
    assert "no checkpoint" in _error(capsys, ["train", "--data", str(faces), "--out", str(tmp_path / "empty"),
                                              "--resume"])
    assert list((tmp_path / "empty").iterdir()) == []


def test_truncated_and_foreign_checkpoints(capsys, tmp_path, trained_run):
    run = tmp_path / "cut"
    run.mkdir()
    data = (trained_run / "checkpoint.pt").read_bytes()
    (run / "checkpoint.pt").write_bytes(data[: len(data) // 2])
    assert "truncated" in _error(capsys, ["distill", "--run", str(run)])
    torch.save({"something": torch.ones(2)}, run / "checkpoint.pt")
    assert "not a ganseg checkpoint" in _error(capsys, ["distill", "--run", str(run)])
    assert not (run / "segmenter.pt").exists()


def test_existing_run_needs_resume_or_force(capsys, trained_run, faces):
    line = _error(capsys, ["train", "--data", str(faces), "--preset", "cpu-tiny", "--out", str(trained_run)])
    assert "--resume" in line
    line = _error(capsys, ["train", "--data", str(faces), "--preset", "cpu-tiny", "--out", str(trained_run),
                           "--resume"])
    assert "only --steps and --set loss.*, segmenter.*, train.steps" in line
    line = _error(capsys, ["train", "--data", str(faces), "--out", str(trained_run), "--resume", "--set",
                           "generator.n_parts=3"])
    assert "only --steps and --set loss.*" in line


def test_evaluation_of_unlabelled_images_reports_the_parts_and_draws_the_overlays(capsys, tmp_path, trained_run):
    n = 12
    bare = data_prep.Prepared(images=torch.zeros(n, 3, 32, 32, dtype=torch.uint8),
                              split=torch.tensor([0] * 9 + [1] * 3, dtype=torch.uint8),
                              split_names=["train", "test"], meta={"source": "test"})
    path = tmp_path / "bare.ganseg-data"
    data_prep.save(bare, path)
    run = tmp_path / "copy"
    run.mkdir()
    (run / "segmenter.pt").write_bytes((trained_run / "segmenter.pt").read_bytes())
    assert main(["evaluate", "--run", str(run), "--data", str(path)]) == 0
    captured = capsys.readouterr()
    assert "nothing to score, parts and overlays only" in captured.out
    assert "note: skipped landmark error" in captured.err and "note: skipped foreground IoU" in captured.err
    m = json.loads((run / "metrics.json").read_text())
    assert "landmarks" not in m and "foreground" not in m and m["parts"]["n_parts"] == 4 and m["n_test"] == 3
    assert (run / "figures" / "eval_overlays.png").exists()


def test_evaluation_without_landmarks_says_what_is_skipped(capsys, tmp_path, trained_run):
    path = tmp_path / "birds.ganseg-data"
    data_prep.prepare_synthetic("birds", 20, 32, seed=0, out=path)
    run = tmp_path / "copy"
    run.mkdir()
    (run / "segmenter.pt").write_bytes((trained_run / "segmenter.pt").read_bytes())
    assert main(["evaluate", "--run", str(run), "--data", str(path)]) == 0
    err = capsys.readouterr().err
    assert "note: skipped landmark error (the data has no landmarks)" in err
    m = json.loads((run / "metrics.json").read_text())
    assert "landmarks" not in m and "foreground" in m


def test_console_exit_status_and_module_entry(tmp_path):
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""), OMP_NUM_THREADS="1")
    done = subprocess.run([sys.executable, "-m", "ganseg_lib", "train", "--data", str(tmp_path / "x"),
                           "--preset", "cpu-tiny", "--out", str(tmp_path / "r")],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 2
    assert done.stderr.strip().startswith("ganseg: error: data file") and len(done.stderr.strip().splitlines()) == 1


def test_export_makes_a_course_checkpoint(tmp_path, trained_run):
    from ganseg_lib.checkpoint import sha256_file
    from ganseg_lib.app.shipped import export_course_checkpoint, load_course_checkpoint, metrics_path

    out = tmp_path / "ship" / "faces-32.pt"
    info = export_course_checkpoint(trained_run, out, "faces", command="ganseg train ...", n_train=24, n_test=8)
    record = json.loads(metrics_path(out).read_text())
    assert record["sha256"] == info["sha256"] == sha256_file(out)
    assert (out.parent / "SHA256SUMS").read_text().split() == [record["sha256"], "faces-32.pt"]
    assert record["reproduce"]["n_test"] == 8 and "foreground" in record["reproduce"]["metrics"]
    raw = torch.load(out, weights_only=True)
    assert raw["g_ema"][next(iter(raw["g_ema"]))].dtype == torch.float16
    cfg, g, seg = load_course_checkpoint(out)
    assert cfg.name == "cpu-tiny" and not g.training and not seg.training
    out.write_bytes(out.read_bytes()[:-10] + b"0123456789")  # damaged in place
    with pytest.raises(Exception, match="SHA-256"):
        load_course_checkpoint(out)


def test_distill_takes_the_run_folder_once(capsys, tmp_path):
    assert "once" in _error(capsys, ["distill"])
    assert "once" in _error(capsys, ["distill", str(tmp_path), "--run", str(tmp_path)])
    assert "no checkpoint" in _error(capsys, ["distill", str(tmp_path)])  # the form torchrun needs


def test_repeated_set_flags_all_apply(tmp_path, faces):
    # `--set a=1 --set b=2` must keep both (argparse's default would keep only the last flag)
    run = tmp_path / "r"
    assert main(["train", "--data", str(faces), "--preset", "cpu-tiny", "--out", str(run), "--steps", "1",
                 "--batch", "2", "--grid", "0", "--quiet", "--set", "generator.n_parts=3", "--set",
                 "loss.lambda_con=2.5", "train.log_every=1"]) == 0
    cfg = json.loads((run / "config.json").read_text())
    assert cfg["generator"]["n_parts"] == 3
    assert cfg["loss"]["lambda_con"] == 2.5 and cfg["train"]["log_every"] == 1


def test_non_finite_distillation_loss_is_one_line_and_keeps_the_segmenter(capsys, tmp_path, trained_run,
                                                                          monkeypatch):
    from ganseg_lib.training import segmenter

    run = tmp_path / "nan"
    run.mkdir()
    for name in ("checkpoint.pt", "segmenter.pt"):
        (run / name).write_bytes((trained_run / name).read_bytes())
    before = (run / "segmenter.pt").read_bytes()
    monkeypatch.setattr(segmenter, "distillation_loss", lambda logits, labels: logits.sum() * float("nan"))
    line = _error(capsys, ["distill", "--run", str(run), "--steps", "2", "--set", "segmenter.batch=2", "--quiet"])
    assert "distillation loss became nan at step 1" in line and "segmenter.lr" in line
    assert (run / "segmenter.pt").read_bytes() == before
    assert sorted(p.name for p in run.iterdir()) == ["checkpoint.pt", "segmenter.pt"]


def test_figures_are_written_with_the_usual_permissions(tmp_path):
    import matplotlib.pyplot as plt

    from ganseg_lib.viz import save_figure

    save_figure(plt.figure(), tmp_path / "f.png")
    umask = os.umask(0o22)
    os.umask(umask)
    assert (tmp_path / "f.png").stat().st_mode & 0o777 == 0o666 & ~umask
    assert [p.name for p in tmp_path.iterdir()] == ["f.png"]


def test_export_needs_out_or_snapshots_and_names_a_missing_snapshot_step(capsys, tmp_path, trained_run):
    assert "--out" in _error(capsys, ["export", "--run", str(trained_run), "--domain", "faces"])
    line = _error(capsys, ["export", "--run", str(trained_run), "--domain", "faces", "--snapshots", "7",
                           "--folder", str(tmp_path)])
    assert "checkpoint_step000007.pt" in line and "--keep-every" in line
    assert not (tmp_path / "snapshots").exists()


@pytest.mark.skipif(torch.cuda.is_available(), reason="a machine without CUDA")
@pytest.mark.parametrize("command", ["train", "distill", "evaluate"])
def test_cuda_without_a_gpu_is_one_line(capsys, tmp_path, faces, trained_run, command):
    argv = {"train": ["train", "--data", str(faces), "--preset", "cpu-tiny", "--out", str(tmp_path / "r")],
            "distill": ["distill", "--run", str(trained_run)],
            "evaluate": ["evaluate", "--run", str(trained_run), "--data", str(faces)]}[command]
    before = sorted(p.name for p in trained_run.iterdir())
    line = _error(capsys, argv + ["--device", "cuda"])
    assert "torch sees no CUDA GPU here" in line and "use --device cpu" in line
    assert not (tmp_path / "r").exists() and sorted(p.name for p in trained_run.iterdir()) == before
