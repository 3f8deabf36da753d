"""Where a pixel is: frame-relative axes and the soft fields around the faces, shared by the look model
(look/model.py), its objective (look/objective.py) and its statistics start (look/init.py)."""

from __future__ import annotations

import torch

from portrait_style.engine.faces.geometry import FACE_COLUMNS


def frame_axis(n: int, like: torch.Tensor) -> torch.Tensor:
    """[n] centres of n equal cells across the frame, in -1..1 (frame-relative coordinates)."""
    return (torch.arange(n, dtype=like.dtype, device=like.device) + 0.5) * (2.0 / n) - 1.0


def face_weight(faces: torch.Tensor, gy: torch.Tensor, gx: torch.Tensor, repeat: int = 1) -> torch.Tensor:
    """[N, 1, h, w * repeat] share of the face region (regions looks): 1 on a face, 0 far from every
    face; each value `repeat` times in a row (one per colour channel of an NHWC map).

    exp(-d^2 / 4) summed over the faces (at most 1), d in half face heights: 0.8 at the face's edge, 0.37
    a face height away (hair, neck), 0.1 at one and a half. Only this one field, not face_field's four:
    it is computed for every block of every frame. The Gaussian is a column factor times a row factor,
    so the sum over faces is one [h, F] x [F, w] product: measured on the blocks of a 1080p frame through
    ONNX Runtime, the exp, products and sum at every block and face took about 4 ms. Repeated for the
    channels by the product itself: a [h, w, 1] weight broadcast over [h, w, 3] maps ran 3 values at a
    time (1.5 ms per product at 1080p).
    """
    cx, cy, size, valid = (faces[..., i, None] for i in range(FACE_COLUMNS))  # [N, F, 1]
    scale = size.clamp_min(0.02)
    down = torch.exp(-0.25 * ((gy.reshape(1, 1, -1) - cy) / scale) ** 2) * valid  # [N, F, h]
    across = torch.exp(-0.25 * ((gx.reshape(1, 1, -1) - cx) / scale) ** 2)  # [N, F, w]
    if repeat > 1:
        across = across.repeat_interleave(repeat, dim=2)  # [N, F, w * repeat]
    return torch.matmul(down.transpose(1, 2), across).unsqueeze(1).clamp(max=1.0)


def face_field(faces: torch.Tensor, gy: torch.Tensor, gx: torch.Tensor) -> torch.Tensor:
    """[N, FACE_FEATURES, h, w]: a soft field around each face and its offsets, summed over the faces.

    faces: [N, F, 4] tables (engine/faces/geometry.py); gy [1, 1, h, 1], gx [1, 1, 1, w] in -1..1.
    """
    cx, cy, size, valid = (faces[..., i, None, None] for i in range(FACE_COLUMNS))  # [N, F, 1, 1]
    scale = size.clamp_min(0.02)
    du = (gx - cx) / scale
    dv = (gy - cy) / scale
    d2 = du * du + dv * dv
    near = torch.exp(-0.5 * d2) * valid
    wide = torch.exp(-0.125 * d2) * valid
    return torch.stack([near, wide, du * wide, dv * wide], dim=2).sum(1)
