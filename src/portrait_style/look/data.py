"""A look's training data: both image sets as whole frames at one square size, with their faces.

Frames are resized to size x size without cropping: the look model sees every frame in frame-relative
coordinates (its context grid is square whatever the aspect), so training squeezes frames the same way.
Faces (for looks whose light follows them) are detected on the original images and cached on disk by
the file's bytes, so a second run skips detection.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch

from portrait_style.config import FaceConfig
from portrait_style.engine.faces.geometry import MAX_FACES, face_table
from portrait_style.errors import InputError
from portrait_style.fileutil import atomic_path
from portrait_style.trainer.images import read_rgb, warn_skipped

FACE_CACHE_VERSION = 2


@dataclass
class FrameSet:
    role: str
    source: str
    images: torch.Tensor  # [N, 3, S, S] float in [0, 1]
    faces: torch.Tensor | None  # [N, MAX_FACES, 4] face tables, or None for a look without faces
    files: int
    unreadable: list[Path]

    def summary(self) -> dict:
        out = {"files": self.files, "used": len(self.images), "unreadable": len(self.unreadable)}
        if self.faces is not None:
            out["with_face"] = int((self.faces[:, 0, 3] > 0).sum())
        return out


def load_frames(
    paths: list[Path],
    role: str,
    source: str,
    size: int,
    faces: bool,
    cache_dir: Path,
    detector: str = "auto",
    progress: Callable = iter,
) -> FrameSet:
    images, tables, bad = [], [], []
    detect = _face_finder(cache_dir, detector) if faces else None
    for path in progress(paths):
        image = read_rgb(path)
        if image is None:
            bad.append(path)
            continue
        interp = cv2.INTER_AREA if min(image.shape[:2]) > size else cv2.INTER_CUBIC
        images.append(cv2.resize(image, (size, size), interpolation=interp))
        if detect is not None:
            tables.append(detect(path, image))
    warn_skipped(bad, "unreadable or not an image", role)
    if not images:
        raise InputError(f"none of the {len(paths)} {role} images in {source} could be read (e.g. {bad[0]})")
    batch = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).float() / 255.0
    table = torch.from_numpy(np.stack(tables)) if faces else None
    return FrameSet(role, source, batch, table, len(paths), bad)


def face_checker(cache_dir: Path, detector: str = "auto") -> Callable[[Path], bool]:
    """path -> whether the image there shows a face (False when it cannot be read); one detector for
    every call, the answers cached like the training's face tables."""
    find = _face_finder(cache_dir, detector)

    def has_face(path: Path) -> bool:
        image = read_rgb(path)
        return image is not None and bool(find(path, image)[:, 3].max() > 0)

    return has_face


def _face_finder(cache_dir: Path, detector_name: str):
    """path, image -> face table, detected once per file content and cached."""
    cfg = FaceConfig(detector=detector_name)
    detector = None
    folder = Path(cache_dir).parent / "faces"

    def find(path: Path, image: np.ndarray) -> np.ndarray:
        nonlocal detector
        key = hashlib.sha256(path.read_bytes())
        key.update(
            f"{FACE_CACHE_VERSION}-{detector_name}-{cfg.score_threshold}-{cfg.min_face_size}-{cfg.min_face_fraction}".encode()
        )
        cached = folder / f"{key.hexdigest()[:32]}.npy"
        if cached.is_file():
            try:
                return np.load(cached, allow_pickle=False)
            except (OSError, ValueError):
                pass  # a damaged entry is simply recomputed
        if detector is None:
            from portrait_style.engine.faces.detectors import make_detector

            detector = make_detector(cfg)
        table = face_table(detector.detect(image), *image.shape[:2], max_faces=MAX_FACES)
        folder.mkdir(parents=True, exist_ok=True)
        with atomic_path(cached) as tmp:
            with open(tmp, "wb") as f:
                np.save(f, table)
        return table

    return find
