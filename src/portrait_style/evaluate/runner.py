"""Turn a style checkpoint into a plain `image -> image` function, and read the media evaluation needs.

Models run through the engine itself (`Stylizer`, PyTorch on the CPU): deterministic, exactly the
trained weights, and the same face detection, alignment and paste-back that `stylize` uses.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from itertools import islice

import numpy as np
import torch

from portrait_style.api import Stylizer, pad_to_multiple
from portrait_style.engine import image_io
from portrait_style.engine.backends.torch_backend import TorchBackend
from portrait_style.engine.style_meta import StyleMeta
from portrait_style.engine.video_io import VideoReader

Transform = Callable[[np.ndarray], np.ndarray]
read_rgb = image_io.read_image
list_images = image_io.list_images


def frame_stylizer(model: torch.nn.Module) -> Transform:
    """Whole-frame stylization with an in-memory generator: RGB uint8 (H, W, 3) -> same."""
    backend = TorchBackend(model)

    def apply(image: np.ndarray) -> np.ndarray:
        h, w = image.shape[:2]
        return backend(pad_to_multiple(image)[None])[0, :h, :w]

    return apply


def load_stylizer(
    path: str | os.PathLike, mode: str | None = None, video: bool = False
) -> tuple[Transform, StyleMeta]:
    """A checkpoint as an image function; `mode` defaults to the mode the style was trained for.

    video: the images are consecutive frames, so face mode may track faces from one to the next.
    """
    stylizer = Stylizer(model=str(path), mode=mode, backend="torch", device="cpu")

    def apply(image: np.ndarray) -> np.ndarray:
        if not video:
            stylizer.reset()  # unrelated images: nothing tracked from one to the next
        return stylizer.stylize(image)

    return apply, stylizer.meta


def video_frames(path: str | os.PathLike, max_frames: int | None = None) -> Iterator[np.ndarray]:
    """A video's frames as upright RGB uint8, in order (InputError for a missing or unreadable file)."""
    with VideoReader(path) as reader:
        for packet in islice(reader, max_frames):
            yield packet.image
