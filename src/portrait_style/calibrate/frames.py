"""The frames calibrate measures: the user's (`--frames` folder, image or video), else synthetic portraits.

Synthetic frames are portrait-like on purpose: smooth backdrop, a shaded face with eyes and mouth, hair,
shoulders and a little sensor noise. A style's activations on them are in the range of real ones (random
noise would drive a generator far outside what it was trained on and test the wrong thing).
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from portrait_style.engine.style_meta import SIZE_MULTIPLE
from portrait_style.errors import InputError


def synthetic_portraits(n: int, width: int, height: int, seed: int = 0) -> list[np.ndarray]:
    """`n` H x W x 3 uint8 RGB frames, each a different sitter, light and backdrop."""
    rng = np.random.default_rng(seed)
    frames = []
    for _ in range(n):
        t = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
        top, bottom = rng.uniform(90, 220, 3), rng.uniform(20, 120, 3)
        image = np.broadcast_to(top * (1 - t) + bottom * t, (height, width, 3)).astype(np.float32).copy()
        side = min(width, height)
        cx = int(width * (0.5 + rng.uniform(-0.08, 0.08)))
        cy = int(height * (0.45 + rng.uniform(-0.04, 0.04)))
        red = rng.uniform(120, 235)
        skin = red * np.array([1.0, rng.uniform(0.68, 0.8), rng.uniform(0.5, 0.66)])
        hair = rng.uniform(10, 90) * np.array([1.0, 0.8, 0.6])
        shirt = rng.uniform(30, 230, 3)

        def ellipse(centre, axes, colour, canvas=image):
            centre, axes = (int(centre[0]), int(centre[1])), (max(1, int(axes[0])), max(1, int(axes[1])))
            cv2.ellipse(canvas, centre, axes, 0, 0, 360, tuple(float(c) for c in colour), -1, cv2.LINE_AA)

        fw, fh = 0.16 * side, 0.22 * side  # face half-axes
        ellipse((cx, cy + 0.62 * side), (0.42 * side, 0.3 * side), shirt)  # shoulders
        ellipse((cx, cy + 0.25 * side), (0.07 * side, 0.12 * side), skin * 0.85)  # neck
        ellipse((cx, cy - 0.05 * side), (fw * 1.15, fh * 1.05), hair)  # hair behind the face
        ellipse((cx, cy), (fw, fh), skin)
        for dx in (-0.4, 0.4):  # eyes: white, iris, and a brow
            ellipse((cx + dx * fw, cy - 0.15 * fh), (0.18 * fw, 0.08 * fh), (235, 232, 225))
            ellipse((cx + dx * fw, cy - 0.15 * fh), (0.07 * fw, 0.07 * fh), hair * 0.6)
            ellipse((cx + dx * fw, cy - 0.33 * fh), (0.22 * fw, 0.03 * fh), hair)
        ellipse((cx, cy + 0.5 * fh), (0.3 * fw, 0.07 * fh), skin * np.array([0.8, 0.45, 0.45]))  # mouth
        # key light from one side: a soft horizontal shading across the whole picture
        light = np.linspace(rng.uniform(0.75, 0.95), rng.uniform(1.0, 1.15), width, dtype=np.float32)
        image *= light[None, :, None] if rng.random() < 0.5 else light[None, ::-1, None]
        image = cv2.GaussianBlur(image, (0, 0), max(0.6, side / 600))
        image += rng.normal(0.0, 2.0, image.shape).astype(np.float32)  # sensor noise
        frames.append(np.clip(image, 0, 255).astype(np.uint8))
    return frames


def load_frames(path: str | os.PathLike, count: int) -> list[np.ndarray]:
    """Up to `count` frames, evenly spaced: from a folder of images, one image, or a video."""
    from portrait_style.engine.image_io import is_image_path, list_images, read_image

    path = Path(path)
    if not path.exists():
        raise InputError(f"--frames: not found: {path}")
    if path.is_dir():
        images = list_images(path)
        if not images:
            raise InputError(f"--frames: no images in {path}")
        return [read_image(p) for p in _spread(images, count)]
    if is_image_path(path):
        return [read_image(path)]
    from portrait_style.engine.video_io import VideoReader

    reader = VideoReader(path)  # one-line InputErrors for what is not a readable video
    step = max(1, (reader.frame_count or count) // count)
    frames = []
    for packet in reader:
        if packet.index % step == 0:
            frames.append(packet.image)
            if len(frames) == count:
                break
    return frames


def _spread(items: list, count: int) -> list:
    if len(items) <= count:
        return items
    picks = np.linspace(0, len(items) - 1, count).round().astype(int)
    return [items[i] for i in dict.fromkeys(picks)]


def check_inputs(frames: list[np.ndarray], mode: str, crop_size: int, side: int) -> list[np.ndarray]:
    """The frames the precision check feeds a model, one at a time: frame mode, each brought down to
    `side` (shorter side) and cut to multiples of SIZE_MULTIPLE; face mode, its centre square at the crop
    size."""
    out = []
    for frame in frames:
        h, w = frame.shape[:2]
        if mode == "face":
            s = min(h, w)
            y, x = (h - s) // 2, (w - s) // 2
            square = frame[y : y + s, x : x + s]
            out.append(cv2.resize(square, (crop_size, crop_size), interpolation=cv2.INTER_AREA))
            continue
        if min(h, w) > side:
            scale = side / min(h, w)
            frame = cv2.resize(frame, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
            h, w = frame.shape[:2]
        if h < SIZE_MULTIPLE or w < SIZE_MULTIPLE:
            raise InputError(f"--frames: a frame of {w}x{h} pixels is too small to measure")
        out.append(np.ascontiguousarray(frame[: h - h % SIZE_MULTIPLE, : w - w % SIZE_MULTIPLE]))
    return out
