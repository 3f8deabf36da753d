"""The grid's context features (look/context.py): what the grid network can and cannot tell apart."""

from __future__ import annotations

import torch

from portrait_style.look.context import grid_features
from portrait_style.look.model import LUMA


def _cells_of_equal_luma(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Two [1, 3, 8, 8] grids of cell colours with the same luma cell by cell and different hues."""
    g = torch.Generator().manual_seed(seed)
    a = 0.2 + 0.6 * torch.rand(1, 3, 8, 8, generator=g)
    luma = torch.tensor(LUMA).view(1, 3, 1, 1)
    # move colour along a direction of zero luma: red up, green down by as much luma, blue kept
    direction = torch.tensor([1.0, -0.2126 / 0.7152, 0.0]).view(1, 3, 1, 1)
    b = a + 0.15 * torch.rand(1, 1, 8, 8, generator=g) * direction
    assert torch.allclose((a * luma).sum(1), (b * luma).sum(1), atol=1e-6)
    assert (a - b).abs().max() > 0.05
    return a, b


def test_a_grid_in_luma_sees_tone_not_hue():
    a, b = _cells_of_equal_luma()
    luma = torch.tensor(LUMA).view(1, 3, 1, 1)
    embedding = torch.zeros(1, 4)
    spread = torch.full_like(a, 0.05)
    in_colour = [grid_features(c, spread, embedding, None, None) for c in (a, b)]
    in_luma = [grid_features(c, spread, embedding, None, None, luma=luma) for c in (a, b)]
    assert (in_colour[0] - in_colour[1]).abs().max() > 0.05  # colour context tells the hues apart
    assert torch.allclose(in_luma[0], in_luma[1], atol=1e-6)  # luma context does not
    brighter = grid_features(a * 1.2, spread, embedding, None, None, luma=luma)
    assert (brighter - in_luma[0]).abs().max() > 0.05  # but it does see the tone
