"""A look's colour functions: per region, levels a * x + b, three monotone tone curves, a luma-driven
toning curve and a 3x3 mix (look/model.py adapts them per image), sampled into tables the blocks read.

Evaluating the curves piecewise at every block of a 1080p frame took about as long as the whole
full-size multiply-add (ONNX Runtime, 2-core CPU), so each image's functions are sampled once at
LUT_SIZE block values (`tables`, a few thousand values) and every block reads them (`lookup`). A look
that is not adaptive has the same functions in every frame: its blocks read each region's colour and
slope from one LATTICE^3 table of block colours instead (`lattice_table`).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from portrait_style.look.blocks import LUT_SIZE

SLOPE_SPAN = 4.0 / 255.0  # half width of the secant that gives a block's detail its slope
LATTICE = 64  # points per channel of a fixed look's colour table: 64^3 x 12 floats, 13 MB


def pwl(knots: torch.Tensor, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Piecewise-linear curves through knots spaced uniformly over [0, 1], continued linearly outside
    it (clipping happens once, per pixel, at the very end), and their slopes.

    knots: [N, C, K] (one curve per image and channel); x: [N, C, ...] -> value and slope, both shaped as x.
    """
    n, c, k = knots.shape
    t = x * (k - 1)
    idx = t.floor().clamp(0, k - 2)
    frac = t - idx
    flat = knots.reshape(-1)
    base = (torch.arange(n * c, device=x.device) * k).view(n, c, *([1] * (x.dim() - 2)))
    i0 = (idx.long() + base).reshape(-1)
    v0 = flat[i0].view_as(x)
    v1 = flat[i0 + 1].view_as(x)
    return v0 + frac * (v1 - v0), (v1 - v0) * (k - 1)


def table_rows(x: torch.Tensor, size: int) -> torch.Tensor:
    """x (in rows of a table of `size`) rounded to its nearest row, 0..size-1, in float32 whatever x's
    precision: bfloat16 holds no integer between 512 and 1024 that is not a multiple of 4, so a row
    rounded there could read past the table's end."""
    return (x.float() + 0.5).clamp(0.5, size - 0.5).floor()


def functions(params: list, delta: torch.Tensor | None, n: int, knots: int) -> list[tuple[torch.Tensor, ...]]:
    """Each region's colour function for each of n images: its base `params` (curve start, curve
    steps, toning, mix per region) plus the image's adaptation `delta` ([n, *]; None: the base alone)."""
    k = knots
    sizes = [3, 3, 3, 3 * (k - 1), 3 * k, 9]
    if delta is None:  # not adaptive: the same functions for every image
        delta = params[0][3].new_zeros(n, sum(sizes))
    gain, bias, d0, ds, dt, dm = torch.split(delta[:, : sum(sizes)], sizes, dim=1)
    out = []
    for curve_start, curve_steps, base_toning, base_mix in params:
        start = curve_start + d0.view(n, 3, 1)
        steps = F.softplus(curve_steps + ds.view(n, 3, k - 1))
        curves = torch.cat([start, start + torch.cumsum(steps, dim=2)], dim=2)
        toning = base_toning + dt.view(n, 3, k)
        mix = base_mix + dm.view(n, 3, 3)
        out.append((torch.exp(gain).view(n, 3, 1, 1), bias.view(n, 3, 1, 1), curves, toning, mix))
    return out


def tables(weights) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Each image's colour function sampled at LUT_SIZE block values 0..1: [N, LUT_SIZE, 3] curve
    values (levels 0..255; the levels a * x + b folded in) and slopes, one column per channel, and
    [N * LUT_SIZE, 3] toning (levels) per luma.

    Built from the curves' knots for every frame (a few thousand values), so the block-level work is
    two lookups instead of the curves' piecewise evaluation: measured at 1080p through ONNX
    Runtime, evaluating the curves on every block (17 Gather nodes and their index arithmetic) took
    about as long as the whole full-size multiply-add.
    """
    a, b, curves, toning, mix = weights
    n = curves.shape[0]
    t = torch.linspace(0.0, 1.0, LUT_SIZE, dtype=curves.dtype, device=curves.device).view(1, 1, -1)
    a, b = a.view(n, 3, 1), b.view(n, 3, 1)
    u, _ = pwl(curves, a * t + b)
    tone, _ = pwl(toning, t.expand(n, 3, LUT_SIZE))
    # the slope of the detail inside a block: the curves' secant over +-SLOPE_SPAN (toning moves a
    # region's colour by its luma, the detail follows the curves only), through the mix's own-channel
    # weight. A secant, not the derivative: a block's pixels spread around its mean, and at a knot
    # the derivative jumps, so a block mean a rounding step to either side of a knot (FP16) would
    # change the detail of the whole block
    ahead, _ = pwl(curves, a * (t + SLOPE_SPAN) + b)
    behind, _ = pwl(curves, a * (t - SLOPE_SPAN) + b)
    slope = (ahead - behind) * (0.5 / SLOPE_SPAN) * torch.diagonal(mix, dim1=1, dim2=2).view(n, 3, 1)
    tone = (tone * 255.0).transpose(1, 2).reshape(n * LUT_SIZE, 3)
    return (u * 255.0).transpose(1, 2), slope.transpose(1, 2), tone


def lookup(
    index: torch.Tensor, weights, luma: torch.Tensor, shared: bool
) -> tuple[torch.Tensor, torch.Tensor]:
    """The colour function on the blocks (NHWC, levels 0..255; `index`: the blocks' values as table
    rows, [N, h, w, 3] int64) and its per-channel slope. `luma`: the [3] luma weights.

    Each channel reads its own column of the tables (GatherElements): measured at 1080p through
    ONNX Runtime, 2.8 ms against 3.4 ms for adding each channel's first row to the index and
    reading (value, slope) pairs from one table.

    shared: one set of tables for every frame (`weights` for one image; a look that is not adaptive):
    made from the weights alone, ONNX Runtime folds them into constants when it loads the graph."""
    *_, mix = weights
    n, h, w, _ = index.shape
    values, slopes, tone = tables(weights)
    if shared:  # once per image of the batch for GatherElements
        values, slopes = values.expand(n, -1, -1), slopes.expand(n, -1, -1)
    flat = index.view(n, h * w, 3)
    u, du = torch.gather(values, 1, flat), torch.gather(slopes, 1, flat)  # [N, h * w, 3] each
    # the mix and the luma in one product, [N, h*w, 3] @ [N, 3, 4]: a product with a single output
    # column (the luma alone) ran as a matrix-vector product 20x slower
    luma = luma.reshape(1, 3, 1).expand(mix.shape[0], 3, 1)
    mixed, lum = torch.matmul(u, torch.cat([mix.transpose(1, 2), luma], 2)).split([3, 1], 2)
    rows = table_rows(lum.view(n, h, w) * ((LUT_SIZE - 1) / 255.0), LUT_SIZE).to(torch.int32)
    if not shared:  # each image's own toning table
        rows = rows + image_base(n, index.device).view(n, 1, 1)
    return mixed.view(n, h, w, 3) + tone[rows], du.view(n, h, w, 3)


def image_base(n: int, device) -> torch.Tensor:
    """[n] int32: the first toning table row of each image. Rows are counted in int32 (int64
    element-wise work measured 3x slower on the CPU; in FP16 graphs a float sum of rows past 2048
    would not be exact)."""
    return torch.arange(n, device=device, dtype=torch.int32) * LUT_SIZE


def lattice_table(regions: list, luma: torch.Tensor) -> torch.Tensor:
    """[L, L, L, 6 * len(regions)], L = LATTICE: each region's intercept and slope at a lattice of block
    colours mu, for a look that is not adaptive (`regions`: each region's functions for one image):
    colour(mu) + slope * (x - mu) = intercept + slope * x, with colour and slope as `lookup` gives them.
    Each lattice point is a table sample, so what is read is exactly its own value. With two regions
    the first (the face's) is stored as its difference from the second (the background's), so
    `lattice_maps` blends them with one multiply-add each."""
    levels = (torch.arange(LATTICE, device=luma.device) * ((LUT_SIZE - 1) / (LATTICE - 1))).round()
    grid = torch.stack(torch.meshgrid(levels, levels, levels, indexing="ij"), -1)
    index = grid.view(1, LATTICE * LATTICE, LATTICE, 3).to(torch.int64)
    mu = index.to(luma.dtype) * (255.0 / (LUT_SIZE - 1))  # the points in levels
    parts = []
    for weights in regions:
        value, slope = lookup(index, weights, luma, shared=True)
        parts += [value - slope * mu, slope]
    if len(parts) == 4:  # face, background -> face minus background, background
        parts[:2] = [parts[0] - parts[2], parts[1] - parts[3]]
    return torch.cat(parts, -1).view(LATTICE, LATTICE, LATTICE, -1)


def lattice_maps(table: torch.Tensor, means: torch.Tensor, face_weight=None):
    """A look that is not adaptive, deployed: each block's intercept and slope (colour = intercept +
    slope * x about the block), its colour rounded to the LATTICE^3 table and every region read in
    one lookup, instead of a lookup per channel, value, slope and region and the mix and toning per
    region: measured at 1080p through ONNX Runtime, `studio` (two regions) 28.6 -> 22.1 ms in one
    run; 57-59 dB from the exact evaluation on portraits (at most 5-9 levels at a few pixels of hard
    edges), a little more flicker where curves bend hard. The expansion point, the lattice point, is
    folded into the table (the intercept), and the face region is stored as its difference from the
    background: no per-block work for either (1080p, two interleaved runs in a slow phase: `studio`
    0.2 and 0.6 ms less, `high-key` 1.0 and 0.4, `mono` 0.7 and 1.5; the same frames within one
    level at 1e-5 of the pixels).

    table: `lattice_table`; means: the block means in table rows, [N, h, w, 3]; face_weight: for two
    regions, a function giving the face region's share [N, h, w, 3] for maps shaped like its argument."""
    point = table_rows(means * ((LATTICE - 1) / (LUT_SIZE - 1)), LATTICE).to(torch.int64)
    values = table[point[..., 0], point[..., 1], point[..., 2]].split(3, dim=-1)
    if face_weight is None:
        return values
    d_intercept, d_slope, intercept, slope = values
    w = face_weight(intercept)
    return intercept + w * d_intercept, slope + w * d_slope
