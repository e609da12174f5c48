"""Differentiable augmentation of D's inputs (each operation's effect, p, gradients, ADA, training) and the
jitter of the real images."""
import itertools

import pytest
import torch
import torch.nn.functional as F

from _tiny import tiny_config, tiny_images
from ganseg_lib.training import gan
from ganseg_lib.training.augment import AdaptiveP, augment, color, cutout, jitter_reals, translation
from ganseg_lib.config import ConfigError, apply_overrides, from_dict, get_preset, to_dict
from ganseg_lib.training.gan import d_augmentation, iteration, real_batch
from ganseg_lib.training.state import build_state


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def images(b=6, size=16, seed=0):
    return torch.rand(b, 3, size, size, generator=gen(seed), dtype=torch.float64) * 2 - 1


@pytest.mark.parametrize("op", [color, translation, cutout])
def test_p_zero_is_the_identity_and_p_one_changes_every_image(op):
    x = images()
    assert torch.equal(op(x, 0.0, gen()), x)
    y = op(x, 1.0, gen())
    assert y.shape == x.shape
    assert all(not torch.equal(y[i], x[i]) for i in range(len(x)))


def test_translation_is_an_integer_shift_with_zeros_shifted_in():
    x = images(b=8, size=16)
    y = translation(x, 1.0, gen(3))
    r = 2  # round(16 / 8)
    for i in range(len(x)):
        matches = []
        for dx, dy in itertools.product(range(-r, r + 1), repeat=2):
            shifted = F.pad(x[i], [r, r, r, r])[:, r - dy:r - dy + 16, r - dx:r - dx + 16]
            if torch.equal(shifted, y[i]):
                matches.append((dx, dy))
        assert len(matches) == 1, f"image {i}: output is not one shift of its input"


def test_cutout_zeroes_one_square_of_half_the_side_and_keeps_the_rest():
    x = images(b=16, size=16) + 3.0  # no pixel is zero before the cut
    y = cutout(x, 1.0, gen(1))
    for i in range(len(x)):
        hole = (y[i] == 0).all(dim=0)  # (H, W)
        rows, cols = hole.any(dim=1).nonzero().view(-1), hole.any(dim=0).nonzero().view(-1)
        assert hole.sum() == len(rows) * len(cols), "the hole is a rectangle"
        assert 1 <= len(rows) <= 8 and 1 <= len(cols) <= 8
        # a square of side 8, clipped only by the image border
        assert len(rows) == 8 or rows.min() == 0 or rows.max() == 15
        assert len(cols) == 8 or cols.min() == 0 or cols.max() == 15
        assert torch.equal(y[i][:, ~hole], x[i][:, ~hole])


def test_color_keeps_a_grey_image_grey_and_moves_brightness_and_contrast():
    grey = images(b=8).mean(dim=1, keepdim=True).expand(-1, 3, -1, -1)
    y = color(grey, 1.0, gen(2))
    assert torch.allclose(y[:, 0], y[:, 1]) and torch.allclose(y[:, 1], y[:, 2])  # saturation acts on colour only
    # per image an affine map of the input: y = a x + b with a in [0.5, 1.5] (contrast)
    for i in range(len(y)):
        a = torch.linalg.lstsq(torch.stack([grey[i, 0].flatten(), torch.ones(256, dtype=grey.dtype)], 1),
                               y[i, 0].flatten()[:, None]).solution[0, 0]
        assert 0.5 <= a <= 1.5


def test_augment_is_differentiable_and_seeded():
    x = images(b=4).requires_grad_(True)
    policy = ("color", "translation", "cutout")
    y = augment(x, policy, 1.0, gen(5))
    assert torch.equal(y, augment(x, policy, 1.0, gen(5)))  # same generator state -> same draw
    (grad,) = torch.autograd.grad(y.pow(2).sum(), x)
    assert grad.abs().sum() > 0
    # the gradient is that of the linear map the draw applied: check it against a finite difference
    assert torch.autograd.gradcheck(lambda t: augment(t, policy, 1.0, gen(5)), (images(b=2, size=8).requires_grad_(),))


def test_adaptive_p_follows_the_sign_of_d_on_reals():
    ada = AdaptiveP(target=0.6, speed_images=6400, batch=16, interval=4)  # step 4 * 16 / 6400 = 0.01
    for _ in range(4):
        ada.observe(1.0)  # D sure of every real: raise p
    assert ada.p == pytest.approx(0.01)
    for _ in range(3):
        ada.observe(0.0)
    assert ada.p == pytest.approx(0.01)  # adjusted only every 4 observations
    ada.observe(0.0)
    assert ada.p == pytest.approx(0.0)
    for _ in range(8):
        ada.observe(0.0)
    assert ada.p == 0.0  # clamped at 0
    restored = AdaptiveP(0.6, 6400, 16, 4)
    ada.observe(1.0)
    restored.load_state_dict(ada.state_dict())
    for a in (ada, restored):
        for _ in range(3):
            a.observe(1.0)
    assert restored.p == ada.p == pytest.approx(0.01)


def test_config_names_its_operations_and_round_trips():
    cfg = apply_overrides(get_preset("cpu-tiny"), ["augment.policy=color,cutout", "augment.ada_target=0.6"])
    assert cfg.augment.policy == ("color", "cutout")
    assert from_dict(to_dict(cfg)) == cfg
    with pytest.raises(ConfigError, match="unknown operation"):
        apply_overrides(cfg, ["augment.policy=colour"])
    with pytest.raises(ConfigError, match=r"augment.p must be in \[0, 1\]"):
        apply_overrides(cfg, ["augment.p=1.5"])
    old = to_dict(get_preset("cpu-tiny"))
    del old["augment"]  # checkpoints made before the section existed load with augmentation off
    assert from_dict(old).augment.policy == ()


def test_off_by_default_and_training_with_it_reaches_d_and_the_log(tmp_path):
    base = tiny_config()
    state = build_state(base, torch.device("cpu"), seed=0)
    assert d_augmentation(state, base) is None
    cfg = apply_overrides(base, ["augment.policy=color,translation,cutout", "augment.ada_target=0.6",
                                 "augment.p=0.5", "loss.r1_interval=1"])
    state = build_state(cfg, torch.device("cpu"), seed=0)
    seen = []
    d_forward = state.d.forward
    state.d.forward = lambda x: (seen.append(x.detach().clone()), d_forward(x))[1]
    data = tiny_images()
    real = real_batch(data, torch.arange(4), torch.device("cpu"))
    stats = iteration(state, cfg, real, state.g.sample_latents(4, gen()), state.g.sample_latents(4, gen(1)), step=1)
    assert stats["aug_p"] == 0.5 and "r1" in stats and -1 <= stats["real_sign"] <= 1
    assert not torch.equal(seen[0][:4], real)  # D saw augmented reals
    assert len(seen) == 2  # one D pass in the D step (real and fake together), one in the G step


# --------------------------------------------------------------------------------------------
# jitter of the real images (G learns it)

def ramp(b=64, size=16):
    """Each pixel holds its own normalised x coordinate (pixel centres in (-1, 1)); bilinear
    resampling is exact on it, so the output tells the window each image was read from."""
    xs = (torch.arange(size, dtype=torch.float64) + 0.5) / size * 2 - 1
    return xs.expand(b, 3, size, size).clone()


def test_jitter_off_is_the_identity_and_flip_only_mirrors_about_half():
    x = images(b=64)
    assert torch.allclose(jitter_reals(x, 0.0, 0.0, False, gen()), x, atol=1e-12)
    y = jitter_reals(x, 0.0, 0.0, True, gen())
    mirrored = torch.tensor([torch.allclose(yi, xi.flip(-1), atol=1e-12) for xi, yi in zip(x, y)])
    kept = torch.tensor([torch.allclose(yi, xi, atol=1e-12) for xi, yi in zip(x, y)])
    assert bool((mirrored ^ kept).all()) and 16 < int(mirrored.sum()) < 48


def test_zoom_reads_a_window_inside_the_image_and_is_seeded():
    zoom, size = 0.5, 16
    y = jitter_reals(ramp(size=size), zoom, 0.0, True, gen(3))
    u = (torch.arange(size, dtype=torch.float64) + 0.5) / size * 2 - 1
    row = y[:, 0, size // 2]  # (B, W): s * sign * u + c_x, exactly linear inside the image
    slope = (row[:, -1] - row[:, 0]) / (u[-1] - u[0])
    centre = row.mean(dim=1)
    assert torch.allclose(row, slope[:, None] * u + centre[:, None], atol=1e-9)  # never reflected
    s = slope.abs()
    assert bool(((s >= 1 / (1 + zoom) - 1e-9) & (s <= 1 + 1e-9)).all()) and s.std() > 0.05
    assert bool((centre.abs() <= (1 - s) * (1 - 1 / size) + 1e-9).all())  # the window stays inside
    assert bool((slope < 0).any() and (slope > 0).any())  # some mirrored
    assert torch.equal(y, jitter_reals(ramp(size=size), zoom, 0.0, True, gen(3)))


def test_shift_moves_the_window_past_the_border_and_reflects():
    y = jitter_reals(ramp(), 0.0, 0.25, False, gen())
    centre = y[:, 0, 8].mean(dim=1)
    assert centre.abs().max() > 0.2  # up to 0.25 of the side = 0.5 in [-1, 1] units
    assert y.min() >= -1 and y.max() <= 1  # reflected, never extrapolated


def test_jitter_config_is_checked_and_training_jitters_only_the_real_images(tmp_path, monkeypatch):
    cfg = apply_overrides(tiny_config(steps=2), ["augment.real_zoom=0.25", "augment.real_flip=true"])
    assert cfg.augment.jitters_reals and not tiny_config().augment.jitters_reals
    assert from_dict(to_dict(cfg)) == cfg
    with pytest.raises(ConfigError, match="augment.real_zoom must be in"):
        apply_overrides(cfg, ["augment.real_zoom=2"])
    calls = []
    monkeypatch.setattr(gan, "jitter_reals", lambda x, *args: (calls.append(args[:3]), x.flip(-1))[1])
    gan.train(cfg, tiny_images(), tmp_path, gan.TrainOptions(progress=False, grid_samples=0))
    assert calls == [(0.25, 0.0, True)] * 2  # once per step, with the config's values
