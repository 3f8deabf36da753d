"""Finding and reading training images: a folder or a list file in, RGB uint8 arrays out.

A bad file never stops a run: `read_all` returns what it could read and the paths it could not, and the
caller reports them. Only an input with nothing usable at all is an error.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from pathlib import Path

import cv2
import numpy as np

from portrait_style.engine.image_io import IMAGE_SUFFIXES, is_image_path, read_image
from portrait_style.errors import InputError

log = logging.getLogger(__name__)


def find_images(source: str | Path, role: str) -> list[Path]:
    """Image files in a folder (recursively, hidden folders skipped) or named in a .txt list, sorted; or
    the one image given.

    A list file holds one path per line, relative to the list's folder; blank lines and # comments are
    ignored. That is how an identity split (train on some people, evaluate on others) is given.
    """
    source = Path(source).expanduser()
    if not source.exists():
        raise InputError(f"{role} folder not found: {source}")
    if source.is_file() and is_image_path(source):  # one reference still: "make it look like this"
        return [source]
    if source.is_file():
        if source.suffix.lower() != ".txt":
            raise InputError(f"{role} must be a folder, an image or a .txt list of images: {source}")
        try:
            text = source.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read {role} list {source}: {exc}") from None
        lines = (line.strip() for line in text.splitlines())
        paths = [source.parent / line for line in lines if line and not line.startswith("#")]
        missing = [p for p in paths if not p.is_file()]
        if missing:
            raise InputError(f"{role} list {source} names {len(missing)} missing file(s), e.g. {missing[0]}")
    else:
        paths = sorted(
            p
            for p in source.rglob("*")
            if is_image_path(p)
            and p.is_file()
            and not any(part.startswith(".") for part in p.relative_to(source).parts)
        )
    if not paths:
        raise InputError(f"no images ({', '.join(IMAGE_SUFFIXES)}) in {role} folder {source}")
    return paths


def read_rgb(path: Path) -> np.ndarray | None:
    """H x W x 3 uint8 RGB (grey, 16-bit and alpha handled by the engine's reader), or None if unreadable."""
    try:
        return read_image(path)
    except InputError:
        return None


def read_all(
    paths: Iterable[Path], prepare: Callable[[np.ndarray], np.ndarray], progress: Callable = iter
) -> tuple[list[np.ndarray], list[Path]]:
    """Read and `prepare` every image; returns (prepared images, unreadable paths)."""
    images, bad = [], []
    for path in progress(paths):
        image = read_rgb(path)
        if image is None:
            bad.append(path)
        else:
            images.append(prepare(image))
    return images, bad


def warn_skipped(paths: list[Path], why: str, role: str) -> None:
    if paths:
        shown = ", ".join(str(p) for p in paths[:10]) + (
            f" and {len(paths) - 10} more" if len(paths) > 10 else ""
        )
        log.warning("skipped %d %s image(s) (%s): %s", len(paths), role, why, shown)


def resize_short_side(image: np.ndarray, side: int) -> np.ndarray:
    """Scale so the shorter side is `side` (area filter when shrinking, so nothing aliases)."""
    h, w = image.shape[:2]
    scale = side / min(h, w)
    size = (max(side, round(w * scale)), max(side, round(h * scale)))
    if size == (w, h):
        return np.ascontiguousarray(image)
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    return cv2.resize(image, size, interpolation=interp)
