"""Two CPU processes (gloo): identical weights on both ranks after training, resuming and distilling;
only rank 0 writes files."""
import os
import time
from contextlib import contextmanager

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from _tiny import tiny_config, tiny_images
from ganseg_lib.app.launch import free_port, rank_environment
from ganseg_lib.training.distributed import leave_group


def _rank_env(rank: int, world: int, port: int) -> None:
    """What torchrun sets for one rank on this machine, one thread each."""
    os.environ.update(rank_environment(rank, world, port), OMP_NUM_THREADS="1")
    torch.set_num_threads(1)


@contextmanager
def _leaving_the_group():
    """Leave the group at the end: at a barrier after success, at once after a failure."""
    clean = False
    try:
        yield
        clean = True
    finally:
        leave_group(clean)


def _worker(rank: int, world: int, port: int, run: str, out: str) -> None:
    _rank_env(rank, world, port)  # train() joins the group itself
    from ganseg_lib.training.segmenter import distill
    from ganseg_lib.training.gan import TrainOptions, train

    with _leaving_the_group():
        for steps, resume in ((3, False), (5, True)):  # train, then continue from the checkpoint
            cfg = tiny_config(steps=steps, checkpoint_every=2)
            state = train(cfg, tiny_images(), run, TrainOptions(resume=resume, progress=False, grid_samples=0))
            seg = distill(cfg, state.g_ema, os.path.join(run, "seg.pt"), steps=2, progress=False, world=world,
                          rank=rank)
            torch.save({"g": state.g.state_dict(), "d": state.d.state_dict(), "g_ema": state.g_ema.state_dict(),
                        "seg": seg.state_dict(), "step": state.step}, os.path.join(out, f"rank{rank}-{steps}.pt"))


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
    mp.spawn(_worker, args=(2, free_port(), str(tmp_path / "run"), str(out)), nprocs=2, join=True)
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


def _leave_worker(rank: int, world: int, port: int, out: str, clean: bool) -> None:
    _join_group(rank, world, port)
    arrived = os.path.join(out, "rank1-arrived")
    if rank == 1:  # the slow rank: it reaches the end 2 s after rank 0
        time.sleep(2.0)
        open(arrived, "w").close()
        leave_group(clean)  # after a failure a barrier would find rank 0 gone
    else:
        leave_group(clean)
        with open(os.path.join(out, "rank0-saw"), "w") as f:
            f.write(str(os.path.exists(arrived)))


@pytest.mark.skipif(not dist.is_gloo_available(), reason="needs the gloo backend")
@pytest.mark.parametrize("clean", [True, False])
def test_a_clean_rank_waits_for_its_peers_before_closing_and_a_failed_one_does_not(tmp_path, clean):
    _spawn(_leave_worker, str(tmp_path), clean, timeout_s=60)
    assert (tmp_path / "rank0-saw").read_text() == str(clean)
    leave_group(clean=True)  # without a group: nothing to do


# --------------------------------------------------------------------------------------------
# what the ranks compute, not only that they agree

def _join_group(rank: int, world: int, port: int) -> None:
    _rank_env(rank, world, port)
    dist.init_process_group("gloo")


def _spawn(fn, *args, nprocs: int = 2, timeout_s: float = 120) -> None:
    """Run fn(rank, nprocs, port, *args) on nprocs gloo ranks; fail (instead of hanging) when they
    do not all finish within timeout_s, e.g. because one rank waits in a collective alone."""
    ctx = mp.spawn(fn, args=(nprocs, free_port(), *args), nprocs=nprocs, join=False)
    deadline = time.monotonic() + timeout_s
    while not ctx.join(timeout=1):
        if time.monotonic() > deadline:
            for p in ctx.processes:
                p.kill()
            pytest.fail(f"the {nprocs} ranks did not finish within {timeout_s:.0f} s (a rank waits alone)")


def _split_step_worker(rank: int, world: int, port: int, out: str) -> None:
    _join_group(rank, world, port)
    with _leaving_the_group():
        half = _STEP_BATCH // world
        grads = _one_step(slice(rank * half, (rank + 1) * half), world)
        torch.save(grads, os.path.join(out, f"grads{rank}.pt"))


_STEP_BATCH = 8


def _one_step(rows: slice, world: int) -> dict:
    """A D step (with R1) and a G step (with the mask losses) on rows of one fixed batch of
    8; returns the gradients each network was updated with (after the all-reduce).  G runs in
    eval mode, so that no batch statistic depends on how the batch is split."""
    from ganseg_lib.training.gan import d_step, g_step
    from ganseg_lib.training.state import build_state

    cfg = tiny_config(batch=_STEP_BATCH)
    state = build_state(cfg, torch.device("cpu"), seed=3)
    state.g.eval()
    noise = torch.Generator().manual_seed(5)
    real = tiny_images(_STEP_BATCH).float().div(127.5).sub(1.0)[rows]
    d_latents = state.g.sample_latents(_STEP_BATCH, generator=noise)[rows]
    g_latents = state.g.sample_latents(_STEP_BATCH, generator=noise)[rows]
    d_step(state.g, state.d, state.opt_d, real, d_latents, cfg, do_r1=True, world=world)
    d_grads = {f"d.{n}": p.grad.clone() for n, p in state.d.named_parameters()}
    g_step(state.g, state.d, state.opt_g, g_latents, cfg, do_reg=True, world=world)
    return d_grads | {f"g.{n}": p.grad.clone() for n, p in state.g.named_parameters() if p.grad is not None}


@pytest.mark.skipif(not dist.is_gloo_available(), reason="needs the gloo backend")
def test_two_ranks_with_half_batches_step_like_one_rank_with_the_whole_batch(tmp_path):
    # the losses are batch means, so the mean of the two halves' gradients is the whole batch's
    # gradient: this fails if the all-reduce sums instead of averaging
    whole = _one_step(slice(None), world=1)
    _spawn(_split_step_worker, str(tmp_path))
    ranks = [torch.load(tmp_path / f"grads{r}.pt", weights_only=True) for r in range(2)]
    assert set(ranks[0]) == set(whole) and any(k.startswith("g.") for k in whole)
    for name, g in whole.items():
        assert torch.equal(ranks[0][name], ranks[1][name]), name
        scale = g.abs().max().item()  # float sums in another order: tolerance relative to the tensor's scale
        torch.testing.assert_close(ranks[0][name], g, rtol=1e-3, atol=1e-4 * scale + 1e-8,
                                   msg=lambda m: f"{name}: {m}")


def _train_worker(rank: int, world: int, port: int, run: str, steps: int, resume: bool) -> None:
    _join_group(rank, world, port)
    with _leaving_the_group():
        _train(run, steps, resume)


def _train(run: str, steps: int, resume: bool) -> None:
    from ganseg_lib.training.gan import TrainOptions, train

    train(tiny_config(steps=steps, checkpoint_every=steps), tiny_images(), run,
          TrainOptions(resume=resume, progress=False, grid_samples=0, log=lambda line: None))


def _run(world: int, run, steps: int, resume: bool = False) -> list[torch.Tensor]:
    """Train on `world` processes (1: in this process); the checkpoint's per-rank sampler states."""
    if world == 1:
        _train(str(run), steps, resume)
    else:
        _spawn(_train_worker, str(run), steps, resume, nprocs=world)
    from ganseg_lib.checkpoint import load_checkpoint
    ck = load_checkpoint(run / "checkpoint.pt", "gan")
    assert ck["step"] == steps and ck["world"] == world
    return ck["samplers"]


@pytest.mark.skipif(not dist.is_gloo_available(), reason="needs the gloo backend")
@pytest.mark.parametrize("before, after", [(1, 2), (2, 1)])
def test_resuming_with_another_number_of_processes_draws_new_noise_on_every_rank(tmp_path, before, after):
    _run(before, tmp_path / "run", 3)
    resumed = _run(after, tmp_path / "run", 4, resume=True)  # step 4 after a resume on `after` ranks
    replay = _run(after, tmp_path / "fresh", 1)  # step 1 of a fresh run on `after` ranks
    for rank in range(after):  # no rank replays the noise it drew in the run's first step
        assert not torch.equal(resumed[rank], replay[rank]), f"rank {rank} replays its noise from step 0"
    assert after == 1 or not torch.equal(resumed[0], resumed[1])


def _distill_worker(rank: int, world: int, port: int, run: str, stop_at: list[int]) -> None:
    _join_group(rank, world, port)
    with _leaving_the_group():
        from ganseg_lib.model import Generator
        from ganseg_lib.training.segmenter import distill

        cfg = tiny_config()
        torch.manual_seed(0)
        done = []
        distill(cfg, Generator(cfg), os.path.join(run, "seg.pt"), steps=6, progress=False, world=world, rank=rank,
                callback=lambda step, loss: done.append(step), stop=lambda step: step >= stop_at[rank])
        torch.save(torch.tensor(done), os.path.join(run, f"steps{rank}.pt"))


@pytest.mark.skipif(not dist.is_gloo_available(), reason="needs the gloo backend")
def test_distillation_ranks_stop_together_when_their_clocks_disagree(tmp_path):
    # rank 1's clock says "time is up" at step 1, rank 0's at step 3: rank 0 decides for both
    _spawn(_distill_worker, str(tmp_path), [3, 1], timeout_s=90)
    for rank in range(2):
        assert torch.load(tmp_path / f"steps{rank}.pt").tolist() == [1, 2, 3]
    from ganseg_lib.checkpoint import load_checkpoint
    assert load_checkpoint(tmp_path / "seg.pt", "segmenter")["steps"] == 3


# --------------------------------------------------------------------------------------------
# `ganseg train --procs N`: the processes started by the command itself

def _weights(run) -> dict:
    from ganseg_lib.checkpoint import load_checkpoint
    ck = load_checkpoint(run / "checkpoint.pt", "gan")
    return {"step": ck["step"], "world": ck["world"], "batch": ck["config"]["train"]["batch"],
            **{f"{net}.{k}": v for net in ("g", "d", "g_ema") for k, v in ck[net].items()}}


@pytest.fixture(scope="module")
def faces(tmp_path_factory):
    import data_prep
    path = tmp_path_factory.mktemp("data") / "faces32.ganseg-data"
    data_prep.prepare_synthetic("faces", 24, 32, seed=3, out=path)
    return path


@pytest.mark.skipif(not dist.is_gloo_available(), reason="needs the gloo backend")
def test_train_procs_gives_the_torchrun_result_bit_for_bit(tmp_path, faces):
    import subprocess
    import sys

    from ganseg_lib.app.cli import main

    common = ["--data", str(faces), "--preset", "cpu-tiny", "--steps", "3", "--quiet", "--grid", "0"]
    assert main(["train", *common, "--out", str(tmp_path / "procs"), "--batch", "4", "--procs", "2"]) == 0
    env = dict(os.environ, OMP_NUM_THREADS="1")
    done = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
                           "-m", "ganseg_lib", "train", *common, "--out", str(tmp_path / "torchrun"),
                           "--batch", "2"], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    ours, theirs = _weights(tmp_path / "procs"), _weights(tmp_path / "torchrun")
    assert ours["step"] == 3 and ours["world"] == 2 and ours["batch"] == 2  # 4 images per step, 2 per process
    assert ours.keys() == theirs.keys()
    for name, t in ours.items():
        assert torch.equal(torch.as_tensor(t), torch.as_tensor(theirs[name])), name
    # a resume keeps the recorded batch per process
    assert main(["train", "--data", str(faces), "--out", str(tmp_path / "procs"), "--steps", "4", "--resume",
                 "--quiet", "--grid", "0", "--procs", "2"]) == 0
    resumed = _weights(tmp_path / "procs")
    assert resumed["step"] == 4 and resumed["batch"] == 2


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_train_procs_on_cuda_needs_a_gpu_per_process(tmp_path, faces, capsys):
    from ganseg_lib.app.cli import main

    code = main(["train", "--data", str(faces), "--preset", "cpu-tiny", "--out", str(tmp_path / "r"),
                 "--device", "cuda", "--procs", str(torch.cuda.device_count() + 1), "--quiet"])
    assert code == 2 and "GPUs (one per process)" in capsys.readouterr().err and not (tmp_path / "r").exists()


def test_train_procs_refuses_a_batch_it_cannot_split_in_one_line(tmp_path, faces, capsys):
    from ganseg_lib.app.cli import main

    code = main(["train", "--data", str(faces), "--preset", "cpu-tiny", "--out", str(tmp_path / "r"),
                 "--batch", "5", "--procs", "2", "--quiet"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and err == ["ganseg: error: --procs 2 must divide the batch (5 images per step); "
                                 "choose --batch 4 or another --procs"]
    assert not (tmp_path / "r").exists()


def test_train_procs_on_a_run_that_holds_a_checkpoint_is_one_line_and_leaves_it(tmp_path, faces, capfd):
    from ganseg_lib.app.cli import main

    argv = ["train", "--data", str(faces), "--preset", "cpu-tiny", "--out", str(tmp_path / "r"), "--steps", "1",
            "--quiet", "--grid", "0"]
    assert main(argv) == 0
    before = (tmp_path / "r" / "checkpoint.pt").read_bytes()
    capfd.readouterr()
    # refused before any process starts, in the words of the one-process command
    assert main(argv + ["--procs", "2"]) == 2
    err = [line for line in capfd.readouterr().err.splitlines() if line.strip()]
    assert err == [f"ganseg: error: {tmp_path / 'r'} already holds a checkpoint; continue it with --resume or "
                   "pass --force to restart"], err
    assert (tmp_path / "r" / "checkpoint.pt").read_bytes() == before


def _exits(code: int) -> None:
    import sys
    sys.exit(code)


def _hangs() -> None:  # a rank that waits for a collective its dead peer never joins
    time.sleep(600)


@pytest.mark.parametrize("targets, expected", [
    (((_exits, 0), (_exits, 0)), 0),
    (((_hangs,), (_exits, 3)), 3),  # rank 1 dies: rank 0 is stopped, rank 1's status returned
    (((_exits, 2), (_hangs,)), 2),  # rank 0's status comes first
])
def test_the_launcher_stops_the_other_ranks_when_one_dies_and_returns_its_status(monkeypatch, targets, expected):
    import multiprocessing

    from ganseg_lib.app import launch

    monkeypatch.setattr(launch, "WAIT_AFTER_FAILURE_S", 0.5)
    ctx = multiprocessing.get_context("spawn")
    ranks = [ctx.Process(target=t[0], args=t[1:]) for t in targets]
    for p in ranks:
        p.start()
    start = time.monotonic()
    try:
        assert launch._wait(ranks) == expected
    finally:
        for p in ranks:
            p.kill()
            p.join()
    assert time.monotonic() - start < 60
