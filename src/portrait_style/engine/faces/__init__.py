"""Faces: detection, tracking through video, aligned crops, and seamless paste-back of styled crops."""

from portrait_style.engine.faces.align import face_transform, template, warp_crop
from portrait_style.engine.faces.composite import crop_faces, paste_back
from portrait_style.engine.faces.detectors import (
    Detector,
    HaarDetector,
    MTCNNDetector,
    YuNetDetector,
    make_detector,
)
from portrait_style.engine.faces.smoothing import OneEuroFilter
from portrait_style.engine.faces.tracker import FaceTracker

__all__ = [
    "Detector",
    "FaceTracker",
    "HaarDetector",
    "MTCNNDetector",
    "OneEuroFilter",
    "YuNetDetector",
    "crop_faces",
    "face_transform",
    "make_detector",
    "paste_back",
    "template",
    "warp_crop",
]
