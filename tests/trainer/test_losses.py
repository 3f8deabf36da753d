import pytest
import torch
import torch.nn.functional as F

from portrait_style.trainer.losses import FeatureLosses, GANLoss, PatchNCELoss, gram
from portrait_style.trainer.mobilenet import MobileNetFeatures, MobileNetV2


def test_lsgan_targets():
    loss = GANLoss("lsgan")
    ones, zeros = torch.ones(2, 1, 4, 4), torch.zeros(2, 1, 4, 4)
    assert loss(ones, True).item() == 0.0 and loss(zeros, False).item() == 0.0
    assert loss(zeros, True).item() == pytest.approx(1.0)


def test_hinge_margins_and_generator_side():
    loss = GANLoss("hinge")
    assert loss(torch.full((4,), 2.0), True).item() == 0.0  # confidently real: no loss
    assert loss(torch.full((4,), 0.5), True).item() == pytest.approx(0.5)
    assert loss(torch.full((4,), -2.0), False).item() == 0.0
    assert loss(torch.full((4,), 0.5), True, for_discriminator=False).item() == pytest.approx(-0.5)
    with pytest.raises(ValueError):
        GANLoss("wgan")


def test_patch_nce_prefers_corresponding_patches():
    torch.manual_seed(0)
    nce = PatchNCELoss(temperature=0.07)
    keys = F.normalize(torch.randn(2 * 16, 32), dim=1)
    matched = nce(keys.clone(), keys, batch_size=2)
    shuffled = nce(keys[torch.randperm(32)], keys, batch_size=2)
    assert matched.shape == (32,)
    assert matched.mean() < 0.01 < 1.0 < shuffled.mean()


def test_patch_nce_gradient_reaches_queries_only():
    q = F.normalize(torch.randn(8, 16), dim=1).requires_grad_()
    k = F.normalize(torch.randn(8, 16), dim=1).requires_grad_()
    PatchNCELoss()(q, k, batch_size=2).mean().backward()
    assert q.grad is not None and q.grad.abs().sum() > 0
    assert k.grad is None


def test_content_loss_is_zero_for_equal_images_and_grows_with_change():
    torch.manual_seed(0)
    losses = FeatureLosses(MobileNetFeatures(MobileNetV2().eval()))
    x = torch.rand(1, 3, 64, 64) * 2 - 1
    fx = losses(x)
    assert losses.content(fx, losses(x)).item() == pytest.approx(0.0, abs=1e-6)
    small = losses.content(fx, losses(x + 0.05 * torch.randn_like(x))).item()
    large = losses.content(fx, losses(torch.rand_like(x) * 2 - 1)).item()
    assert 0 < small < large


def test_gram_ignores_positions():
    f = torch.randn(2, 4, 8, 8)
    shuffled = f.flatten(2)[:, :, torch.randperm(64)].view_as(f)
    assert torch.allclose(gram(f), gram(shuffled), atol=1e-5)
    assert gram(f).shape == (2, 4, 4)
    assert torch.allclose(gram(f)[0], gram(f)[0].T)


def test_style_loss_matches_texture_not_layout():
    """A rearranged copy of the style image has its texture (low loss); a flat grey image does not."""
    torch.manual_seed(0)
    losses = FeatureLosses(MobileNetFeatures(MobileNetV2().eval()))
    stripes = torch.sin(torch.arange(64.0) * 1.3).view(1, 1, 1, 64).expand(1, 3, 64, 64).clone()
    style = losses(stripes)
    rolled = losses(torch.roll(stripes, shifts=(17, 23), dims=(2, 3)))
    grey = losses(torch.zeros_like(stripes))
    assert losses.style(style, rolled).item() < 0.1 * losses.style(style, grey).item()
    grad_probe = torch.zeros_like(stripes, requires_grad=True)
    losses.style(style, losses(grad_probe)).backward()
    assert grad_probe.grad.abs().sum() > 0
