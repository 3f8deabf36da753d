"""What travels through the pipeline: one frame and everything learned about it on the way."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np


@dataclass
class Face:
    """One face in frame pixel coordinates.

    landmarks: 5x2 float32 in image order: eye on the image's left, eye on the image's right, nose tip,
    mouth corner on the image's left, mouth corner on the image's right. None when the detector has none.
    """

    box: np.ndarray  # (4,) float32 x1, y1, x2, y2
    score: float
    landmarks: np.ndarray | None = None
    track_id: int = -1


@dataclass
class FramePacket:
    """A decoded frame plus its metadata; each pipeline stage fills in its own fields."""

    index: int  # 0-based position in the stream
    image: np.ndarray  # H x W x 3 uint8 RGB, upright (rotation metadata already applied)
    pts: int | None = None  # presentation timestamp in `time_base` units, kept from the input
    time_base: Fraction | None = None
    faces: list[Face] = field(default_factory=list)
    crops: np.ndarray | None = None  # N x S x S x 3 aligned face crops, or 1 x H x W x 3 (frame)
    transforms: list[np.ndarray] = field(default_factory=list)  # 2x3 affine frame->crop, one per crop
    styled: np.ndarray | None = None  # generator output for `crops`
    output: np.ndarray | None = None  # final composited frame
    timings: dict[str, float] = field(default_factory=dict)  # seconds spent per stage
    captured: float | None = None  # time.monotonic() seconds when the frame was captured or decoded
    meta: dict[str, object] = field(default_factory=dict)  # what live stages attach (style, mode, backend)
