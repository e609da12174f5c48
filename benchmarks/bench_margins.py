"""What exact translation equivariance costs: the generator's FLOPs spent on margins, per block.

    python -m benchmarks.bench_margins --presets cpu-tiny paper-celeba-wild --out benchmarks/results/margins.json

Every generator conv is valid and each map is computed on a grid larger than its level's side
(`model/layers.py`, `plan_margins`), so that the image is exactly equivariant.  For each block
of the mask stack (level 2), the foreground and the background (level 3) this script reports
its input grid's side, that grid's area over the level's own area, and the block's forward
GFLOP per image (counted, `torch.utils.flop_counter`).  A block of the same widths run on the
level's side alone (zero padding, as in the released code, which is only approximately
equivariant) would cost about its FLOPs divided by that area ratio; the sum of those
estimates says how much of the generator's forward pass the exactness costs.  The report also
counts the generator with `generator.exact_masks=false` (the mask stack reaches only as far as
the finest level reads it), the one relaxation the library offers.  No timing: the
FLOP counts are exact and machine-independent; the estimate assumes a block's FLOPs scale
with its grid's area.
"""
from __future__ import annotations

import argparse

import torch
from torch.utils.flop_counter import FlopCounterMode

from benchmarks.report import write_report
from ganseg_lib.config import apply_overrides, get_preset
from ganseg_lib.model import Generator
from ganseg_lib.model.layers import mask_resolutions, plan_margins

STACKS = {"level2": "mask stack", "foreground": "foreground", "background": "background"}


def block_grids(cfg) -> dict[str, list[tuple[int, int]]]:
    """(level side, input margin) of every block of each stack, as `plan_margins` sizes them."""
    g = cfg.generator
    plan = plan_margins(g.resolutions, g.spade_kernel, g.coarse_masks, g.exact_masks)
    return {"level2": list(zip(mask_resolutions(g.resolutions, g.coarse_masks), plan.mask_in)),
            "foreground": list(zip(g.resolutions, plan.fg_in)),
            "background": list(zip(g.resolutions, plan.bg_in))}


def generator_flops(cfg) -> dict[str, int]:
    """Forward FLOPs of one image through the generator, per module name (down to the blocks)."""
    g = Generator(cfg).eval()
    counter = FlopCounterMode(display=False, depth=4)
    with counter, torch.no_grad():
        g(g.sample_latents(1, generator=torch.Generator().manual_seed(0)))
    return {name: sum(v.values()) for name, v in counter.get_flop_counts().items()}


def measure(preset: str) -> dict:
    cfg = get_preset(preset)
    counts = generator_flops(cfg)
    total = counts["Generator"]
    approximate = generator_flops(apply_overrides(cfg, ["generator.exact_masks=false"]))["Generator"]
    blocks, exact, unpadded = [], 0.0, 0.0
    for stack, grids in block_grids(cfg).items():
        for i, (side, margin) in enumerate(grids):
            flops = counts.get(f"Generator.{stack}.blocks.{i}", 0)
            area = ((side + 2 * margin) / side) ** 2
            blocks.append({"stack": STACKS[stack], "block": i, "level_side": side, "grid_side": side + 2 * margin,
                           "area_over_level": area, "gflop": flops / 1e9, "gflop_without_margin": flops / area / 1e9})
            exact += flops
            unpadded += flops / area
    rest = total - exact  # MLPs, positional encodings, heatmaps, output head
    return {"preset": preset, "image_size": cfg.generator.image_size,
            "generator_forward_gflop_per_image": total / 1e9, "blocks": blocks,
            "blocks_gflop": exact / 1e9, "blocks_gflop_without_margins": unpadded / 1e9,
            "other_gflop": rest / 1e9,
            "share_spent_on_margins": (exact - unpadded) / total,
            "forward_speedup_without_margins": total / (unpadded + rest),
            "generator_forward_gflop_with_approximate_masks": approximate / 1e9,
            "forward_speedup_with_approximate_masks": total / approximate}


def table(reports: list[dict]) -> str:
    lines = []
    for r in reports:
        lines.append(f"{r['preset']}: generator forward {r['generator_forward_gflop_per_image']:.2f} GFLOP per image, "
                     f"{100 * r['share_spent_on_margins']:.0f} % of it on margins "
                     f"(x{r['forward_speedup_without_margins']:.2f} fewer FLOPs without them; "
                     f"x{r['forward_speedup_with_approximate_masks']:.2f} with generator.exact_masks=false)")
        lines.append("  stack | block | level px | grid px | area x | GFLOP | GFLOP without margin")
        for b in r["blocks"]:
            lines.append(f"  {b['stack']} | {b['block']} | {b['level_side']} | {b['grid_side']} | "
                         f"{b['area_over_level']:.2f} | {b['gflop']:.3f} | {b['gflop_without_margin']:.3f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> list[dict]:
    p = argparse.ArgumentParser(prog="python -m benchmarks.bench_margins", description=__doc__.split("\n")[0])
    p.add_argument("--presets", nargs="+", default=["cpu-tiny", "cpu-small", "paper-celeba-wild", "paper-fast"])
    p.add_argument("--out", default="benchmarks/results/margins.json")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    reports = [measure(name) for name in args.presets]
    print(table(reports))
    write_report(args.out, {"presets": reports})
    return reports


if __name__ == "__main__":
    main()
