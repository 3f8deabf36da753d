"""Where the faces are, in the frame-relative form a look model takes.

A look whose light follows the face gets, per image, a fixed-size table of faces: one row per face,
(cx, cy, size, valid), with the centre in frame coordinates from -1 (left/top edge) to 1 (right/bottom
edge), the size as the face box's height over the frame's height, and valid 1 for a face, 0 for an
empty row. A fixed number of rows keeps the model's input shape static (ONNX, TensorRT).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from portrait_style.engine.frame import Face

MAX_FACES = 4  # rows of the table; the largest faces win when a frame has more
FACE_COLUMNS = 4  # cx, cy, size, valid


def face_table(faces: Sequence[Face], height: int, width: int, max_faces: int = MAX_FACES) -> np.ndarray:
    """(max_faces, 4) float32 table of the largest faces, empty rows all zero."""
    table = np.zeros((max_faces, FACE_COLUMNS), np.float32)
    boxes = sorted((np.asarray(f.box, np.float32) for f in faces), key=lambda b: -(b[3] - b[1]))
    for row, (x1, y1, x2, y2) in zip(table, boxes[:max_faces], strict=False):
        row[0] = (x1 + x2) / width - 1.0
        row[1] = (y1 + y2) / height - 1.0
        row[2] = (y2 - y1) / height
        row[3] = 1.0
    return table


def no_faces(batch: int, max_faces: int = MAX_FACES) -> np.ndarray:
    return np.zeros((batch, max_faces, FACE_COLUMNS), np.float32)
