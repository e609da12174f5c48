"""Each loss against a value worked out by hand on a tiny tensor."""
import math

import pytest
import torch

from ganseg_lib import losses


def test_generator_loss_eq13_by_hand():
    # log(1 + e^0) = log 2; log(1 + e^-2); log(1 + e^2)
    logits = torch.tensor([0.0, 2.0, -2.0])
    expected = (math.log(2) + math.log(1 + math.exp(-2)) + math.log(1 + math.exp(2))) / 3
    assert losses.generator_loss(logits).item() == pytest.approx(expected, rel=1e-6)


def test_discriminator_loss_eq14_by_hand():
    real = torch.tensor([1.0, 3.0])
    fake = torch.tensor([-1.0])
    expected = math.log(1 + math.exp(-1)) + (math.log(1 + math.exp(-1)) + math.log(1 + math.exp(-3))) / 2
    assert losses.discriminator_loss(real, fake).item() == pytest.approx(expected, rel=1e-6)
    # a perfect discriminator has a loss near zero, a fooled one a large loss
    assert losses.discriminator_loss(torch.tensor([20.0]), torch.tensor([-20.0])) < 1e-6
    assert losses.discriminator_loss(torch.tensor([-5.0]), torch.tensor([5.0])) > 9


def test_r1_against_a_function_with_known_gradient():
    # D(x) = sum(w * x^2) per sample: grad = 2 w x, ||grad||^2 = sum(4 w^2 x^2)
    w = torch.tensor([[1.0, -2.0], [0.5, 3.0]])
    x = torch.tensor([[[1.0, 2.0], [0.0, -1.0]], [[2.0, 0.0], [1.0, 1.0]]]).unsqueeze(1).requires_grad_(True)
    logits = (w * x.squeeze(1) ** 2).flatten(1).sum(1)
    # ||grad||^2 by hand: sample 1: 4 + 64 + 0 + 36 = 104; sample 2: 16 + 0 + 1 + 36 = 53
    gamma, interval = 10.0, 4
    value = losses.r1_penalty(logits, x, gamma=gamma, interval=interval)
    assert value.item() == pytest.approx(interval * gamma / 2 * (104 + 53) / 2)
    # create_graph: the penalty can be back-propagated to D's parameters
    value.backward()
    assert x.grad is not None


def test_concentration_eq16_by_hand():
    # 2x2 image, pixel centres at (+-0.5, +-0.5); one part with all mass on the top-left pixel
    masks = torch.zeros(1, 2, 2, 2)
    masks[0, 0, 0, 0] = 1.0
    masks[0, 1] = 0.25  # second part spread evenly
    centers = torch.tensor([[[-0.5, -0.5], [0.0, 0.0]]])
    # part 1: distance 0; part 2: every pixel at squared distance 0.5 from the centre
    value = losses.concentration_loss(masks, centers)
    assert value.item() == pytest.approx((0.0 + 0.5) / 2, rel=1e-5)  # mean over parts
    # moving the centre away from the mass increases the loss
    far = torch.tensor([[[0.5, 0.5], [0.0, 0.0]]])
    assert losses.concentration_loss(masks, far) > value


def test_concentration_ignores_mask_scale():
    masks = torch.rand(2, 3, 4, 4)
    centers = torch.rand(2, 3, 2) * 2 - 1
    a = losses.concentration_loss(masks, centers)
    b = losses.concentration_loss(masks * 5, centers)
    assert a.item() == pytest.approx(b.item(), rel=1e-4)


def test_area_eq17_by_hand():
    heat = torch.zeros(2, 2, 3, 3)
    masks = torch.zeros(2, 2, 3, 3)
    heat[0, 0] = 1.0  # area 9
    masks[0, 0, 0] = 1.0  # area 3: deficit 6
    heat[0, 1, 0, 0] = 2.0  # area 2
    masks[0, 1] = 1.0  # area 9: no penalty (hinge)
    heat[1, 0, 1, 1] = 0.5  # area 0.5 vs 0: deficit 0.5
    value = losses.area_loss(heat, masks)
    assert value.item() == pytest.approx((6.0 + 0.5) / 2)  # summed over parts, mean over batch


def test_losses_are_differentiable_where_training_needs_it():
    masks = torch.rand(1, 2, 4, 4, requires_grad=True)
    heat = torch.rand(1, 2, 4, 4, requires_grad=True)
    centers = torch.zeros(1, 2, 2, requires_grad=True)
    (losses.concentration_loss(masks, centers) + losses.area_loss(heat * 4, masks)).backward()
    assert masks.grad.abs().sum() > 0 and centers.grad is not None and heat.grad.abs().sum() > 0
