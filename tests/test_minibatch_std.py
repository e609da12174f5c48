"""The discriminator's optional minibatch-std channel (DiscriminatorConfig.minibatch_std_group)."""
from dataclasses import replace

import torch

from ganseg_lib.config import get_preset
from ganseg_lib.model.discriminator import Discriminator, minibatch_std
from ganseg_lib.model.generator import Generator
from ganseg_lib.training.gan import d_step


def _cfg(group: int):
    cfg = get_preset("cpu-tiny")
    return replace(cfg, discriminator=replace(cfg.discriminator, minibatch_std_group=group))


def test_hand_worked_channel():
    # two groups of two: images (0, 2) and (1, 3); features of one value each
    h = torch.tensor([1.0, 10.0, 3.0, 10.0]).view(4, 1, 1, 1)
    out = minibatch_std(h, 2)
    assert out.shape == (4, 2, 1, 1)
    torch.testing.assert_close(out[:, 1].flatten(), torch.tensor([1.0, 1e-4, 1.0, 1e-4]), atol=1e-6, rtol=0)
    torch.testing.assert_close(out[:, :1], h)


def test_group_falls_back_to_a_divisor():
    h = torch.randn(6, 3, 2, 2)
    assert minibatch_std(h, 4).shape == (6, 4, 2, 2)  # groups of 3
    assert minibatch_std(h[:1], 4)[0, 3].max() < 1e-3  # one image: no spread to see


def test_off_by_default_and_r1_goes_through():
    assert get_preset("cpu-tiny").discriminator.minibatch_std_group == 0
    d = Discriminator(_cfg(4))
    x = torch.randn(8, 3, 32, 32, requires_grad=True)
    (grad,) = torch.autograd.grad(d(x).sum(), x, create_graph=True)
    grad.pow(2).sum().backward()
    assert d.fc1.weight.grad is not None and torch.isfinite(d.fc1.weight.grad).all()


def test_real_and_fake_never_share_a_group(monkeypatch):
    cfg = _cfg(4)
    torch.manual_seed(0)
    g, d = Generator(cfg), Discriminator(cfg)
    seen = []
    forward = d.forward
    monkeypatch.setattr(d, "forward", lambda x: seen.append(x.shape[0]) or forward(x))
    real = torch.rand(8, 3, 32, 32) * 2 - 1
    d_step(g, d, torch.optim.Adam(d.parameters()), real, g.sample_latents(8), cfg, do_r1=False)
    assert seen == [8, 8]
