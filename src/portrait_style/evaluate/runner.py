"""Turn a style checkpoint into a plain `image -> image` function, and read the media evaluation needs.

Frame mode runs the generator's uint8 forward directly in PyTorch (padded to a multiple of 4, then
cropped back): deterministic, and exactly what was trained. Face mode needs detection, alignment and
paste-back, so it goes through the engine's `Stylizer`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import cv2
import numpy as np
import torch

from portrait_style.engine.checkpoint import StyleMeta, load_style, read_meta
from portrait_style.engine.model import SIZE_MULTIPLE
from portrait_style.errors import InputError, ModelError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")
Transform = Callable[[np.ndarray], np.ndarray]


def _pad(image: np.ndarray) -> np.ndarray:
    h, w = image.shape[:2]
    ph, pw = -h % SIZE_MULTIPLE, -w % SIZE_MULTIPLE
    if not ph and not pw:
        return image
    return np.pad(image, ((0, ph), (0, pw), (0, 0)), mode="reflect" if min(h, w) > 1 else "edge")


def frame_stylizer(model: torch.nn.Module) -> Transform:
    """Whole-frame stylization with a loaded generator: RGB uint8 (H, W, 3) -> RGB uint8 (H, W, 3)."""

    def apply(image: np.ndarray) -> np.ndarray:
        h, w = image.shape[:2]
        with torch.inference_mode():
            out = model(torch.from_numpy(np.ascontiguousarray(_pad(image)))[None])
        return out[0, :h, :w].numpy()

    return apply


def load_stylizer(
    path: str | os.PathLike, mode: str | None = None, video: bool = False
) -> tuple[Transform, StyleMeta]:
    """A checkpoint as an image function; `mode` defaults to the mode the style was trained for.

    video: the images are consecutive frames, so face mode may track faces from one to the next.
    """
    meta = read_meta(path)
    mode = mode or meta.mode
    if mode == "frame":
        model, meta = load_style(path)
        return frame_stylizer(model), meta
    if mode != "face":
        raise ModelError(f"unknown mode '{mode}'; choose face or frame")
    try:
        from portrait_style.api import Stylizer
    except ImportError:
        raise ModelError(
            "face mode needs the engine's Stylizer, which this build lacks; use --mode frame"
        ) from None
    stylizer = Stylizer(model=str(path), mode="face")

    def apply(image: np.ndarray) -> np.ndarray:
        if not video:
            stylizer.reset()  # unrelated images: nothing tracked from one to the next
        return stylizer.stylize(image)

    return apply, meta


def list_images(folder: str | os.PathLike) -> list[Path]:
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"folder not found: {folder}")
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def read_rgb(path: str | os.PathLike) -> np.ndarray:
    """An image file as RGB uint8 (H, W, 3); grey and alpha are converted."""
    data = np.fromfile(str(path), dtype=np.uint8) if Path(path).is_file() else None
    image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data is not None and data.size else None
    if image is None:
        raise InputError(f"cannot read image: {path}")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def video_frames(path: str | os.PathLike, max_frames: int | None = None) -> Iterator[np.ndarray]:
    """Decode a video's frames as RGB uint8, in order."""
    import av

    path = Path(path)
    if not path.is_file():
        raise InputError(f"video not found: {path}")
    try:
        container = av.open(str(path))
    except av.error.FFmpegError as exc:
        raise InputError(f"cannot open video {path}: {exc}") from None
    with container:
        if not container.streams.video:
            raise InputError(f"no video stream in {path}")
        stream = container.streams.video[0]
        try:
            for i, frame in enumerate(container.decode(stream)):
                if max_frames is not None and i >= max_frames:
                    return
                yield frame.to_ndarray(format="rgb24")
        except av.error.FFmpegError as exc:
            raise InputError(f"cannot decode video {path}: {exc}") from None
