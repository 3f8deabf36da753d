"""Still images in and out with OpenCV, always as H x W x 3 uint8 RGB, the pipeline's one pixel format."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from portrait_style.errors import InputError, OutputError
from portrait_style.fileutil import atomic_path

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp")
_MAY_HAVE_ALPHA = (".png", ".webp")
_ENCODE_PARAMS = {".jpg": [cv2.IMWRITE_JPEG_QUALITY, 95], ".jpeg": [cv2.IMWRITE_JPEG_QUALITY, 95],
                  ".webp": [cv2.IMWRITE_WEBP_QUALITY, 95]}  # fmt: skip


def is_image_path(path: str | os.PathLike) -> bool:
    """True when the name ends in a suffix `read_image` handles (case-insensitive)."""
    return Path(path).suffix.lower() in IMAGE_SUFFIXES


def list_images(folder: str | os.PathLike) -> list[Path]:
    """Image files directly inside `folder`, sorted by name; hidden files (".name") are left out."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"no such folder: {folder}" if not folder.exists() else f"not a folder: {folder}")
    return sorted(
        p for p in folder.iterdir() if is_image_path(p) and not p.name.startswith(".") and p.is_file()
    )


def read_image(path: str | os.PathLike) -> np.ndarray:
    """Read an image as upright H x W x 3 uint8 RGB.

    JPEG EXIF orientation is applied (OpenCV's default), grey becomes three equal channels, 16-bit is
    scaled to 8-bit, and a PNG/WebP alpha channel is composited over white, as a viewer would show it.
    (For PNG/WebP OpenCV must read the file unchanged to keep alpha, and so ignores an EXIF orientation
    there; camera files carrying one are JPEGs.)
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"no such file: {path}" if not path.exists() else f"not a file: {path}")
    try:
        data = np.fromfile(path, dtype=np.uint8)  # and imdecode: works for any path encoding
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from None
    unchanged = path.suffix.lower() in _MAY_HAVE_ALPHA
    flags = cv2.IMREAD_UNCHANGED if unchanged else cv2.IMREAD_COLOR | cv2.IMREAD_ANYDEPTH
    image = cv2.imdecode(data, flags) if data.size else None
    if image is None:
        raise InputError(f"cannot read {path} as an image (damaged, or not a format OpenCV reads)")
    return _to_rgb_uint8(image)


def _to_rgb_uint8(image: np.ndarray) -> np.ndarray:
    """OpenCV's BGR/BGRA/grey at 8, 16 or 32-bit float -> RGB uint8."""
    if image.dtype == np.uint16:
        image = (image.astype(np.float32) / 257.0).round().astype(np.uint8)
    elif image.dtype != np.uint8:
        image = (np.clip(image.astype(np.float32), 0.0, 1.0) * 255.0).round().astype(np.uint8)
    if image.ndim == 2:
        image = image[..., None]
    channels = image.shape[2]
    if channels in (2, 4):  # grey+alpha or BGRA: composite over white
        alpha = image[..., -1:].astype(np.float32) / 255.0
        colour = image[..., :-1].astype(np.float32)
        image = (colour * alpha + 255.0 * (1.0 - alpha)).round().astype(np.uint8)
        channels -= 1
    if channels == 1:
        return np.ascontiguousarray(np.repeat(image, 3, axis=2))
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def write_image(path: str | os.PathLike, rgb: np.ndarray) -> None:
    """Write an H x W x 3 uint8 RGB image; the format follows the suffix. Atomic: no half-written file."""
    path = Path(path)
    if not is_image_path(path):
        raise OutputError(f"cannot write {path.name}: the name must end in {', '.join(IMAGE_SUFFIXES)}")
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"expected an H x W x 3 uint8 RGB image, got shape {rgb.shape} {rgb.dtype}")
    suffix = path.suffix.lower()
    ok, encoded = cv2.imencode(suffix, cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), _ENCODE_PARAMS.get(suffix, []))
    if not ok:
        raise OutputError(f"OpenCV could not encode {path.name}")
    with atomic_path(path) as tmp:
        try:
            tmp.write_bytes(encoded.tobytes())
        except OSError as exc:
            raise OutputError(f"cannot write {path}: {exc.strerror}") from None
