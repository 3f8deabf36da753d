"""What the look model's adaptive parts read from a frame (look/model.py): the global statistics its
weights adapt to, the grid's per-cell features, and the chroma mix of a look with a saturation.

All of it runs on the frame's G x G grid cells (frame-relative: the same at any size; a few thousand
values), never on the blocks or the pixels.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from portrait_style.engine.faces.geometry import FACE_COLUMNS
from portrait_style.look.fields import face_field, frame_axis

N_STATS = 15  # per channel: mean, std, low and high cell means; mean luma, luma std, luma range
FACE_FEATURES = 4  # face_field's soft fields and offsets
N_CELL_FEATURES = 12 + 3  # cell colour, local spread, two coarser context scales; x, y, radius squared


def frame_statistics(cells: torch.Tensor, cells_sq: torch.Tensor, luma: torch.Tensor) -> torch.Tensor:
    """[N, N_STATS] global statistics from the grid cells [N, 3, G, G] (values 0..1) and their mean
    squares, centred on 0 (cheap, and smooth in time: a cell mean moves little from frame to frame).

    luma: [1, 3, 1, 1] weights."""
    mean = cells.mean(dim=(2, 3))
    std = (cells_sq.mean(dim=(2, 3)) - mean * mean).clamp_min(1e-6).sqrt()
    flat = cells.flatten(2)
    low, high = flat.amin(dim=2), flat.amax(dim=2)
    lum = (cells * luma).sum(1).flatten(1)
    lum = torch.stack([lum.mean(1), lum.std(1), lum.amax(1) - lum.amin(1)], dim=1)
    return torch.cat([mean, std, low, high, lum], dim=1) * 2.0 - 1.0


def grid_features(
    cells: torch.Tensor,
    spread: torch.Tensor,
    embedding: torch.Tensor,
    faces: torch.Tensor | None,
    max_faces: int | None,
    context: bool = True,
    luma: torch.Tensor | None = None,
) -> torch.Tensor:
    """[N, N_CELL_FEATURES (+ FACE_FEATURES) + E, G, G]: what the grid network sees at each cell.

    cells, spread: [N, 3, G, G] (values 0..1); embedding: [N, E] from the image's statistics; faces:
    [N, F, 4] tables or None; max_faces: None for a look that does not read faces, else the table's rows
    (an absent table counts as no face). Without `context` the colours are zeros: the grid's changes
    then depend only on position, faces and the statistics (smooth fields of light, no halos). With
    `luma` ([1, 3, 1, 1] weights) the colours are their luma, repeated over the three channels: the grid's
    changes then depend on the tone around a cell, not on its hue."""
    n, _, g, _ = cells.shape
    if luma is not None:
        cells, spread = (((f * luma).sum(1, keepdim=True)).expand_as(f) for f in (cells, spread))
    ctx1 = F.avg_pool2d(cells, 5, stride=1, padding=2, count_include_pad=False)
    ctx2 = F.interpolate(
        F.avg_pool2d(cells, max(1, g // 4)), size=(g, g), mode="bilinear", align_corners=False
    )
    colours = [f * 2.0 - 1.0 for f in (cells, spread, ctx1, ctx2)]  # centred like the other features
    if not context:
        colours = [torch.zeros_like(f) for f in colours]
    axis = frame_axis(g, cells)
    gy, gx = axis.view(1, 1, g, 1), axis.view(1, 1, 1, g)
    gy_, gx_ = gy.expand(n, 1, g, g), gx.expand(n, 1, g, g)
    feats = [*colours, gx_, gy_, gx_ * gx_ + gy_ * gy_]
    if max_faces is not None:
        if faces is None:
            faces = cells.new_zeros(n, max_faces, FACE_COLUMNS)
        feats.append(face_field(faces, gy, gx))
    feats.append(embedding.view(n, -1, 1, 1).expand(n, -1, g, g))
    return torch.cat(feats, 1)


def chroma_mix(log_saturation: torch.Tensor, luma: torch.Tensor) -> torch.Tensor:
    """[N or 1, 3, 3]: keeps luma (ones x luma weights) and scales what is left by exp(log_saturation)
    ([N] or [1])."""
    sat = torch.exp(log_saturation).view(-1, 1, 1)
    grey = torch.ones(3, 1, dtype=sat.dtype, device=sat.device) @ luma.reshape(1, 3)
    eye = torch.eye(3, dtype=sat.dtype, device=sat.device)
    return grey + sat * (eye - grey)
