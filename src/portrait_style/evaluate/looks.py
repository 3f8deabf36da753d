"""Deterministic photographic "looks": known styles with an exact ground truth for benchmarks.

A learned style can only be scored against a target if the target exists. Applying one of these looks
to a held-out portrait gives that target exactly, so "did the GAN learn the style?" becomes a PSNR/SSIM
question. Each look has a global colour part (tone curve, toning, white balance) and a spatially varying
part (vignette, glow, light falloff), so a per-pixel colour map such as Reinhard transfer or histogram
matching cannot reproduce it and a convolutional generator has to learn where it is in the frame.

Every look is a pure function: RGB uint8 (H, W, 3) -> RGB uint8 (H, W, 3), same shape, no randomness.
Spatial parts are defined in coordinates relative to the frame so a look means the same at any size.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

# Rec. 709 luma weights, applied to the gamma-encoded values (the way colour graders' luma works).
_LUMA = np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)


def _check(image: np.ndarray) -> np.ndarray:
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"a look takes an RGB uint8 (H, W, 3) image, got {image.dtype} {image.shape}")
    return image.astype(np.float32) / 255.0


def _to_uint8(x: np.ndarray) -> np.ndarray:
    return (np.clip(x, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def _luma(x: np.ndarray) -> np.ndarray:
    return x @ _LUMA


def _smoothstep(edge0: float, edge1: float, x: np.ndarray) -> np.ndarray:
    t = np.clip((x - edge0) / (edge1 - edge0), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def _radius(height: int, width: int, cx: float = 0.5, cy: float = 0.5) -> np.ndarray:
    """Distance from (cx, cy), given as fractions of the frame; a centred frame's corners are at 1."""
    y = (np.arange(height, dtype=np.float32) + 0.5) / height - cy
    x = (np.arange(width, dtype=np.float32) + 0.5) / width - cx
    return np.sqrt(x[None, :] ** 2 + y[:, None] ** 2) / np.sqrt(0.5)


def teal_orange_film(image: np.ndarray) -> np.ndarray:
    """Film S-curve, shadows pushed teal and highlights orange, soft highlight glow, dark vignette."""
    x = _check(image)
    h, w = x.shape[:2]
    # Tone: blend towards smoothstep for an S-curve (more contrast in the mids, soft toe and shoulder).
    x = 0.45 * x + 0.55 * (x * x * (3.0 - 2.0 * x))
    # Split toning, weighted by luma so mid-greys are touched least.
    lum = _luma(x)[..., None]
    shadows = (1.0 - lum) ** 2
    highlights = lum**2
    x = (
        x
        + shadows * np.array([-0.07, 0.02, 0.06], np.float32)
        + highlights * np.array([0.08, 0.02, -0.07], np.float32)
    )
    x = np.clip(x, 0.0, 1.0)
    # Glow: blurred highlights screen-blended back; blur radius is a fraction of the frame diagonal.
    bright = x * _smoothstep(0.6, 1.0, _luma(x))[..., None]
    sigma = 0.02 * float(np.hypot(h, w))
    glow = cv2.GaussianBlur(bright, (0, 0), sigmaX=sigma, sigmaY=sigma, borderType=cv2.BORDER_REFLECT)
    x = 1.0 - (1.0 - x) * (1.0 - 0.35 * glow)
    # Vignette: untouched in the middle, up to 40 % darker in the corners.
    vignette = 1.0 - 0.4 * _smoothstep(0.35, 1.0, _radius(h, w))
    return _to_uint8(x * vignette[..., None])


def faded_warm(image: np.ndarray) -> np.ndarray:
    """Lifted blacks and dimmed whites, warm white balance, desaturation, off-centre radial light falloff."""
    x = _check(image)
    h, w = x.shape[:2]
    x = 0.07 + 0.86 * x  # fade: blacks lifted to ~18/255, whites pulled down to ~237/255
    x = x * np.array([1.07, 1.0, 0.86], np.float32)  # warm white balance
    lum = _luma(x)[..., None]
    x = lum + 0.7 * (x - lum)  # 30 % desaturation
    # A soft key light from the upper left: brighter there, falling off quadratically away from it.
    r = _radius(h, w, cx=0.38, cy=0.32)
    falloff = 1.1 - 0.45 * np.clip(r, 0.0, 1.2) ** 2
    return _to_uint8(x * falloff[..., None])


LOOKS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "teal-orange-film": teal_orange_film,
    "faded-warm": faded_warm,
}


def get_look(name: str) -> Callable[[np.ndarray], np.ndarray]:
    try:
        return LOOKS[name]
    except KeyError:
        raise ValueError(f"unknown look '{name}'; known: {', '.join(LOOKS)}") from None
