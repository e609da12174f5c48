"""Checkpoint files: round trip with weights_only, atomic writes, clear errors for bad files."""
import pytest
import torch

from ganseg_lib import checkpoint as ck
from ganseg_lib.checkpoint import CheckpointError, load_checkpoint, save_checkpoint, sha256_file


class Foreign:
    pass


def test_round_trip_with_weights_only(tmp_path):
    path = tmp_path / "a.pt"
    payload = {"config": {"name": "x", "train": {"betas": [0.5, 0.9]}}, "step": 7, "w": torch.arange(4.0),
               "rng": (3, (1, 2), None)}
    save_checkpoint(path, payload, "gan")
    got = load_checkpoint(path, "gan")
    assert got["step"] == 7 and torch.equal(got["w"], torch.arange(4.0)) and got["kind"] == "gan"
    # the file is plain: torch's safe loader reads it directly
    assert torch.load(path, weights_only=True)["format"] == ck.FORMAT
    assert list(tmp_path.iterdir()) == [path]


def test_sha256_of_a_file(tmp_path):
    path = tmp_path / "b.bin"
    path.write_bytes(b"abc")
    assert sha256_file(path) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_truncated_file(tmp_path):
    path = tmp_path / "c.pt"
    save_checkpoint(path, {"config": {}, "w": torch.zeros(1000)}, "gan")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    with pytest.raises(CheckpointError, match="truncated or not a ganseg checkpoint"):
        load_checkpoint(path)


def test_foreign_files(tmp_path):
    other = tmp_path / "other.pt"
    torch.save({"state_dict": torch.zeros(2)}, other)
    with pytest.raises(CheckpointError, match="no 'ganseg-checkpoint/1' format marker"):
        load_checkpoint(other)
    text = tmp_path / "t.pt"
    text.write_text("not a checkpoint")
    with pytest.raises(CheckpointError, match="truncated or not a ganseg checkpoint"):
        load_checkpoint(text)
    pickled = tmp_path / "p.pt"
    torch.save({"obj": Foreign()}, pickled)  # loading it would run pickled code: refused
    with pytest.raises(CheckpointError, match="not a ganseg checkpoint \\(it holds objects other than tensors"):
        load_checkpoint(pickled)
    with pytest.raises(CheckpointError, match="no checkpoint at"):
        load_checkpoint(tmp_path / "missing.pt")


def test_wrong_kind(tmp_path):
    path = tmp_path / "s.pt"
    save_checkpoint(path, {"config": {}}, "segmenter")
    with pytest.raises(CheckpointError, match="holds a 'segmenter' checkpoint, expected gan"):
        load_checkpoint(path, "gan")


def test_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "d.pt"
    save_checkpoint(path, {"config": {}, "step": 1}, "gan")

    def broken_save(obj, f, *a, **k):
        with open(f, "wb") as fh:
            fh.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError):
        save_checkpoint(path, {"config": {}, "step": 2}, "gan")
    monkeypatch.undo()
    assert load_checkpoint(path)["step"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["d.pt"]


def test_half_precision_helpers():
    state = {"w": torch.randn(3), "n": torch.tensor(5)}
    half = ck.state_to_half(state)
    assert half["w"].dtype == torch.float16 and half["n"].dtype == torch.int64
    assert ck.state_to_float(half)["w"].dtype == torch.float32
