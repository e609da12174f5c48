"""Distillation: the 0.5 CE + 0.5 Dice loss by hand, models built without pretrained weights,
a one-batch overfit, and a saved segmenter that reloads to the same outputs."""
import math

import pytest
import torch

from _tiny import tiny_config
from ganseg_lib.model import Generator
from ganseg_lib.training.segmenter import (ARCHS, Segmenter, SegmenterError, build_segmenter, dice_loss, distill,
                                  distillation_loss, generated_pairs, load_segmenter, predict, recalibrate_batchnorm)


def test_dice_and_distillation_loss_by_hand():
    logits = torch.zeros(1, 2, 1, 2)  # p = 0.5 for both classes at both pixels
    labels = torch.zeros(1, 1, 2, dtype=torch.long)  # both pixels class 0
    # class 0: inter 1, |P| + |G| = 1 + 2 -> 1 - 3/4; class 1: inter 0, |P| + |G| = 1 -> 1 - 1/2
    assert dice_loss(logits, labels).item() == pytest.approx((0.25 + 0.5) / 2)
    assert distillation_loss(logits, labels).item() == pytest.approx(0.5 * math.log(2) + 0.5 * 0.375)
    # a confident correct prediction has a near-zero loss
    sure = torch.tensor([[[[30.0, 30.0]], [[-30.0, -30.0]]]])
    assert distillation_loss(sure, labels).item() < 1e-3


@pytest.mark.parametrize("arch", ARCHS)
def test_every_arch_builds_without_pretrained_weights(arch, monkeypatch):
    import torch.hub

    def no_download(*a, **k):
        raise AssertionError("a pretrained download was attempted")

    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", no_download)
    model = Segmenter(arch, 5)
    assert model.n_classes == 5


def test_unknown_arch():
    with pytest.raises(SegmenterError, match="unknown segmenter arch 'unet'"):
        Segmenter("unet", 3)


def test_output_shape_and_input_scale():
    x = torch.rand(2, 3, 32, 32) * 2 - 1
    for scale in (1, 2):
        model = Segmenter("lraspp_mobilenet_v3_large", 5, scale).eval()
        assert model(x).shape == (2, 5, 32, 32)


def test_one_batch_overfit():
    torch.manual_seed(0)
    model = Segmenter("lraspp_mobilenet_v3_large", 3, 1)
    x = torch.rand(4, 3, 32, 32) * 2 - 1
    y = torch.zeros(4, 32, 32, dtype=torch.long)
    y[:, 8:24, 8:24] = 1
    y[:, 12:20, 12:20] = 2
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    first = None
    for _ in range(40):
        loss = distillation_loss(model(x), y)
        first = loss.item() if first is None else first
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.5 * first


def test_generated_pairs_use_argmax_labels():
    cfg = tiny_config()
    g = Generator(cfg).eval()
    images, labels = generated_pairs(g, 3, torch.Generator().manual_seed(0), "cpu")
    assert images.shape == (3, 3, 16, 16) and labels.shape == (3, 16, 16)
    assert labels.dtype == torch.int64 and int(labels.max()) <= cfg.generator.n_parts


def test_distill_saves_a_segmenter_that_reloads_identically(tmp_path):
    cfg = tiny_config()
    g = Generator(cfg).eval()
    seen = []
    model = distill(cfg, g, tmp_path / "seg.pt", steps=2, progress=False, callback=lambda s, v: seen.append(s))
    assert seen == [1, 2]
    cfg2, again = load_segmenter(tmp_path / "seg.pt")
    assert cfg2 == cfg
    x = (torch.rand(2, 3, 16, 16) * 255).to(torch.uint8)
    torch.testing.assert_close(predict(model, x), predict(again, x), rtol=0, atol=0)
    probs = predict(again, x)
    assert probs.shape == (2, cfg.generator.n_parts + 1, 16, 16)
    torch.testing.assert_close(probs.sum(1), torch.ones(2, 16, 16))


def test_distill_stops_early_when_asked(tmp_path):
    cfg = tiny_config()
    distill(cfg, Generator(cfg).eval(), tmp_path / "seg.pt", steps=50, progress=False, stop=lambda step: step == 3)
    from ganseg_lib.checkpoint import load_checkpoint
    assert load_checkpoint(tmp_path / "seg.pt", "segmenter")["steps"] == 3


def test_recalibrate_batchnorm_is_a_plain_average_over_the_inputs():
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 1, 1, bias=False), torch.nn.BatchNorm2d(1, momentum=0.01))
    torch.nn.init.ones_(model[0].weight)
    inputs = [torch.full((2, 1, 1, 1), 1.0), torch.full((2, 1, 1, 1), 3.0)]
    recalibrate_batchnorm(model, inputs)
    bn = model[1]
    assert not model.training and bn.momentum == 0.01
    assert bn.running_mean.item() == pytest.approx(2.0)  # mean of the two batch means 1 and 3


def test_build_segmenter_from_config():
    cfg = tiny_config()
    assert build_segmenter(cfg).n_classes == cfg.generator.n_parts + 1
