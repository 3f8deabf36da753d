"""The look graph's channels-last pieces: resizes as matrix products, the colour tables, the row maps."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from portrait_style.look.blocks import BLOCK, along_rows, resize_nhwc, resize_to_nchw, row_weights
from portrait_style.look.model import LUMA, LookNet, _pwl


@pytest.mark.parametrize("size", [(270, 480), (7, 5), (32, 32), (129, 64)])
def test_matrix_resizes_are_bilinear_resizes(size):
    torch.manual_seed(0)
    small = torch.rand(2, 32, 24, 6)
    want = F.interpolate(small.permute(0, 3, 1, 2), size=size, mode="bilinear", align_corners=False)
    assert torch.allclose(resize_nhwc(small, *size), want.permute(0, 2, 3, 1), atol=1e-5)
    large = torch.rand(1, 270, 480, 3)
    want = F.interpolate(large.permute(0, 3, 1, 2), size=size, mode="bilinear", align_corners=False)
    assert torch.allclose(resize_to_nchw(large, *size), want, atol=1e-5)


def test_row_maps_interpolate_between_block_centres():
    """A per-block map brought to the pixels of a block row is the map's bilinear resize to 4x the
    width (edges held), repeated down the block's rows."""
    torch.manual_seed(1)
    maps = torch.rand(2, 1, 5, 7, 3)  # two maps, [N, h, w, 3]
    rows = along_rows(maps, row_weights())  # [2, 1, 5, 1, 7 * BLOCK * 3]
    for m in range(2):
        nchw = maps[m].permute(0, 3, 1, 2)
        want = F.interpolate(nchw, size=(5, 7 * BLOCK), mode="bilinear", align_corners=False)
        assert torch.allclose(rows[m, :, :, 0], want.permute(0, 2, 3, 1).reshape(1, 5, -1), atol=1e-6)


def test_flat_patches_get_the_colour_function_itself():
    """Inside a flat patch (here 3x3 blocks, checked on the middle block, whose neighbours share its
    colour) every pixel is its block's mean, so the look is its colour function (levels, tone curves,
    mix, luma toning) at that colour, up to the tables' sampling: checked against the curves evaluated
    directly, at 400 random colours."""
    torch.manual_seed(2)
    net = LookNet(local=False, adaptive=False).eval()
    with torch.no_grad():
        for p in net.parameters():
            p.add_(torch.randn_like(p) * 0.1)
    colours = torch.randint(0, 256, (1, 20, 20, 3), dtype=torch.uint8)
    patch = 3 * BLOCK
    frame = colours.repeat_interleave(patch, 1).repeat_interleave(patch, 2)
    with torch.no_grad():
        out = net.render(frame.float() / 255.0)[:, BLOCK::patch, BLOCK::patch] * 255.0
        ((a, b, curves, toning, mix),) = net._colour_weights(None, 1)
        x = colours.float().permute(0, 3, 1, 2).reshape(1, 3, -1) / 255.0
        u, _ = _pwl(curves, a.view(1, 3, 1) * x + b.view(1, 3, 1))
        luma = (u * torch.tensor(LUMA).view(1, 3, 1)).sum(1, keepdim=True).clamp(0, 1)
        tone, _ = _pwl(toning, luma.expand(1, 3, -1))
        want = (torch.matmul(mix, u) + tone) * 255.0
    got = out.reshape(1, -1, 3).permute(0, 2, 1)
    error = (got - want).abs()
    assert error.max() < 0.6, error.max()  # a table step is 0.25 levels
    assert (want - x * 255.0).abs().mean() > 5  # and the function does change the colours
