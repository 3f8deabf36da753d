"""Fixtures for the face tests: a real portrait that ships with scikit-image, one shared MTCNN, and the
optional shared data and models (tests asking for those skip when they are absent)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from skimage import data

from portrait_style.config import FaceConfig
from portrait_style.engine.faces.detectors import MTCNNDetector

SHARED = Path(__file__).resolve().parents[3].parent / "shared"


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    image = data.astronaut()
    image.setflags(write=False)
    return image


@pytest.fixture(scope="session")
def mtcnn() -> MTCNNDetector:
    return MTCNNDetector(FaceConfig())


@pytest.fixture(scope="session")
def yunet_path() -> Path:
    path = SHARED / "models" / "face_detection_yunet_s_640.onnx"
    if not path.is_file():
        pytest.skip(f"YuNet model not found at {path}")
    return path


@pytest.fixture(scope="session")
def london_portraits() -> list[Path]:
    """The first few London portraits (189-point .tem files: points 0 and 1 are the pupils)."""
    folder = SHARED / "data" / "portraits" / "london_neutral"
    if not folder.is_dir():
        pytest.skip(f"shared portraits not found at {folder}")
    return sorted(folder.glob("*.jpg"))[:4]
