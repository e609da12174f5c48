"""Two CPU processes (gloo): identical weights on both ranks after training, resuming and distilling;
only rank 0 writes files."""
import os
import socket

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from _tiny import tiny_config, tiny_images


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker(rank: int, world: int, port: int, run: str, out: str) -> None:
    os.environ.update(RANK=str(rank), WORLD_SIZE=str(world), LOCAL_RANK=str(rank), MASTER_ADDR="127.0.0.1",
                      MASTER_PORT=str(port), OMP_NUM_THREADS="1")
    torch.set_num_threads(1)
    from ganseg_lib.training.segmenter import distill
    from ganseg_lib.training.gan import TrainOptions, train

    try:
        for steps, resume in ((3, False), (5, True)):  # train, then continue from the checkpoint
            cfg = tiny_config(steps=steps, checkpoint_every=2)
            state = train(cfg, tiny_images(), run, TrainOptions(resume=resume, progress=False, grid_samples=0))
            seg = distill(cfg, state.g_ema, os.path.join(run, "seg.pt"), steps=2, progress=False, world=world,
                          rank=rank)
            torch.save({"g": state.g.state_dict(), "d": state.d.state_dict(), "g_ema": state.g_ema.state_dict(),
                        "seg": seg.state_dict(), "step": state.step}, os.path.join(out, f"rank{rank}-{steps}.pt"))
    finally:
        dist.destroy_process_group()


def _load(out, steps):
    return [torch.load(out / f"rank{r}-{steps}.pt", weights_only=True) for r in range(2)]


def _assert_same(a, b):
    for key in ("g", "d", "g_ema", "seg"):
        for name, t in a[key].items():
            assert torch.equal(t, b[key][name]), f"{key}.{name} differs between ranks"


@pytest.mark.skipif(not dist.is_gloo_available(), reason="needs the gloo backend")
def test_two_ranks_stay_identical_and_resume(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    mp.spawn(_worker, args=(2, _free_port(), str(tmp_path / "run"), str(out)), nprocs=2, join=True)
    r0, r1 = _load(out, 3)
    assert r0["step"] == r1["step"] == 3
    _assert_same(r0, r1)
    run = tmp_path / "run"
    assert (run / "checkpoint.pt").exists() and (run / "seg.pt").exists()
    # the checkpoint keeps both ranks' noise streams, which differ (each rank draws its own batches)
    from ganseg_lib.checkpoint import load_checkpoint
    ck = load_checkpoint(run / "checkpoint.pt", "gan")
    assert ck["step"] == 5 and ck["world"] == 2 and len(ck["samplers"]) == 2
    assert not torch.equal(ck["samplers"][0], ck["samplers"][1])
    r0, r1 = _load(out, 5)
    assert r0["step"] == r1["step"] == 5
    _assert_same(r0, r1)
