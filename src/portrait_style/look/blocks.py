"""Channels-last helpers of the look graph: frames read as rows of 4x4-pixel blocks, per-block maps
brought to full size, resizes as matrix products.

Frames arrive as uint8 NHWC. Reading one as [N, H/4, 4, W*3] makes a block row four contiguous spans,
so block sums and the full-size multiply-add need no layout change; ONNX Runtime's Resize and the
transposes around it cost more than the matrix products that replace them here (measured at 1080p on
the 2-core CPU: see look/model.py).
"""

from __future__ import annotations

import torch

BLOCK = 4  # pixels per block side; input height and width must be multiples of it
LUT_SIZE = 1024  # samples of each image's colour functions over the block values 0..1


def centre_weights() -> torch.Tensor:
    """[BLOCK * 3, 3]: a block row (summed over the block's rows; interleaved RGB, levels 0..255) ->
    the block's mean per channel in table rows 0..LUT_SIZE-1."""
    return (torch.eye(3) * ((LUT_SIZE - 1) / 255.0 / (BLOCK * BLOCK))).repeat(BLOCK, 1)


def row_weights() -> torch.Tensor:
    """[9, BLOCK * 3]: (left, own, right block) x RGB -> the BLOCK pixels of a block, linearly
    interpolated between block centres along the row (as a bilinear resize with half-pixel centres)."""
    weights = torch.zeros(3, 3, BLOCK, 3)
    for p in range(BLOCK):
        t = (p + 0.5) / BLOCK - 0.5  # offset from the block's centre, in blocks
        side = 0 if t < 0 else 2
        weights[side, :, p] = torch.eye(3) * abs(t)
        weights[1, :, p] = torch.eye(3) * (1.0 - abs(t))
    return weights.reshape(9, BLOCK * 3)


def along_rows(block_map: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """[N, h, w, 3] a per-block map -> [N, h, 1, w * BLOCK * 3]: each block's row of pixels (broadcast
    down its BLOCK rows by the caller), interpolated between neighbouring blocks. One map at a time:
    two maps stacked for one product had to be split again at a quarter of the frame's size."""
    n, h, w, c = block_map.shape
    padded = torch.cat([block_map[:, :, :1], block_map, block_map[:, :, -1:]], 2)
    neighbours = torch.cat([padded[:, :, :-2], block_map, padded[:, :, 2:]], 3)  # [N, h, w, 9]
    return torch.matmul(neighbours, weights).view(n, h, 1, w * BLOCK * c)


def four_times(m: torch.Tensor) -> torch.Tensor:
    """[N, 3, 3] -> [N, 12, 12]: block-diagonal, the same 3x3 product on each of BLOCK pixels."""
    n = m.shape[0]
    eye = torch.eye(BLOCK, dtype=m.dtype, device=m.device).view(1, BLOCK, 1, BLOCK, 1)
    return (eye * m.view(n, 1, 3, 1, 3)).reshape(n, BLOCK * 3, BLOCK * 3)


def resize_matrix(n_out, n_in, like: torch.Tensor) -> torch.Tensor:
    """[n_out, n_in]: bilinear resampling along one axis as a matrix (half-pixel centres, edges held;
    the weights of F.interpolate(mode="bilinear", align_corners=False) without antialiasing). Applied
    by matrix products, a resize can read and write channels-last tensors directly: ONNX Runtime's
    Resize wants NCHW, and the layout changes around it cost more than the resize."""
    src = (torch.arange(n_out, dtype=like.dtype, device=like.device) + 0.5) * (n_in / n_out) - 0.5
    src = src.clamp(0.0, n_in - 1.0)
    grid = torch.arange(n_in, dtype=like.dtype, device=like.device)
    return (1.0 - (src.view(-1, 1) - grid.view(1, -1)).abs()).clamp_min(0.0)


def resize_nhwc(x: torch.Tensor, height, width) -> torch.Tensor:
    """[N, h, w, C] -> [N, height, width, C], bilinear (as F.interpolate on the NCHW view): two single
    matrix products, columns first (at the input's rows: the smaller side for an upsampling)."""
    n, h, w, c = x.shape
    cols = torch.matmul(x.permute(0, 1, 3, 2), resize_matrix(width, w, x).t())  # [N, h, C, width]
    cols = cols.permute(0, 1, 3, 2).reshape(n, h, width * c)
    return torch.matmul(resize_matrix(height, h, x), cols).view(n, height, width, c)


def resize_to_nchw(x: torch.Tensor, height, width) -> torch.Tensor:
    """[N, h, w, C] -> [N, C, height, width], bilinear: rows first (for a downsampling), then the
    channels-first layout change at the smaller size, then the columns."""
    n, h, w, c = x.shape
    rows = torch.matmul(resize_matrix(height, h, x), x.reshape(n, h, w * c)).view(n, height, w, c)
    return torch.matmul(rows.permute(0, 3, 1, 2), resize_matrix(width, w, x).t())
