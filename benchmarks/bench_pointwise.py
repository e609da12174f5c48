"""1x1 convolutions on CPU: oneDNN's conv kernel against one batched matmul (`layers.PointwiseConv2d`).

The shapes are those of the SPADE gamma/beta convs (`spade_kernel=1`) in cpu-tiny and
paper-fast, and the discriminator's shortcut.  Median milliseconds of forward and of
forward+backward per call, and the speed-up of the matmul form.

    python -m benchmarks.bench_pointwise [--threads 2] [--repeats 7]

Writes benchmarks/results/pointwise.json.
"""
from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

import torch
from torch import nn

from benchmarks.bench_speed import time_calls
from ganseg_lib.checkpoint import atomic_write_text
from ganseg_lib.model.fast import PointwiseConv2d

RESULTS = Path(__file__).resolve().parent / "results"
# (label, batch, in channels, out channels, side)
SHAPES = [("cpu-tiny gamma/beta, 32-px level", 16, 16, 16, 60),
          ("cpu-tiny gamma/beta, 16-px level", 16, 16, 32, 30),
          ("cpu-tiny D shortcut", 16, 16, 32, 16),
          ("paper-fast gamma/beta, 128-px level", 8, 128, 128, 134),
          ("paper-fast gamma/beta, 64-px level", 8, 128, 256, 70),
          ("paper-fast gamma/beta, 32-px level", 8, 128, 1024, 20)]


def _median_ms(fn, repeats: int) -> float:
    return 1e3 * statistics.median(time_calls(fn, 1, repeats))


def measure(batch: int, cin: int, cout: int, side: int, repeats: int) -> dict:
    conv = nn.Conv2d(cin, cout, 1)
    pointwise = PointwiseConv2d(cin, cout)
    pointwise.load_state_dict(conv.state_dict())
    x = torch.randn(batch, cin, side, side, requires_grad=True)
    out = {}
    for name, fn in (("conv", conv), ("matmul", pointwise)):
        def forward_backward(fn=fn):
            y = fn(x)
            y.backward(torch.ones_like(y))
        with torch.no_grad():
            out[f"{name}_forward_ms"] = _median_ms(lambda fn=fn: fn(x), repeats)
        out[f"{name}_forward_backward_ms"] = _median_ms(forward_backward, repeats)
    out["speedup_forward"] = out["conv_forward_ms"] / out["matmul_forward_ms"]
    out["speedup_forward_backward"] = out["conv_forward_backward_ms"] / out["matmul_forward_backward_ms"]
    return out


def main(argv: list[str] | None = None) -> list[dict]:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--quick", action="store_true", help="the cpu-tiny shapes only, 2 repeats (smoke test)")
    p.add_argument("--out", default=str(RESULTS))
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    shapes = SHAPES[:3] if args.quick else SHAPES
    repeats = 2 if args.quick else args.repeats
    rows = []
    print(f"{'shape':38s} {'conv f / f+b ms':>18s} {'matmul f / f+b ms':>19s} {'speed-up f / f+b':>17s}")
    for label, b, cin, cout, side in shapes:
        r = {"shape": label, "batch": b, "in": cin, "out": cout, "side": side, **measure(b, cin, cout, side, repeats)}
        rows.append(r)
        print(f"{label:38s} {r['conv_forward_ms']:8.2f} {r['conv_forward_backward_ms']:9.2f} "
              f"{r['matmul_forward_ms']:9.2f} {r['matmul_forward_backward_ms']:9.2f} "
              f"{r['speedup_forward']:7.2f}x {r['speedup_forward_backward']:7.2f}x", flush=True)
    report = {"threads": torch.get_num_threads(), "torch": torch.__version__, "rows": rows}
    atomic_write_text(Path(args.out) / "pointwise.json", json.dumps(report, indent=2))
    return rows


if __name__ == "__main__":
    main()
