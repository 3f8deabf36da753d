"""Data augmentation on uint8 images with numpy and OpenCV (no torchvision). Every function takes the
random generator explicitly, so a batch is a pure function of (seed, rank, step) and resuming is exact."""

from __future__ import annotations

import cv2
import numpy as np


def resize_square(image: np.ndarray, size: int) -> np.ndarray:
    if image.shape[0] == size and image.shape[1] == size:
        return np.ascontiguousarray(image)
    interp = cv2.INTER_AREA if image.shape[0] > size else cv2.INTER_CUBIC
    return cv2.resize(image, (size, size), interpolation=interp)


def jitter_crop(
    image: np.ndarray, size: int, rng: np.random.Generator, zoom: tuple = (0.95, 1.1)
) -> np.ndarray:
    """A square crop of side size * U(zoom) (capped by the image) at a random position, resized to size.

    On face crops (a little larger than the engine's framing) this is a small scale and position jitter
    around that framing; on frames it is CycleGAN's resize-then-random-crop.
    """
    h, w = image.shape[:2]
    side = min(h, w, max(1, round(size * rng.uniform(*zoom))))
    y = int(rng.integers(0, h - side + 1))
    x = int(rng.integers(0, w - side + 1))
    return resize_square(image[y : y + side, x : x + side], size)


def random_patch(
    image: np.ndarray, size: int, rng: np.random.Generator, smallest: float = 0.75
) -> np.ndarray:
    """Few-shot sampling: a square patch of log-uniform side between smallest * size and the whole
    shorter side, resized to size, so one exemplar yields its brush strokes at several scales."""
    h, w = image.shape[:2]
    hi = min(h, w)
    lo = min(hi, smallest * size)
    side = max(1, round(float(np.exp(rng.uniform(np.log(lo), np.log(hi))))))
    y = int(rng.integers(0, h - side + 1))
    x = int(rng.integers(0, w - side + 1))
    return resize_square(image[y : y + side, x : x + side], size)


def random_flip(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return np.ascontiguousarray(image[:, ::-1]) if rng.random() < 0.5 else image


def random_brightness(image: np.ndarray, rng: np.random.Generator, amount: float = 0.15) -> np.ndarray:
    """Exposure jitter for content photos: the generator should not care how bright the input was."""
    gain = rng.uniform(1.0 - amount, 1.0 + amount)
    return np.clip(image.astype(np.float32) * gain, 0, 255).astype(np.uint8)


def to_tensor_batch(images: list[np.ndarray]):
    """N x H x W x 3 uint8 -> float32 NCHW in [-1, 1] (the generator's training range)."""
    import torch

    batch = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).float()
    return batch.mul_(2.0 / 255.0).sub_(1.0).contiguous()
