"""Deterministic photographic "looks": known styles with an exact ground truth for benchmarks.

A learned style can only be scored against a target if the target exists. Applying one of these looks
to a held-out portrait gives that target exactly, so "did the GAN learn the style?" becomes a PSNR/SSIM
question. Each look has a global colour part (tone curve, toning, white balance) and a spatially varying
part (vignette, glow, light falloff), so a per-pixel colour map such as Reinhard transfer or histogram
matching cannot reproduce it and a convolutional generator has to learn where it is in the frame.

Every look is a pure function `look(image, faces=None)`: RGB uint8 (H, W, 3) -> RGB uint8 (H, W, 3),
same shape, no randomness. Spatial parts are defined in coordinates relative to the frame so a look means
the same at any size. `faces` is the (MAX_FACES, 4) table of `engine.faces.geometry.face_table` (rows
cx, cy in -1..1 frame coordinates, size = box height / frame height, valid 0/1); only the looks named
in `FACE_LOOKS` read it, the others ignore it, and a face look without faces is still defined.

The looks, and what each asks of a learned model:
- teal-orange-film, faded-warm: a fixed colour grade plus a fixed frame-position part (vignette,
  glow, off-centre light falloff).
- auto-levels: per-image adaptation. Each channel is stretched from the image's own 1st/99th
  percentiles to a fixed range before a fixed warm grade, so the same photo at two exposures (or two
  white balances) comes out nearly the same: a fixed per-pixel map cannot do that.
- local-contrast: "clarity", a local-contrast boost of luminance relative to a blur over a few
  percent of the frame diagonal, plus a mild cool grade: needs local context.
- face-light: a soft warm key light placed relative to each face (above and to the frame's left of
  it, sized by the face) and a darker backdrop away from faces, plus a mild warm grade: needs to know
  where the faces are.
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


def teal_orange_film(image: np.ndarray, faces: np.ndarray | None = None) -> np.ndarray:
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


def faded_warm(image: np.ndarray, faces: np.ndarray | None = None) -> np.ndarray:
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


def _blur(x: np.ndarray, sigma: float) -> np.ndarray:
    return cv2.GaussianBlur(x, (0, 0), sigmaX=sigma, sigmaY=sigma, borderType=cv2.BORDER_REFLECT)


def auto_levels(image: np.ndarray, faces: np.ndarray | None = None) -> np.ndarray:
    """Per-channel levels stretch of the image's own 1st/99th percentiles to 0.1..0.9, then a fixed warm
    grade (per-channel gamma, an S-curve, warm split toning).

    The stretch is affine per channel, so a gain or offset of the input (another exposure, another
    white balance in gamma-encoded values) is undone before the grade, up to clipping and rounding.
    The output range is a soft matte (blacks at 26/255, whites at 230/255 before the grade), which keeps
    the stretch from amplifying noise much.
    """
    x = _check(image)
    pixels = x.reshape(-1, 3)
    lo = np.percentile(pixels, 1.0, axis=0).astype(np.float32)
    hi = np.percentile(pixels, 99.0, axis=0).astype(np.float32)
    # A (nearly) flat channel has no range to stretch: widen it around its middle, so the gain stays
    # bounded (at most 0.8 / 0.08 = 10x) and a flat image maps to mid-grey before the grade.
    mid, span = (lo + hi) / 2.0, np.maximum(hi - lo, 0.08)
    x = np.clip(0.5 + (x - mid) / span * 0.8, 0.0, 1.0)  # 1st..99th percentiles -> 0.1..0.9
    # Warm grade: red lifted and blue lowered by per-channel gamma, an S-curve, warm split toning.
    x = x ** np.array([0.75, 0.95, 1.45], np.float32)
    x = 0.7 * x + 0.3 * (x * x * (3.0 - 2.0 * x))
    lum = _luma(x)[..., None]
    x = (
        x
        + (1.0 - lum) ** 2 * np.array([0.02, -0.01, -0.05], np.float32)
        + lum**2 * np.array([0.05, 0.02, -0.03], np.float32)
    )
    return _to_uint8(x)


def local_contrast(image: np.ndarray, faces: np.ndarray | None = None) -> np.ndarray:
    """Clarity: mid-frequency local contrast of luminance boosted, plus a mild cool, desaturated grade.

    Luminance gets k (blur(L, 0.5 % of the frame diagonal) - blur(L, 2.5 %)) added, k = 0.9: detail
    between those scales (facial features, hair strands, edges) is pushed away from its local mean,
    while the finest texture and noise are not sharpened, as a photo editor's "clarity" does.
    """
    x = _check(image)
    diagonal = float(np.hypot(*x.shape[:2]))
    lum = _luma(x)
    detail = _blur(lum, 0.005 * diagonal) - _blur(lum, 0.025 * diagonal)
    x = x + 0.9 * detail[..., None]  # added to every channel alike: contrast, not colour
    lum = _luma(x)[..., None]
    x = lum + 0.8 * (x - lum)  # 20 % desaturation
    x = x * np.array([0.94, 1.0, 1.06], np.float32) + np.array([0.0, 0.01, 0.03], np.float32)
    return _to_uint8(x)


def _valid_faces(faces: np.ndarray | None) -> np.ndarray:
    """The valid rows of a face table as (N, 3) float32 cx, cy, size (N may be 0)."""
    if faces is None:
        return np.zeros((0, 3), np.float32)
    table = np.asarray(faces, np.float32)
    if table.ndim != 2 or table.shape[1] != 4:
        raise ValueError(f"faces must be a (N, 4) table of cx, cy, size, valid; got shape {table.shape}")
    return table[table[:, 3] > 0.5, :3]


def face_light(image: np.ndarray, faces: np.ndarray | None = None) -> np.ndarray:
    """Light that follows the face: the frame dimmed, the backdrop away from faces dimmed more, a soft
    warm key light on each face from the upper left (of the frame), a mild warm grade.

    Per face (centre c, height s as a fraction of the frame height H), the key light is a Gaussian of
    sigma 0.4 s H centred 0.45 s H to the frame's left of c and 0.25 s H above it; "near a face" is a
    Gaussian of sigma s H around c. Without faces the whole frame is backdrop: only the grade and the
    dimming are left.
    """
    x = _check(image)
    h, w = x.shape[:2]
    x = x * np.array([1.05, 1.0, 0.9], np.float32)  # warm white balance
    x = 0.85 * x + 0.15 * (x * x * (3.0 - 2.0 * x))  # a touch of contrast
    ys = np.arange(h, dtype=np.float32)[:, None] + 0.5
    xs = np.arange(w, dtype=np.float32)[None, :] + 0.5
    light = np.zeros((h, w), np.float32)
    near = np.zeros((h, w), np.float32)
    for cx, cy, size in _valid_faces(faces):
        px, py, s = (cx + 1.0) * w / 2.0, (cy + 1.0) * h / 2.0, max(float(size), 1e-3) * h
        kx, ky = px - 0.45 * s, py - 0.25 * s
        light = np.maximum(light, np.exp(-((xs - kx) ** 2 + (ys - ky) ** 2) / (2.0 * (0.4 * s) ** 2)))
        near = np.maximum(near, np.exp(-((xs - px) ** 2 + (ys - py) ** 2) / (2.0 * s**2)))
    # Dimming: 15 % everywhere, up to 35 % on the backdrop away from faces.
    x = x * (0.85 - 0.2 * (1.0 - near))[..., None]
    # Key light, warmer than the frame: a gain of up to 2.3 (red) that rolls off towards white, so
    # x = 1 stays 1 and nothing clips hard.
    gain = 1.3 * light[..., None] * np.array([1.0, 0.85, 0.6], np.float32)
    x = x * (1.0 + gain) / (1.0 + gain * x)
    return _to_uint8(x)


Look = Callable[..., np.ndarray]  # look(image, faces=None) -> image

LOOKS: dict[str, Look] = {
    "teal-orange-film": teal_orange_film,
    "faded-warm": faded_warm,
    "auto-levels": auto_levels,
    "local-contrast": local_contrast,
    "face-light": face_light,
}
FACE_LOOKS = frozenset({"face-light"})  # the looks that read `faces`


def get_look(name: str) -> Look:
    try:
        return LOOKS[name]
    except KeyError:
        raise ValueError(f"unknown look '{name}'; known: {', '.join(LOOKS)}") from None
