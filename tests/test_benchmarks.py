"""The benchmark scripts still run and write what the README promises (tiny sizes; no timing asserted)."""
import json
from pathlib import Path

import pytest

from benchmarks import bench_iteration, bench_pointwise, bench_speed


def test_bench_iteration_writes_its_report(tmp_path):
    report = bench_iteration.main(["--preset", "cpu-tiny", "--batch", "2", "--rounds", "1", "--out", str(tmp_path)])
    saved = json.loads((tmp_path / "iteration-cpu-tiny-b2.json").read_text())
    assert saved["seconds_per_iteration"] == report["seconds_per_iteration"]
    assert set(saved["seconds_per_iteration"]) == {"cpu-tiny", "released structure"}
    assert saved["speedup_vs_released"]["cpu-tiny"] > 0
    assert not list(tmp_path.glob("*.tmp"))


def test_bench_iteration_variants_spread_warmup_and_flop_rate(tmp_path):
    report = bench_iteration.main(["--preset", "cpu-tiny", "--batch", "2", "--rounds", "2", "--warmup", "1",
                                   "--variants", "fp32", "channels-last", "bf16", "--out", str(tmp_path)])
    names = {"cpu-tiny", "cpu-tiny [channels-last]", "cpu-tiny [bf16]", "released structure"}
    assert set(report["seconds_per_iteration"]) == names
    assert set(report["speedup_vs_released"]) == names - {"released structure"}
    for name in names:
        s = report["spread_seconds"][name]
        assert 0 < s["min"] <= s["median"] <= s["max"]
        assert len(report["warmup_seconds"][name]) == 1 and len(report["all_seconds"][name]) == 2
        assert 0 < report["fraction_of_matmul"][name]
    flops = report["gflop_per_iteration"]
    # layout and autocast change how, not how much, is computed
    assert flops["cpu-tiny"] == flops["cpu-tiny [channels-last]"] == flops["cpu-tiny [bf16]"]


def test_bench_iteration_compiled_variant_runs_and_counts_the_eager_twins_flops(tmp_path):
    """The eager backend (dynamo tracing only) stands in for inductor: the same plumbing in seconds, no C++ compiler."""
    report = bench_iteration.main(["--preset", "cpu-tiny", "--batch", "2", "--rounds", "1", "--iterations", "4",
                                   "--warmup", "1", "--variants", "fp32", "compiled", "--compile-backend", "eager",
                                   "--out", str(tmp_path)])
    assert report["compile_backend"] == "eager"
    assert report["seconds_per_iteration"]["cpu-tiny [compiled]"] > 0
    flops = report["gflop_per_iteration"]
    assert flops["cpu-tiny [compiled]"] == flops["cpu-tiny"] > 0  # counted on the eager model: the same work
    assert bench_iteration.counted_twin("cpu-tiny [bf16]") == "cpu-tiny [bf16]"


def test_bench_iteration_counts_flops_per_iteration_index():
    """R1 steps cost more than plain ones; the count is per image (batch 1) and deterministic."""
    plain, r1 = bench_iteration.count_flops(bench_iteration.ours("cpu-tiny", 1), [1, 4])
    assert r1 > plain > 0  # iteration 4 adds R1 (cpu-tiny's r1_interval is 4)
    assert bench_iteration.count_flops(bench_iteration.ours("cpu-tiny", 1), [1]) == [plain]


def test_bench_iteration_flops_per_iteration_with_several_iterations_per_round(tmp_path):
    """With --iterations k each turn runs k indices; the report's FLOPs are still per iteration."""
    report = bench_iteration.main(["--preset", "cpu-tiny", "--batch", "2", "--rounds", "1", "--iterations", "2",
                                   "--warmup", "0", "--out", str(tmp_path)])
    one = bench_iteration.count_flops(bench_iteration.ours("cpu-tiny", 1), [1, 2])
    assert report["gflop_per_iteration"]["cpu-tiny"] == pytest.approx(2 * (one[0] + one[1]) / 2 / 1e9)
    rate = 2 * sum(one) / (report["all_seconds"]["cpu-tiny"][0] * 2) / 1e9
    assert report["gflops_per_s"]["cpu-tiny"] == pytest.approx(rate)


def test_bench_speed_measures_a_stage_with_flops():
    job = {"device": "cpu", "repeats": 1, "warmup": 0, "preset": "cpu-tiny", "stage": "g_forward", "batch": 2}
    result = bench_speed.measure(job)
    assert result["seconds"] > 0 and result["images_per_s"] > 0
    # cpu-tiny's forward is about 0.06 GFLOP per image (SPADE hidden convs factored)
    assert 0.03 < result["gflop_per_image"] < 0.12, result["gflop_per_image"]
    assert result["peak_memory_mb"] > 0


def test_bench_pointwise_writes_its_report(tmp_path):
    rows = bench_pointwise.main(["--quick", "--out", str(tmp_path)])
    saved = json.loads((tmp_path / "pointwise.json").read_text())
    assert [r["shape"] for r in saved["rows"]] == [r["shape"] for r in rows] and len(rows) == 3
    assert all(r["speedup_forward_backward"] > 0 for r in rows)


def test_bench_recipes_trains_scores_and_summarises_each_run(tmp_path):
    import data_prep
    from benchmarks import bench_recipes

    data = tmp_path / "faces32.ganseg-data"
    data_prep.prepare_synthetic("faces", 24, 32, seed=1, out=data)
    out = tmp_path / "recipes.json"
    args = ["--data", str(data), "--recipes", "course", "augmented", "--seeds", "0", "--steps", "2",
            "--distill-steps", "2", "--runs", str(tmp_path / "runs"), "--out", str(out)]
    report = bench_recipes.main(args)
    saved = json.loads(out.read_text())
    assert saved["mean_over_seeds"] == report["mean_over_seeds"]
    runs = {r["recipe"]: r for r in saved["runs"]}
    assert set(runs) == {"course", "augmented"} and all(r["status"] == "done" for r in runs.values())
    for r in runs.values():
        assert r["gan_iterations"] == 2 and r["x_mean_shape"] > 0 and r["parts_alive"] <= 4
        assert r["commands"][0].startswith("ganseg train --data") and set(r["wall_minutes"]) == {"train", "distill",
                                                                                                "evaluate"}
    assert "augment.ada_target=0.6" in runs["augmented"]["commands"][0]
    # the augmented run logged its augmentation strength; the plain one did not
    assert (tmp_path / "runs" / "augmented-s0" / "log.csv").read_text().splitlines()[0].count("aug_p") == 1
    collected = bench_recipes.main(args + ["--collect"])  # done runs are read, not run again
    assert [r["x_mean_shape"] for r in collected["runs"]] == [r["x_mean_shape"] for r in saved["runs"]]


def test_bench_recipes_minutes_budget_stops_training_on_the_clock(tmp_path):
    import data_prep
    from benchmarks import bench_recipes

    data = tmp_path / "faces32.ganseg-data"
    data_prep.prepare_synthetic("faces", 24, 32, seed=1, out=data)
    report = bench_recipes.main(["--data", str(data), "--recipes", "course", "--seeds", "0", "--steps", "1000",
                                 "--minutes", "0.002", "--distill-steps", "2", "--runs", str(tmp_path / "runs"),
                                 "--out", str(tmp_path / "recipes.json")])
    (row,) = report["runs"]
    assert row["status"] == "done" and 1 <= row["gan_iterations"] < 1000  # the clock stopped it, not --steps
    assert "--minutes 0.002" in row["commands"][0] and report["budget"]["gan_minutes"] == 0.002


def test_bench_procs_times_one_process_against_two_and_writes_its_report(tmp_path):
    import data_prep
    from benchmarks import bench_procs

    data = tmp_path / "faces32.ganseg-data"
    data_prep.prepare_synthetic("faces", 24, 32, seed=1, out=data)
    report = bench_procs.main(["--data", str(data), "--presets", "cpu-tiny", "--steps", "2", "--out", str(tmp_path)])
    saved = json.loads((tmp_path / "procs-cpu-tiny.json").read_text())
    assert saved == report
    modes = saved["presets"]["cpu-tiny"]
    assert modes["threads"]["steps"] == modes["procs"]["steps"] == 2
    assert all(modes[m]["command"].startswith("OMP_NUM_THREADS=2 python -m ganseg_lib train") for m in modes
               if m != "procs_speedup_wall")
    assert modes["procs"]["command"].endswith("--procs 2") and "--batch" not in modes["procs"]["command"]
    assert all(str(tmp_path) not in modes[m]["command"] for m in ("threads", "procs"))  # paths by name only
    assert modes["procs_speedup_wall"] > 0


def test_bench_procs_refuses_a_batch_that_does_not_split():
    from benchmarks import bench_procs

    with pytest.raises(SystemExit, match="does not split over 3 processes"):
        bench_procs.mode_command("procs", 3, Path("x"), "cpu-tiny", Path("y"), 2)


def test_gpu_check_runs_its_whole_plumbing_on_the_cpu(tmp_path):
    """`gpu_check --device cpu --quick`: every part (agreement, the four speed variants including
    bfloat16 autocast and a compiled one, the lesson-08 training) runs and lands in the JSON."""
    from benchmarks import gpu_check
    out = tmp_path / "gpu-check.json"
    report = gpu_check.main(["--device", "cpu", "--quick", "--out", str(out)])
    saved = json.loads(out.read_text())
    assert saved["agreement"] == report["agreement"] and all(a["ok"] for a in saved["agreement"])
    variants = {(s["bf16"], s["compiled"]) for s in saved["speed"]}
    assert variants == {(False, None), (True, None), (False, "aot_eager"), (True, "aot_eager")}
    for s in saved["speed"]:
        assert "error" not in s, s
        t = s["s_per_iteration"]
        assert 0 < t["min"] <= t["median"] <= t["max"] and 0 < s["fraction_of_fp32_matmul"] < 1
    assert saved["training"]["iterations"] > 0 and saved["training"]["preset"] == "cpu-tiny"
    assert not list(tmp_path.glob("*.tmp"))


def test_gpu_check_says_in_one_line_when_there_is_no_gpu():
    from benchmarks import gpu_check
    if gpu_check.torch.cuda.is_available():
        pytest.skip("a GPU is visible")
    with pytest.raises(SystemExit, match="no CUDA device is visible here.*--device cpu --quick"):
        gpu_check.main(["--device", "cuda"])


def test_bench_snapshots_distills_and_scores_every_shipped_snapshot(tmp_path):
    import data_prep
    from benchmarks import bench_snapshots
    from ganseg_lib.course import snapshot_generators

    data = tmp_path / "faces32.ganseg-data"
    data_prep.prepare_synthetic("faces", 24, 32, seed=1, out=data)
    out = tmp_path / "snapshots.json"
    report = bench_snapshots.main(["--data", str(data), "--steps", "2", "--out", str(out)])
    saved = json.loads(out.read_text())
    assert saved == report and str(tmp_path) not in saved["command"]
    rows = saved["snapshots"]
    assert [r["gan_steps"] for r in rows] == list(snapshot_generators())  # every snapshot, in step order
    for r in rows:
        assert r["distill_steps"] == 2 and r["landmark_unit"] == "% IOD" and r["x_mean_shape"] > 0
        assert 0 <= r["foreground_iou"] <= 1 and len(r["part_mass"]) == 4


def test_bench_snapshots_names_a_missing_data_file(tmp_path):
    from benchmarks import bench_snapshots

    with pytest.raises(SystemExit, match="does not exist; make it with python -m data_prep.prepare faces"):
        bench_snapshots.main(["--data", str(tmp_path / "none.ganseg-data")])


def test_bench_equivariance_finds_the_exact_shifts_of_each_structure(tmp_path):
    from benchmarks import bench_equivariance

    out = tmp_path / "eq.json"
    report = bench_equivariance.main(["--presets", "cpu-tiny", "cpu-tiny-coarse", "--shifts", "1", "2",
                                      "--samples", "1", "--out", str(out)])
    assert json.loads(out.read_text()) == report
    for name in ("cpu-tiny", "cpu-tiny-coarse"):
        rows = report["presets"][name]["shifts"]
        assert rows["2"]["exact_by_structure"] and max(rows["2"]["masks_rel_error"], rows["2"]["image_rel_error"]) < 1e-10
        assert not rows["1"]["exact_by_structure"] and rows["1"]["masks_rel_error"] > 1e-4
    assert report["presets"]["cpu-tiny-coarse"]["coarse_masks"] and not report["presets"]["cpu-tiny"]["coarse_masks"]


def test_bench_equivariance_with_approximate_masks_keeps_the_masks_exact_and_not_the_image(tmp_path):
    from benchmarks import bench_equivariance

    report = bench_equivariance.main(["--presets", "cpu-tiny", "--shifts", "2", "--samples", "1",
                                      "--approximate-masks", "--out", str(tmp_path / "eq.json")])
    exact, cheap = report["presets"]["cpu-tiny"], report["presets"]["cpu-tiny [approximate masks]"]
    assert exact["exact_masks"] and not cheap["exact_masks"]
    assert cheap["shifts"]["2"]["masks_rel_error"] < 1e-10  # the mask stack is still exact
    assert cheap["shifts"]["2"]["image_rel_error"] > 1e-3 > exact["shifts"]["2"]["image_rel_error"]


def test_bench_margins_writes_its_report_and_counts_every_block(tmp_path):
    from benchmarks import bench_margins

    reports = bench_margins.main(["--presets", "cpu-tiny", "--out", str(tmp_path / "margins.json")])
    assert json.loads((tmp_path / "margins.json").read_text()) == {"presets": reports}
    (tiny,) = reports
    assert {(b["stack"], b["block"]) for b in tiny["blocks"]} == {
        (s, i) for s in ("mask stack", "foreground", "background") for i in (0, 1)}
    for b in tiny["blocks"]:  # every grid is at least its level, and a margin costs FLOPs
        assert b["grid_side"] > b["level_side"] and b["gflop"] > b["gflop_without_margin"] > 0
    assert tiny["forward_speedup_with_approximate_masks"] > 1.0


def test_bench_iteration_counts_the_released_structures_gradient_penalty_step():
    """Its R1 step (every 16th) takes autograd.grad to the real images; the FLOP counter must follow."""
    plain, r1 = bench_iteration.count_flops(bench_iteration.released("cpu-tiny", 1), [1, 16])
    assert r1 > plain > 0
