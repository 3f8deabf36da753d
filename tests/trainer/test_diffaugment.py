import pytest
import torch

from portrait_style.trainer.diffaugment import check_policy, diff_augment, rand_cutout, rand_translation


def test_policies_keep_shape_and_are_random():
    torch.manual_seed(0)
    x = torch.rand(4, 3, 32, 32) * 2 - 1
    for policy in ("color", "translation", "cutout", "color,translation,cutout"):
        y = diff_augment(x, policy)
        assert y.shape == x.shape and torch.isfinite(y).all()
        assert not torch.equal(y, x)
    assert torch.equal(diff_augment(x, ""), x)


def test_translation_shifts_whole_images():
    torch.manual_seed(3)
    x = torch.zeros(8, 1, 16, 16)
    x[:, :, 8, 8] = 1.0  # one bright pixel per image
    y = rand_translation(x, ratio=0.125)
    positions = [tuple((img[0] == 1).nonzero()[0].tolist()) for img in y]
    assert all(abs(r - 8) <= 2 and abs(c - 8) <= 2 for r, c in positions)
    assert len(set(positions)) > 1
    assert (y.sum(dim=(1, 2, 3)) == 1).all()  # moved, not duplicated


def test_cutout_zeroes_a_quarter_at_most():
    torch.manual_seed(0)
    y = rand_cutout(torch.ones(8, 3, 32, 32), ratio=0.5)
    zero_fraction = (y[:, 0] == 0).float().mean(dim=(1, 2))
    assert (zero_fraction > 0).all() and (zero_fraction <= 0.25).all()


def test_gradients_flow_through_the_augmentation():
    x = torch.rand(2, 3, 16, 16, requires_grad=True)
    diff_augment(x, "color,translation,cutout").sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_unknown_policy():
    with pytest.raises(ValueError, match="blur"):
        check_policy("color,blur")
