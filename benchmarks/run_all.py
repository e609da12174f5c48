"""`make bench`: every benchmark of the project, one after the other.

Arguments are passed to benchmarks.bench_speed (e.g. `make bench ARGS="--quick"`)."""
from __future__ import annotations

import sys

from benchmarks import bench_data, bench_iteration, bench_pointwise, bench_presets, bench_speed


def main() -> None:
    args = sys.argv[1:]
    print("== data rendering and loading (benchmarks.bench_data)")
    sys.argv = [sys.argv[0]]
    bench_data.main()
    print("== generator per preset against the released structure (benchmarks.bench_presets)")
    bench_presets.main([])
    print("== 1x1 convolutions: oneDNN against one batched matmul (benchmarks.bench_pointwise)")
    bench_pointwise.main([])
    print("== training iterations against the released structure, interleaved (benchmarks.bench_iteration)")
    bench_iteration.main(["--preset", "cpu-tiny", "--batch", "16", "--rounds", "5", "--iterations", "10"])
    bench_iteration.main(["--preset", "paper-celeba-wild", "--batch", "8", "--rounds", "5",
                         "--variants", "fp32", "channels-last"])
    print("== model stages (benchmarks.bench_speed)")
    bench_speed.main(args)


if __name__ == "__main__":
    main()
