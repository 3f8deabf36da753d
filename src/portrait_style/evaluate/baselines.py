"""Classical colour-transfer baselines a learned style must beat.

Each baseline is "fitted" once on the style set (the B-domain images) and then applied to any number of
inputs, like a trained model. They are global per-pixel colour maps, so they can match a look's tones
but never its spatially varying part (vignette, glow, light falloff).

- identity: return the input (how far the inputs already are from the targets).
- reinhard: Reinhard et al. 2001 colour transfer in CIE Lab: shift and scale each channel of the input
  from its own mean/std to the style set's pooled mean/std.
- histogram: per-channel histogram matching of each input to the style set's pooled pixels.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence

import numpy as np
from skimage.color import lab2rgb, rgb2lab
from skimage.exposure import match_histograms

Transform = Callable[[np.ndarray], np.ndarray]  # RGB uint8 (H, W, 3) -> RGB uint8 (H, W, 3)

# Pooled references are subsampled to this many pixels: plenty for a 256-bin histogram or two moments.
MAX_REFERENCE_PIXELS = 2_000_000


def _check_set(images: Sequence[np.ndarray]) -> None:
    if len(images) == 0:
        raise ValueError("a baseline needs at least one style image to fit on")
    for im in images:
        if im.dtype != np.uint8 or im.ndim != 3 or im.shape[2] != 3:
            raise ValueError(f"style images must be RGB uint8 (H, W, 3), got {im.dtype} {im.shape}")


def _pooled_pixels(images: Sequence[np.ndarray]) -> np.ndarray:
    """All pixels of all images as (N, 3) uint8, evenly subsampled if there are too many."""
    pixels = np.concatenate([im.reshape(-1, 3) for im in images])
    if len(pixels) > MAX_REFERENCE_PIXELS:
        step = int(np.ceil(len(pixels) / MAX_REFERENCE_PIXELS))
        pixels = pixels[::step]
    return pixels


def _to_uint8(rgb01: np.ndarray) -> np.ndarray:
    return (np.clip(rgb01, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def fit_identity(style_images: Sequence[np.ndarray]) -> Transform:
    return lambda image: image.copy()


def lab_stats(images: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Pooled per-channel mean and standard deviation in CIE Lab (D65) of a set of RGB uint8 images."""
    lab = rgb2lab(_pooled_pixels(images)[None])[0]
    return lab.mean(axis=0), lab.std(axis=0)


def fit_reinhard(style_images: Sequence[np.ndarray]) -> Transform:
    _check_set(style_images)
    target_mean, target_std = lab_stats(style_images)

    def apply(image: np.ndarray) -> np.ndarray:
        lab = rgb2lab(image)
        mean = lab.reshape(-1, 3).mean(axis=0)
        std = lab.reshape(-1, 3).std(axis=0)
        # A flat channel has no spread to scale; it is only shifted.
        scale = np.where(std > 1e-6, target_std / np.maximum(std, 1e-6), 1.0)
        out = (lab - mean) * scale + target_mean
        out[..., 0] = np.clip(out[..., 0], 0.0, 100.0)
        with warnings.catch_warnings():
            # Out-of-gamut Lab values are expected here; they are clipped to sRGB like any colour tool does.
            warnings.simplefilter("ignore", UserWarning)
            return _to_uint8(lab2rgb(out))

    return apply


def fit_histogram(style_images: Sequence[np.ndarray]) -> Transform:
    _check_set(style_images)
    reference = _pooled_pixels(style_images)[None]  # (1, N, 3): one "image" holding every style pixel

    def apply(image: np.ndarray) -> np.ndarray:
        out = match_histograms(image, reference, channel_axis=-1)
        return np.clip(np.round(out), 0, 255).astype(np.uint8)

    return apply


BASELINES: dict[str, Callable[[Sequence[np.ndarray]], Transform]] = {
    "identity": fit_identity,
    "reinhard": fit_reinhard,
    "histogram": fit_histogram,
}
