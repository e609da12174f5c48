"""How equivariant each preset's generator is, shift by shift: what exactness costs and what it buys.

    python -m benchmarks.bench_equivariance --presets cpu-tiny cpu-tiny-coarse --shifts 1 2 3 4

Moves every point and the background by `s` output pixels along x and along y and compares the
new masks and image with the old ones shifted by `s` pixels, on the region both cover (float64,
eval mode, BatchNorm running statistics drawn at random so that they are not the identity).
Reports the largest error relative to the map's largest value, over `--samples` latents.  A
preset is exact (about 1e-13) for shifts that are whole pixels of its coarsest grid and
approximate for the others; the report says by how much.  Presets are measured with their
initial weights (the structure decides which shifts are exact; random weights make the others
look as bad as they can); `--runs` adds trained generators (a run folder's EMA generator, or
`shipped` for the shipped faces checkpoint), which say how far off the other shifts are in
practice.  Writes benchmarks/results/equivariance.json.

    python -m benchmarks.bench_equivariance --presets cpu-tiny --runs shipped runs/faces-coarse

`--approximate-masks` measures every model a second time with `generator.exact_masks=false`
(the same weights): no shift is then exact for the image, and the report says how far off it is.
"""
from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

import torch

from benchmarks.report import write_report
from ganseg_lib.config import get_preset
from ganseg_lib.model import Generator, Latents

RESULTS = Path(__file__).resolve().parent / "results"
FIELDS = ("masks", "image")


def randomised_generator(preset: str, seed: int = 0) -> Generator:
    torch.manual_seed(seed)
    g = Generator(get_preset(preset)).double().eval()
    with torch.no_grad():
        for bn in (m for m in g.modules() if isinstance(m, torch.nn.BatchNorm2d)):
            bn.running_mean.uniform_(-0.5, 0.5)
            bn.running_var.uniform_(0.5, 2.0)
    return g


def trained_generator(run: str) -> Generator:
    """The EMA generator of a run folder, or of the shipped faces checkpoint ("shipped"), in float64."""
    if run == "shipped":
        from ganseg_lib.app.shipped import load_course_checkpoint
        from ganseg_lib.course import shipped_checkpoint
        _, g, _ = load_course_checkpoint(shipped_checkpoint("faces"), "cpu")
    else:
        from ganseg_lib.training.state import load_gan
        _, g, _ = load_gan(Path(run) / "checkpoint.pt")
    return g.double().eval()


def with_approximate_masks(g: Generator) -> Generator:
    """The same weights with `generator.exact_masks=false` (the option changes grids, not parameters)."""
    cheap = Generator(replace(g.cfg, exact_masks=False)).double().eval()
    cheap.load_state_dict(g.state_dict())
    return cheap


def shift_errors(g: Generator, shift_px: int, samples: int, seed: int = 3) -> dict[str, float]:
    """Largest relative error of each field for a shift of `shift_px` output pixels, along x and y."""
    S = g.cfg.image_size
    lat = g.sample_latents(samples, generator=torch.Generator().manual_seed(seed))
    lat = Latents(*(t.double() for t in (lat.z_point, lat.z_app, lat.z_bg, lat.bg_shift)))
    step = 2.0 * shift_px / S  # output pixels -> [-1, 1] units
    worst = dict.fromkeys(FIELDS, 0.0)
    with torch.no_grad():
        a = g(lat)
        for dx, dy in ((1, 0), (0, 1)):
            delta = torch.tensor([dx * step, dy * step], dtype=torch.float64)
            b = g(Latents(lat.z_point, lat.z_app, lat.z_bg, lat.bg_shift + delta), points=a.points + delta)
            for field in FIELDS:
                x = getattr(a, field)[..., :S - dy * shift_px, :S - dx * shift_px]
                y = getattr(b, field)[..., dy * shift_px:, dx * shift_px:]
                err = (x - y).abs().max().item() / max(1e-12, x.abs().max().item())
                worst[field] = max(worst[field], err)
    return worst


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--presets", nargs="+", default=["cpu-tiny", "cpu-tiny-coarse"])
    p.add_argument("--shifts", nargs="+", type=int, default=[1, 2, 3, 4], help="shifts in output pixels")
    p.add_argument("--runs", nargs="*", default=[], help="trained generators: run folders, or shipped")
    p.add_argument("--samples", type=int, default=4)
    p.add_argument("--approximate-masks", action="store_true",
                   help="also measure every model with generator.exact_masks=false (same weights)")
    p.add_argument("--out", default=str(RESULTS / "equivariance.json"))
    args = p.parse_args(argv)
    runs = " --runs " + " ".join(r if r == "shipped" else Path(r).name for r in args.runs) if args.runs else ""
    report = {"command": "python -m benchmarks.bench_equivariance --presets " + " ".join(args.presets) + runs
              + " --shifts " + " ".join(map(str, args.shifts)) + f" --samples {args.samples}"
              + (" --approximate-masks" if args.approximate_masks else ""), "presets": {}}
    models = [(preset, "initial weights", randomised_generator(preset)) for preset in args.presets]
    models += [(run if run == "shipped" else Path(run).name, "trained", trained_generator(run)) for run in args.runs]
    if args.approximate_masks:
        models += [(f"{name} [approximate masks]", weights, with_approximate_masks(g)) for name, weights, g in models]
    for name, weights, g in models:
        coarsest = g.cfg.image_size // g.cfg.resolutions[0]
        rows = {}
        for s in args.shifts:
            errs = shift_errors(g, s, args.samples)
            rows[str(s)] = {"exact_by_structure": s % coarsest == 0, **{f"{f}_rel_error": e for f, e in errs.items()}}
            print(f"{name:18s} ({weights}) shift {s} px: masks {errs['masks']:.1e}, image {errs['image']:.1e}"
                  f"{'  (a whole coarse pixel)' if s % coarsest == 0 else ''}")
        report["presets"][name] = {"weights": weights, "coarsest_grid_px": coarsest,
                                   "coarse_masks": g.cfg.coarse_masks, "exact_masks": g.cfg.exact_masks,
                                   "shifts": rows}
    write_report(args.out, report)
    return report


if __name__ == "__main__":
    main()
