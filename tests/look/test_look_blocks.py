"""The look graph's channels-last pieces: resizes as matrix products, the colour tables, the row maps."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from portrait_style.look.blocks import BLOCK, along_rows, resize_nhwc, resize_to_nchw, row_weights
from portrait_style.look.colour import pwl
from portrait_style.look.fields import face_weight, frame_axis
from portrait_style.look.model import LUMA, LookNet


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
    block_map = torch.rand(2, 5, 7, 3)  # [N, h, w, 3]
    rows = along_rows(block_map, row_weights())  # [2, 5, 1, 7 * BLOCK * 3]
    nchw = block_map.permute(0, 3, 1, 2)
    want = F.interpolate(nchw, size=(5, 7 * BLOCK), mode="bilinear", align_corners=False)
    assert torch.allclose(rows[:, :, 0], want.permute(0, 2, 3, 1).reshape(2, 5, -1), atol=1e-6)


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
        u, _ = pwl(curves, a.view(1, 3, 1) * x + b.view(1, 3, 1))
        luma = (u * torch.tensor(LUMA).view(1, 3, 1)).sum(1, keepdim=True).clamp(0, 1)
        tone, _ = pwl(toning, luma.expand(1, 3, -1))
        want = (torch.matmul(mix, u) + tone) * 255.0
    got = out.reshape(1, -1, 3).permute(0, 2, 1)
    error = (got - want).abs()
    assert error.max() < 0.6, error.max()  # a table step is 0.25 levels
    assert (want - x * 255.0).abs().mean() > 5  # and the function does change the colours


def test_face_weight_is_the_sum_of_each_faces_gaussian():
    """The separable product (column factor x row factor, summed over faces by one matrix product)
    equals exp(-d^2 / 4) evaluated at every block and summed directly; invalid faces add nothing; the
    channel repeat copies each value."""
    torch.manual_seed(3)
    faces = torch.rand(2, 4, 4) * 2 - 1
    faces[..., 2] = faces[..., 2].abs() * 0.5
    faces[..., 3] = torch.tensor([1.0, 1.0, 0.0, 0.0])
    gy, gx = frame_axis(9, faces).view(1, 1, 9, 1), frame_axis(13, faces).view(1, 1, 1, 13)
    cx, cy, size, valid = (faces[..., i, None, None] for i in range(4))
    d2 = ((gx - cx) ** 2 + (gy - cy) ** 2) / size.clamp_min(0.02) ** 2
    want = (torch.exp(-0.25 * d2) * valid).sum(1, keepdim=True).clamp(max=1.0)
    got = face_weight(faces, gy, gx)
    assert got.shape == (2, 1, 9, 13) and torch.allclose(got, want, atol=1e-6)
    assert want.amax() > 0.5 and want.amin() < 0.05  # near a face and far from all
    assert torch.equal(face_weight(faces, gy, gx, repeat=3), got.repeat_interleave(3, dim=3))
