"""The data file: round trip, plain-tensor loading, atomic writes, clear errors; the Dataset."""
from __future__ import annotations

import os

import pytest
import torch

import data_prep
from data_prep import DataError, load, prepare_synthetic, read, save
from data_prep.fileformat import Prepared


@pytest.fixture(scope="module")
def faces_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "faces.pt"
    prepare_synthetic("faces", 40, 32, seed=2, out=path)
    return path


def tiny(n: int = 4, size: int = 8, **extra) -> Prepared:
    return Prepared(images=torch.randint(0, 256, (n, 3, size, size), dtype=torch.uint8),
                    split=torch.tensor([0] * (n - 1) + [1], dtype=torch.uint8), split_names=["train", "test"],
                    meta={"source": "test"}, files=[f"{i}.png" for i in range(n)], **extra)


def test_round_trip_with_plain_torch_load(faces_file):
    raw = torch.load(faces_file, weights_only=True)
    assert raw["format"] == "ganseg-data" and raw["version"] == 1 and raw["size"] == 32
    assert raw["images"].dtype == torch.uint8 and raw["fg_masks"].dtype == torch.bool
    assert raw["landmarks"].dtype == torch.float32 and raw["split"].shape == (40,)
    assert raw["split_names"] == ["train", "test"]
    assert raw["meta"]["landmark_names"] == ["left_eye", "right_eye", "nose", "mouth_left", "mouth_right"]
    assert raw["meta"]["landmark_protocol"] == "mafl"
    again = data_prep.render("faces", 40, 32, seed=2)
    assert torch.equal(raw["images"], again.images) and torch.equal(raw["landmarks"], again.landmarks)


def test_dataset_items_and_whole_split_tensors(faces_file):
    train, test = load(faces_file, "train"), load(faces_file, "test")
    assert (len(train), len(test)) == (36, 4)
    assert len(load(faces_file, None)) == 40
    item = train[3]
    assert set(item) == {"image", "landmarks", "visible", "fg_mask", "part_labels"}
    assert item["image"].shape == (3, 32, 32) and item["image"].dtype == torch.float32
    assert -1.0 <= float(item["image"].min()) and float(item["image"].max()) <= 1.0
    assert item["part_labels"].dtype == torch.int64 and item["fg_mask"].dtype == torch.bool
    assert torch.equal(item["image"], train.float_images(torch.tensor([3]))[0])
    assert torch.allclose((item["image"] + 1) * 127.5, train.images[3].float(), atol=1e-3)
    batch = train.batch(torch.tensor([0, 5, 5]))
    assert batch["image"].shape == (3, 3, 32, 32) and batch["landmarks"].shape == (3, 5, 2)
    assert torch.equal(batch["fg_mask"][1], train.fg_masks[5])
    assert train.sample(6, torch.Generator().manual_seed(0)).shape == (6, 3, 32, 32)
    assert train.landmark_protocol == "mafl" and train.part_names[0] == "skin"
    loader = torch.utils.data.DataLoader(train, batch_size=8)
    assert next(iter(loader))["image"].shape == (8, 3, 32, 32)
    assert torch.equal(data_prep.to_uint8(train.float_images()), train.images)


def test_optional_fields_absent(tmp_path):
    path = save(tiny(), tmp_path / "plain.pt")
    ds = load(path, "train")
    assert ds.landmarks is None and ds.fg_masks is None and ds.part_labels is None
    assert set(ds[0]) == {"image"} and set(ds.batch(torch.tensor([0]))) == {"image"}


def test_interleaved_splits_select_the_right_items(tmp_path):
    data = tiny(n=6, landmarks=torch.rand(6, 2, 2), visible=torch.ones(6, 2, dtype=torch.bool))
    data.split = torch.tensor([0, 1, 0, 1, 0, 0], dtype=torch.uint8)
    path = save(data, tmp_path / "i.pt")
    train, test = load(path, "train"), load(path, "test")
    assert torch.equal(train.images, data.images[[0, 2, 4, 5]]) and torch.equal(test.images, data.images[[1, 3]])
    assert torch.equal(test.landmarks, data.landmarks[[1, 3]]) and train.files == ["0.png", "2.png", "4.png", "5.png"]


def test_items_without_mask_have_no_fg_mask_key(tmp_path):
    masks = torch.zeros(4, 8, 8, dtype=torch.bool)
    data = tiny(fg_masks=masks, has_mask=torch.tensor([True, False, True, True]))
    ds = load(save(data, tmp_path / "m.pt"), "train")
    assert "fg_mask" in ds[0] and "fg_mask" not in ds[1]
    assert "fg_mask" not in ds.batch(torch.tensor([0, 1]))


def test_write_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "sub" / "out.pt"
    save(tiny(), path)
    before = path.read_bytes()
    umask = os.umask(0o22)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask, "the usual permissions, not the temporary file's 0600"

    def boom(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(torch, "save", boom)
    with pytest.raises(KeyboardInterrupt):
        save(tiny(n=6), path)
    assert path.read_bytes() == before, "a failed write leaves the old file untouched"
    assert sorted(os.listdir(path.parent)) == ["out.pt"], "and no temporary file"
    with pytest.raises(KeyboardInterrupt):
        save(tiny(), tmp_path / "new.pt")
    assert not (tmp_path / "new.pt").exists()


def test_unreadable_files_give_one_line_errors(tmp_path, faces_file):
    cases = {}
    cases["missing"] = tmp_path / "nope.pt"
    cases["folder"] = tmp_path
    (tmp_path / "text.pt").write_text("hello")
    cases["text"] = tmp_path / "text.pt"
    (tmp_path / "trunc.pt").write_bytes(faces_file.read_bytes()[: 5000])
    cases["truncated"] = tmp_path / "trunc.pt"
    torch.save({"weights": torch.zeros(3)}, tmp_path / "foreign.pt")
    cases["foreign"] = tmp_path / "foreign.pt"
    torch.save({"x": torch.nn.Linear(2, 2)}, tmp_path / "module.pt")
    cases["pickled module"] = tmp_path / "module.pt"
    raw = torch.load(faces_file, weights_only=True)
    raw["images"] = raw["images"][:, :2]
    torch.save(raw, tmp_path / "shape.pt")
    cases["bad shape"] = tmp_path / "shape.pt"
    for what, path in cases.items():
        with pytest.raises(DataError) as info:
            read(path)
        msg = str(info.value)
        assert str(path) in msg and "\n" not in msg, (what, msg)
        assert "data_prep.prepare" in msg, (what, msg)


def test_unknown_or_empty_split(faces_file, tmp_path):
    with pytest.raises(DataError, match="no split 'val'; it has train, test"):
        load(faces_file, "val")
    data = tiny()
    data.split_names = ["train", "test", "val"]
    with pytest.raises(DataError, match="split 'val' is empty"):
        load(save(data, tmp_path / "e.pt"), "val")


def test_check_rejects_inconsistent_data(tmp_path):
    with pytest.raises(DataError, match="landmarks"):
        save(tiny(landmarks=torch.zeros(4, 5, 2)), tmp_path / "x.pt")  # no visible
    with pytest.raises(DataError, match="part_names"):
        save(tiny(part_labels=torch.full((4, 8, 8), 3, dtype=torch.uint8)), tmp_path / "x.pt")
    assert not (tmp_path / "x.pt").exists()
