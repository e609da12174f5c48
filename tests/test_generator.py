"""Shapes, parameter counts, equivariance and determinism of the generator and discriminator."""
import math
from dataclasses import replace

import pytest
import torch

from ganseg_lib import PRESETS, Discriminator, Generator, Latents
from ganseg_lib.config import ConfigError
from ganseg_lib.coords import make_grid
from ganseg_lib.model.fast import PartCondition, PointwiseConv2d, condition_conv, part_condition
from ganseg_lib.model.layers import RelativePositionalEncoding, plan_margins
from ganseg_lib.model.masks import heatmaps
from ganseg_lib.model.points import part_centers_and_scales
from ganseg_lib.model.spade import SPADE, SPADEResBlock


def n_params(module):
    return sum(p.numel() for p in module.parameters())


@pytest.fixture(scope="module")
def paper_models():
    cfg = PRESETS["paper-celeba-wild"]
    return cfg, Generator(cfg).eval(), Discriminator(cfg).eval()


@pytest.mark.parametrize("name", ["cpu-tiny", "paper-celeba-wild"])
def test_shapes_of_every_level(name, paper_models):
    cfg = PRESETS[name]
    g = paper_models[1] if name.startswith("paper") else Generator(cfg).eval()
    d = paper_models[2] if name.startswith("paper") else Discriminator(cfg).eval()
    gc = cfg.generator
    S, K, n, D = gc.image_size, gc.n_parts, gc.points_per_part, gc.embed_dim
    lat = g.sample_latents(1, generator=torch.Generator().manual_seed(0))
    assert lat.z_point.shape == lat.z_app.shape == lat.z_bg.shape == (1, gc.z_dim)
    assert lat.bg_shift.shape == (1, 2)
    with torch.no_grad():
        out = g(lat)
        logits = d(out.image)
    assert out.points.shape == (1, K, n, 2)
    assert out.part_centers.shape == (1, K, 2) and out.part_scales.shape == (1, K)
    assert out.part_embeddings.shape == (1, K, D) and out.bg_embedding.shape == (1, D)
    assert out.heatmaps.shape == (1, K, S, S)
    assert out.masks.shape == (1, K + 1, S, S)
    assert out.foreground.shape == out.background.shape == (1, D, S, S)
    assert out.image.shape == (1, 3, S, S)
    assert logits.shape == (1,)
    assert torch.allclose(out.masks.sum(1), torch.ones(1, S, S), atol=1e-5)
    assert out.image.abs().max() <= 1.0
    assert out.points.abs().max() < 1.0


def test_paper_parameter_counts(paper_models):
    _, g, d = paper_models
    assert 0.85 * 17.8e6 <= n_params(g) <= 1.15 * 17.8e6, n_params(g)
    assert 0.85 * 23.7e6 <= n_params(d) <= 1.15 * 23.7e6, n_params(d)


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_no_module_or_parameter_is_shared(name):
    # catches `[Block(...)] * n`, which registers one module n times
    for model in (Generator(PRESETS[name]), Discriminator(PRESETS[name])):
        modules = list(model.modules())
        assert len(modules) == len({id(m) for m in modules})
        registered = [p for m in modules for p in m.parameters(recurse=False)]
        assert len(registered) == len({id(p) for p in registered}) == len(list(model.parameters()))


def narrow(cfg):
    """Same structure (resolutions, K, n_per, margins, options) with thin layers: equivariance
    depends on the structure only, and thin 128-px models run in seconds in float64."""
    if cfg.generator.image_size < 128:
        return cfg
    gen = replace(cfg.generator, channels=(16, 16, 8, 8), mask_channels=8, spade_hidden=8, embed_dim=8,
                  head_hidden=8, z_dim=16, mlp_width=16)
    return replace(cfg, generator=gen)


# one preset per distinct generator structure (the paper presets differ mostly in loss weights)
DISTINCT_GENERATORS = sorted({p.generator: n for n, p in sorted(PRESETS.items(), reverse=True)}.values())


@pytest.mark.parametrize("name", DISTINCT_GENERATORS)
def test_translation_equivariance(name):
    """Moving every point and the background by one pixel of the coarsest grid moves the masks
    and the image by the matching number of output pixels, everywhere in the image (float64).
    Small presets are shifted along x and along y separately, 128-px ones diagonally."""
    torch.manual_seed(0)
    g = Generator(narrow(PRESETS[name])).double().eval()
    with torch.no_grad():  # give BatchNorm non-trivial running statistics
        for bn in (m for m in g.modules() if isinstance(m, torch.nn.BatchNorm2d)):
            bn.running_mean.uniform_(-0.5, 0.5)
            bn.running_var.uniform_(0.5, 2.0)
    gc = g.cfg
    lat = g.sample_latents(1, generator=torch.Generator().manual_seed(3))
    lat = Latents(*(t.double() for t in (lat.z_point, lat.z_app, lat.z_bg, lat.bg_shift)))
    S = gc.image_size
    k = S // gc.resolutions[0]  # output pixels per coarsest-grid pixel
    step = 2.0 * k / S
    directions = [(1, 1)] if S == 128 else [(1, 0), (0, 1)]
    with torch.no_grad():
        a = g(lat)
    for dx, dy in directions:
        delta = torch.tensor([dx * step, dy * step], dtype=torch.float64)
        with torch.no_grad():
            b = g(Latents(lat.z_point, lat.z_app, lat.z_bg, lat.bg_shift + delta), points=a.points + delta)
        for field in ("masks", "image", "foreground", "background", "heatmaps"):
            x = getattr(a, field)[..., :S - dy * k, :S - dx * k]
            y = getattr(b, field)[..., dy * k:, dx * k:]
            err = (x - y).abs().max().item()
            scale = max(1.0, x.abs().max().item())
            assert err / scale < 1e-10, f"{field} shifted by ({dx}, {dy}) coarse px: max error {err:.2e}"
    # a shift of half a coarse pixel is not expected to be exact: the comparison above can fail
    with torch.no_grad():
        c = g(lat, points=a.points + torch.tensor([step / 2, 0.0], dtype=torch.float64))
    assert (c.masks[..., :, :S - k] - a.masks[..., :, k:]).abs().max() > 1e-4


def test_seeded_sampling_is_reproducible():
    g = Generator(PRESETS["cpu-tiny"]).eval()
    a = g.sample_latents(3, generator=torch.Generator().manual_seed(7))
    b = g.sample_latents(3, generator=torch.Generator().manual_seed(7))
    c = g.sample_latents(3, generator=torch.Generator().manual_seed(8))
    for f in ("z_point", "z_app", "z_bg", "bg_shift"):
        assert torch.equal(getattr(a, f), getattr(b, f))
        assert not torch.equal(getattr(a, f), getattr(c, f))
    with torch.no_grad():
        assert torch.equal(g(a).image, g(b).image)


def test_background_shift_is_drawn_within_the_preset_bound():
    tiny = PRESETS["cpu-tiny"]
    shift = Generator(tiny).sample_latents(256, generator=torch.Generator().manual_seed(0)).bg_shift
    bound = torch.tensor(tiny.generator.bg_shift_max)
    assert (shift.abs() <= bound).all() and (shift.abs().amax(0) > 0.8 * bound).all()  # the whole range is used
    # Taichi: the background moves only horizontally (a small generator with the Taichi preset's bound)
    taichi = Generator(replace(tiny, generator=replace(tiny.generator,
                                                       bg_shift_max=PRESETS["paper-taichi"].generator.bg_shift_max)))
    shift = taichi.sample_latents(256, generator=torch.Generator().manual_seed(0)).bg_shift
    assert (shift[:, 1] == 0).all() and shift[:, 0].std() > 0.1
    assert (shift[:, 0].abs() <= PRESETS["paper-taichi"].generator.bg_shift_max[0]).all()


def test_points_override_level_one():
    g = Generator(PRESETS["cpu-tiny"]).eval()
    lat = g.sample_latents(2, generator=torch.Generator().manual_seed(1))
    pts = torch.zeros(2, g.cfg.n_parts, g.cfg.points_per_part, 2)
    pts[..., 0] = torch.linspace(-0.5, 0.5, g.cfg.points_per_part)
    with torch.no_grad():
        out = g(lat, points=pts)
    assert torch.equal(out.points, pts)
    assert torch.allclose(out.part_centers, torch.zeros(2, g.cfg.n_parts, 2), atol=1e-6)


def test_part_centres_and_scales_by_hand():
    pts = torch.tensor([[[[0.0, 0.0], [0.2, 0.0], [0.0, 0.2], [0.2, 0.2]]]])  # one part, a square
    c, s = part_centers_and_scales(pts, "std")
    assert torch.allclose(c, torch.tensor([[[0.1, 0.1]]]))
    # four points at distance sqrt(0.02) from the centre: sigma^2 = 4 * 0.02 / 3
    assert torch.allclose(s, torch.tensor([[math.sqrt(4 * 0.02 / 3)]]), atol=1e-5)
    _, mad = part_centers_and_scales(pts, "mad")
    assert torch.allclose(mad, torch.tensor([[0.1]]), atol=1e-5)


def test_heatmaps_by_hand():
    grid = make_grid(4, 0)  # pixel centres at -0.75, -0.25, 0.25, 0.75
    centers = torch.tensor([[[-0.25, -0.25]]])
    scales = torch.tensor([[0.5]])
    h = heatmaps(centers, scales, grid, "gaussian")[0, 0]
    assert h[1, 1] == pytest.approx(1.0)
    assert h[1, 2] == pytest.approx(math.exp(-1.0))  # distance 0.5 = sigma: exp(-1) (sigma^2, eq. 4)
    cone = heatmaps(centers, scales, grid, "cone")[0, 0]
    assert cone[1, 2] == pytest.approx(0.0, abs=1e-6) and cone[1, 1] == pytest.approx(1.0, abs=1e-5)
    assert cone[0, 0] == 0.0


def test_positional_encoding_equals_eq5_literally():
    """The fast evaluation equals FC over the concatenated relative positions [p - x_1, ..., p - x_N]."""
    torch.manual_seed(0)
    pe = RelativePositionalEncoding(3, 8).double()
    pts = torch.rand(2, 3, 2, dtype=torch.float64) * 2 - 1
    grid = make_grid(5, 2, dtype=torch.float64)
    rel = (grid[None, :, :, None, :] - pts[:, None, None, :, :]).flatten(3)  # (B, H, W, 2N)
    phase = math.pi * pe.fc(rel).permute(0, 3, 1, 2)
    expected = torch.cat((torch.sin(phase), torch.cos(phase)), dim=1)
    assert torch.allclose(pe(pts, grid), expected, atol=1e-12)


@pytest.mark.parametrize("k, d, kernel", [(3, 8, 3), (4, 16, 1), (8, 4, 3)])  # the last has K >= D
def test_factored_condition_conv_equals_conv_of_the_embedding_map(k, d, kernel):
    # conv(sum_k A_k w_k) computed from the K maps with per-sample weights: values and all gradients
    gen = torch.Generator().manual_seed(k)
    weights = torch.rand(3, k, 9, 9, generator=gen, dtype=torch.float64, requires_grad=True)
    emb = torch.randn(3, k, d, generator=gen, dtype=torch.float64, requires_grad=True)
    conv = torch.nn.Conv2d(d, 5, kernel).double()
    torch.nn.init.normal_(conv.bias)
    cond = PartCondition(weights, emb)
    out = condition_conv(conv, cond)
    ref = conv(torch.einsum("bkhw,bkd->bdhw", weights, emb))
    assert out.shape == ref.shape == (3, 5, 10 - kernel, 10 - kernel)
    assert torch.allclose(out, ref, atol=1e-12)
    probe = torch.randn(ref.shape, generator=gen, dtype=torch.float64)
    grads = torch.autograd.grad((out * probe).sum(), (weights, emb, conv.weight, conv.bias))
    ref_grads = torch.autograd.grad((ref * probe).sum(), (weights, emb, conv.weight, conv.bias))
    for a, b in zip(grads, ref_grads):
        assert torch.allclose(a, b, atol=1e-11)
    assert torch.equal(cond.crop(2).weights, weights[..., 2:7, 2:7]) and cond.crop(2).side == 5
    # the generator factors only when that reads fewer channels; otherwise it builds W once
    picked = part_condition(weights, emb)
    assert isinstance(picked, PartCondition) == (k < d)
    assert torch.allclose(picked.dense() if k < d else picked, cond.dense(), atol=1e-12)


@pytest.mark.parametrize("stride, bias", [(1, True), (2, True), (1, False)])
def test_pointwise_conv_as_matmul_equals_the_convolution(stride, bias):
    # values, gradients, and the second derivative R1 takes through the discriminator's shortcut
    gen = torch.Generator().manual_seed(stride)
    conv = PointwiseConv2d(6, 5, stride=stride, bias=bias).double()
    x = torch.randn(3, 6, 9, 9, generator=gen, dtype=torch.float64, requires_grad=True)
    out = conv(x)
    ref = torch.nn.functional.conv2d(x, conv.weight, conv.bias, stride=stride)
    assert out.shape == ref.shape == (3, 5, 9 // stride + 9 % stride, 9 // stride + 9 % stride)
    assert torch.allclose(out, ref, atol=1e-12)
    probe = torch.randn(ref.shape, generator=gen, dtype=torch.float64)
    params = (x,) + tuple(conv.parameters())
    grads = torch.autograd.grad((out.tanh() * probe).sum(), params, create_graph=True)
    ref_grads = torch.autograd.grad((ref.tanh() * probe).sum(), params, create_graph=True)
    for a, b in zip(grads, ref_grads):
        assert torch.allclose(a, b, atol=1e-12)
    second = torch.autograd.grad(grads[0].square().sum(), conv.weight)[0]
    ref_second = torch.autograd.grad(ref_grads[0].square().sum(), conv.weight)[0]
    assert torch.allclose(second, ref_second, atol=1e-12)


@pytest.mark.parametrize("shared", [False, True])
def test_spade_blocks_accept_a_dense_or_a_factored_condition(shared):
    torch.manual_seed(0)
    block = SPADEResBlock(6, 4, cond_ch=8, hidden=5, share_hidden=shared, spade_kernel=1).double().eval()
    x = torch.randn(2, 6, 7, 7, dtype=torch.float64)
    cond = PartCondition(torch.rand(2, 3, 11, 11, dtype=torch.float64), torch.randn(2, 3, 8, dtype=torch.float64))
    out = block(x, cond)
    assert out.shape == (2, 4, 3, 3)  # two valid 3x3 convs
    assert torch.allclose(out, block(x, cond.dense()), atol=1e-12)
    spade = SPADE(6, 8, 5).double().eval()
    assert torch.allclose(spade(x, cond), spade(x, cond.dense()), atol=1e-12)


def test_margin_plan_covers_the_receptive_field():
    plan = plan_margins((32, 32, 64, 128))
    assert plan.head_in == 2 and plan.fg_in[-1] == 4 and plan.bg_in[-1] == 3
    # the final masks reach as far as the coarsest foreground level reads them
    assert plan.mask_out >= plan.fg_cond[0] * 4
    # a generator whose margins were one pixel short would produce maps smaller than the image
    g = Generator(PRESETS["cpu-tiny"]).eval()
    g.background.margins = tuple(m - 1 for m in g.background.margins)
    with pytest.raises(RuntimeError):
        g(g.sample_latents(1))


def test_batchnorm_train_mode_still_gives_valid_outputs():
    g = Generator(PRESETS["cpu-tiny"]).train()
    out = g(g.sample_latents(4))
    out.image.mean().backward()
    assert all(p.grad is not None for p in g.parameters() if p.requires_grad)
    assert torch.allclose(out.masks.sum(1), torch.ones_like(out.masks[:, 0]), atol=1e-5)


def test_coarse_masks_run_the_mask_stack_at_half_the_image_side_and_keep_every_shape():
    fine, coarse = PRESETS["cpu-tiny"], PRESETS["cpu-tiny-coarse"]
    plan = plan_margins(coarse.generator.resolutions, coarse.generator.spade_kernel, coarse_masks=True)
    assert plan.mask_resolutions == (16, 16) and 2 * plan.mask_coarse_out - 1 >= plan.mask_out
    # fewer mask-stack pixels: every block's grid side with its margins, squared
    fine_plan = plan_margins(fine.generator.resolutions, fine.generator.spade_kernel)
    pixels = lambda p: sum((r + 2 * m) ** 2 for r, m in zip(p.mask_resolutions, p.mask_in))  # noqa: E731
    assert pixels(plan) < 0.6 * pixels(fine_plan)
    torch.manual_seed(0)
    a, b = Generator(fine).eval(), Generator(coarse).eval()
    lat = a.sample_latents(2, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        out_a, out_b = a(lat), b(lat)
    for field in ("masks", "image", "foreground", "background"):
        assert getattr(out_a, field).shape == getattr(out_b, field).shape, field
    assert torch.allclose(out_b.masks.sum(dim=1), torch.ones(2, 32, 32))
    with pytest.raises(ConfigError, match="coarse_masks needs a level at half the image side"):
        replace(fine.generator, resolutions=(32,), channels=(16,), coarse_masks=True)


def test_approximate_masks_keep_the_masks_and_the_image_centre_and_change_only_a_border_band():
    from benchmarks.bench_equivariance import with_approximate_masks
    torch.manual_seed(0)
    exact = Generator(PRESETS["cpu-tiny"]).double().eval()
    cheap = with_approximate_masks(exact)  # the same weights: the option changes grids, not parameters
    assert cheap.foreground.mask_margin < exact.foreground.mask_margin  # the mask stack covers less margin
    lat = exact.sample_latents(2, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        a, b = exact(lat), cheap(lat)
    # the mask stack is still valid convolutions all the way: the masks themselves are unchanged
    assert torch.allclose(a.masks, b.masks, atol=1e-12, rtol=0)
    # the padded band is read only by the coarse foreground level, whose reach into the 32-px
    # image is 8 px: the centre is untouched, the border is not
    assert torch.allclose(a.image[..., 8:-8, 8:-8], b.image[..., 8:-8, 8:-8], atol=1e-12, rtol=0)
    assert (a.image - b.image).abs().max() > 1e-3


def test_approximate_masks_cost_fewer_flops_at_128_px():
    from benchmarks.bench_margins import measure
    report = measure("paper-celeba-wild")
    assert report["forward_speedup_with_approximate_masks"] > 1.25  # counted: 127 against 96 GFLOP per image
    # half the exact generator's FLOPs go to margins; the blocks' counts add up to nearly all of it
    assert 0.4 < report["share_spent_on_margins"] < 0.6
    assert report["blocks_gflop"] > 0.9 * report["generator_forward_gflop_per_image"]
