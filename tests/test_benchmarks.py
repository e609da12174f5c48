"""The benchmark scripts still run and write what the README promises (tiny sizes; no timing asserted)."""
import json

from benchmarks import bench_iteration, bench_pointwise, bench_speed


def test_bench_iteration_writes_its_report(tmp_path):
    report = bench_iteration.main(["--preset", "cpu-tiny", "--batch", "2", "--rounds", "1", "--out", str(tmp_path)])
    saved = json.loads((tmp_path / "iteration-cpu-tiny-b2.json").read_text())
    assert saved["seconds_per_iteration"] == report["seconds_per_iteration"]
    assert set(saved["seconds_per_iteration"]) == {"cpu-tiny", "released structure"}
    assert saved["speedup_vs_released"]["cpu-tiny"] > 0
    assert not list(tmp_path.glob("*.tmp"))


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
