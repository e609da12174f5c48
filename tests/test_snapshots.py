"""Training snapshots (generator-only, kind "snapshot"): the shipped ones are small, listed and
untouched; export writes them from a run's kept checkpoints; the loader refuses a changed or
unlisted file; a missing step is one clear error."""
import shutil
from pathlib import Path

import pytest
import torch

from _tiny import tiny_config, tiny_images
from ganseg_lib.app.shipped import (SNAPSHOTS, export_snapshots, load_snapshot, recorded_sums, shipped_snapshots)
from ganseg_lib.checkpoint import CheckpointError, sha256_file
from ganseg_lib.training.gan import TrainOptions, train
from ganseg_lib.training.state import load_gan

FOLDER = Path(__file__).resolve().parent.parent / "checkpoints"
SHIPPED = shipped_snapshots("faces", 32, FOLDER)


def test_shipped_snapshots_are_small_listed_and_in_step_order():
    if not SHIPPED:
        pytest.skip("no snapshots shipped")
    sums = recorded_sums(FOLDER)
    steps = []
    for path in SHIPPED:
        assert path.stat().st_size < 2**20
        assert sums[f"{SNAPSHOTS}/{path.name}"] == sha256_file(path)
        cfg, g, step = load_snapshot(path)
        steps.append(step)
        with torch.no_grad():
            out = g(g.sample_latents(2, generator=torch.Generator().manual_seed(0)))
        assert out.image.shape[-1] == cfg.generator.image_size == 32 and torch.isfinite(out.image).all()
    assert steps == sorted(steps) and len(set(steps)) == len(steps) >= 3


def test_export_then_load_gives_the_runs_generator_in_half_precision(tmp_path):
    run, folder = tmp_path / "run", tmp_path / "checkpoints"
    train(tiny_config(steps=4, checkpoint_every=1), tiny_images(), run,
          TrainOptions(progress=False, grid_samples=0, keep_every=2))
    written = export_snapshots(run, [2, 4], folder, "faces", command="ganseg train ...")
    assert [p.name for p in written] == [f"faces-{tiny_config().generator.image_size}-step00000{s}.pt" for s in (2, 4)]
    assert set(recorded_sums(folder)) == {f"{SNAPSHOTS}/{p.name}" for p in written}
    _, g_snap, step = load_snapshot(written[0])
    _, g_run, _ = load_gan(run / "checkpoint_step000002.pt")
    assert step == 2
    for a, b in zip(g_snap.state_dict().values(), g_run.state_dict().values()):
        assert torch.equal(a, b.half().float() if b.is_floating_point() else b)


def test_loader_refuses_a_changed_or_unlisted_file_and_export_names_a_missing_step(tmp_path):
    run, folder = tmp_path / "run", tmp_path / "checkpoints"
    train(tiny_config(steps=2, checkpoint_every=1), tiny_images(), run,
          TrainOptions(progress=False, grid_samples=0, keep_every=2))
    (path,) = export_snapshots(run, [2], folder, "faces")
    with pytest.raises(CheckpointError, match="checkpoint_step000003.pt.*--keep-every"):
        export_snapshots(run, [3], folder, "faces")
    data = bytearray(path.read_bytes())
    data[-10] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="changed or damaged"):
        load_snapshot(path)
    other = folder / SNAPSHOTS / "faces-32-step000009.pt"
    shutil.copy(path, other)
    with pytest.raises(CheckpointError, match="not listed"):
        load_snapshot(other)
