"""Aligned square face crops: a similarity transform that puts the 5 landmarks on a fixed template.

The template is ArcFace's 5 points, framed the way FFHQ frames faces: the crop is centred a tenth of
the way from the eye midpoint to the mouth midpoint, and its side is `crop_scale` times the face size
max(2 x inter-ocular, 1.8 x eye-to-mouth). crop_scale 2.0 is FFHQ's crop (whole head, hair, chin).
"""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np

from portrait_style.engine.frame import Face

# ArcFace's template in its 112 x 112 crop, image order (eye on the image's left first)
_ARCFACE = np.array(
    [[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655], [70.7299, 92.2041]]
)
# Where MTCNN puts the 5 landmarks inside its own box, as fractions of the box (mean over the 102
# London portraits, made left-right symmetric): used to align faces from detectors that give a box only.
_BOX_LANDMARKS = np.array([[0.267, 0.398], [0.733, 0.398], [0.5, 0.576], [0.312, 0.770], [0.688, 0.770]])


def face_size(landmarks: np.ndarray) -> float:
    """FFHQ's face size: max(2 x inter-ocular distance, 1.8 x eye-midpoint-to-mouth-midpoint distance)."""
    eye_mid, mouth_mid = landmarks[:2].mean(axis=0), landmarks[3:].mean(axis=0)
    inter_ocular = np.linalg.norm(landmarks[1] - landmarks[0])
    return float(max(2.0 * inter_ocular, 1.8 * np.linalg.norm(mouth_mid - eye_mid)))


@lru_cache(maxsize=16)
def _template(crop_size: int, crop_scale: float) -> np.ndarray:
    eye_mid, mouth_mid = _ARCFACE[:2].mean(axis=0), _ARCFACE[3:].mean(axis=0)
    centre = eye_mid + 0.1 * (mouth_mid - eye_mid)
    scale = crop_size / (crop_scale * face_size(_ARCFACE))
    points = (_ARCFACE - centre) * scale + crop_size / 2.0
    points.setflags(write=False)
    return points


def template(crop_size: int, crop_scale: float) -> np.ndarray:
    """5 x 2 landmark positions in a crop_size crop, image order."""
    return _template(int(crop_size), float(crop_scale)).copy()


def similarity_transform(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """2 x 3 least-squares rotation + uniform scale + translation taking src points to dst (Umeyama 1991)."""
    src, dst = np.asarray(src, np.float64), np.asarray(dst, np.float64)
    src_mean, dst_mean = src.mean(axis=0), dst.mean(axis=0)
    src_c, dst_c = src - src_mean, dst - dst_mean
    u, s, vt = np.linalg.svd(dst_c.T @ src_c / len(src))
    d = np.array([1.0, np.sign(np.linalg.det(u) * np.linalg.det(vt))])
    rotation = u @ np.diag(d) @ vt
    scale = (s * d).sum() / src_c.var(axis=0).sum()
    matrix = np.empty((2, 3))
    matrix[:, :2] = scale * rotation
    matrix[:, 2] = dst_mean - scale * rotation @ src_mean
    return matrix


def box_landmarks(box: np.ndarray) -> np.ndarray:
    """Typical landmark positions for a face box (for detectors without landmarks)."""
    x1, y1, x2, y2 = np.asarray(box, np.float64)
    return np.array([x1, y1]) + _BOX_LANDMARKS * np.array([x2 - x1, y2 - y1])


def face_transform(face: Face, crop_size: int, crop_scale: float) -> np.ndarray:
    """2 x 3 float32 similarity transform, frame pixels -> crop pixels (use with cv2.warpAffine)."""
    points = face.landmarks if face.landmarks is not None else box_landmarks(face.box)
    return similarity_transform(points, template(crop_size, crop_scale)).astype(np.float32)


def warp_crop(image: np.ndarray, transform: np.ndarray, crop_size: int) -> np.ndarray:
    """The crop_size x crop_size crop; parts beyond the frame are mirrored in so the crop is always full."""
    return cv2.warpAffine(
        image, transform, (crop_size, crop_size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101
    )


def invert_transform(transform: np.ndarray) -> np.ndarray:
    """2 x 3 crop -> frame transform."""
    return cv2.invertAffineTransform(np.asarray(transform, np.float64)).astype(np.float32)
