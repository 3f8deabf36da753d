"""Aligned face crops for face-mode training, detected once and cached on disk.

The crops are framed exactly as the engine frames faces at run time (`engine.faces.align`), only a
little larger (`margin`) so the data loader can jitter scale and position around that framing. Each
image's crops are cached in one .npz named by a hash of the file's bytes and of every parameter that
shapes a crop, so a re-run (or a second style trained on the same photos) skips detection; an image
where no face was found is cached too, as zero crops.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np

from portrait_style.config import FaceConfig
from portrait_style.fileutil import atomic_path
from portrait_style.trainer.images import read_rgb

CACHE_VERSION = 1


def cache_key(data: bytes, params: dict) -> str:
    h = hashlib.sha256(data)
    h.update(json.dumps(params, sort_keys=True).encode())
    return h.hexdigest()[:32]


def crop_params(size: int, margin: float, face_cfg: FaceConfig) -> dict:
    return {
        "version": CACHE_VERSION,
        "crop_size": round(size * margin),
        "crop_scale": face_cfg.crop_scale * margin,  # same scale as the engine's crop, wider field
        "detector": _detector_name(face_cfg),
        "score_threshold": face_cfg.score_threshold,
        "min_face_size": face_cfg.min_face_size,
        "max_faces": face_cfg.max_faces,
    }


def _detector_name(face_cfg: FaceConfig) -> str:
    """ "auto" resolved, so crops from different detectors never share a cache entry."""
    if face_cfg.detector != "auto":
        return face_cfg.detector
    from portrait_style.engine.faces.detectors import yunet_model_path

    return "yunet" if yunet_model_path(face_cfg) else "mtcnn"


def _detect_crops(image: np.ndarray, detector, params: dict) -> np.ndarray:
    from portrait_style.engine.faces.align import face_transform, warp_crop

    side = params["crop_size"]
    crops = [
        warp_crop(image, face_transform(f, side, params["crop_scale"]), side) for f in detector.detect(image)
    ]
    return np.stack(crops) if crops else np.zeros((0, side, side, 3), np.uint8)


def face_crops(
    paths: list[Path],
    size: int,
    cache_dir: Path,
    face_cfg: FaceConfig = FaceConfig(),
    margin: float = 1.125,
    progress: Callable = iter,
) -> tuple[list[np.ndarray], list[Path], list[Path]]:
    """Returns (crops, paths with no face, unreadable paths). Crops are round(size * margin) squared.

    The crops are the generator's training pixels, so a face must have `min_face_size` pixels whatever
    the photo's size (the engine's small-frame allowance, `min_face_fraction`, is for finding where a
    face is, not for upscaling a 20-pixel face to a training crop)."""
    face_cfg = replace(face_cfg, min_face_fraction=1.0)
    params = crop_params(size, margin, face_cfg)
    cache_dir = Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    detector = None  # built on the first cache miss: a fully cached run never loads a detector
    crops: list[np.ndarray] = []
    no_face: list[Path] = []
    unreadable: list[Path] = []
    for path in progress(paths):
        try:
            data = path.read_bytes()
        except OSError:
            unreadable.append(path)
            continue
        cached = cache_dir / f"{cache_key(data, params)}.npz"
        found = _load(cached)
        if found is None:
            image = read_rgb(path)
            if image is None:
                unreadable.append(path)
                continue
            if detector is None:
                from portrait_style.engine.faces.detectors import make_detector

                detector = make_detector(face_cfg)
            found = _detect_crops(image, detector, params)
            with atomic_path(cached) as tmp:
                np.savez(tmp, crops=found)
        if len(found) == 0:
            no_face.append(path)
        crops.extend(found)
    return crops, no_face, unreadable


def _load(path: Path) -> np.ndarray | None:
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as npz:
            return npz["crops"]
    except (OSError, ValueError, KeyError):  # a damaged cache entry is simply recomputed
        return None
