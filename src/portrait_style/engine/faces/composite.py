"""Aligned crops out of a frame, and styled crops back into it without a visible seam.

Paste-back adds each crop's styled change (styled - original crop) back through a feathered ellipse,
so detail finer than the crop's resolution survives. Before blending, a low-frequency colour
correction pulls the styled crop toward the frame's colours: fully across the blend band, so the
frame's colours continue under the band and no edge appears, fading to nothing towards the face centre,
where the style must survive. Only pixels under a face's ellipse change; the rest stay bit-identical.
"""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np

from portrait_style.config import FaceConfig
from portrait_style.engine.faces.align import face_transform, warp_crop
from portrait_style.engine.frame import Face

# The blend ellipse, in crop-side units: centred on the crop (= face centre), a head is taller than wide
_SEMI_AXES = (0.44, 0.48)
_CORRECTION_FADE = 0.5  # colour correction fades out over this many band widths inside the band
_LOW_RES = 8  # the colour correction is computed at 1/8 of the crop side: it is low-frequency anyway


def crop_faces(image: np.ndarray, faces: list[Face], cfg: FaceConfig):
    """(N x S x S x 3 uint8 aligned crops, N 2x3 float32 frame->crop transforms), S = cfg.crop_size."""
    transforms = [face_transform(face, cfg.crop_size, cfg.crop_scale) for face in faces]
    crops = np.empty((len(faces), cfg.crop_size, cfg.crop_size, 3), np.uint8)
    for k, transform in enumerate(transforms):
        crops[k] = warp_crop(image, transform, cfg.crop_size)
    return crops, transforms


def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


@lru_cache(maxsize=8)
def blend_masks(crop_size: int, feather: float) -> tuple[np.ndarray, np.ndarray]:
    """(alpha, correction) S x S float32 in crop space: blend weight of the styled crop, and how much of
    the frame-vs-crop colour difference to add to it. Both depend on the distance to the ellipse's edge."""
    inside = np.zeros((crop_size, crop_size), np.uint8)
    centre = (crop_size / 2 - 0.5, crop_size / 2 - 0.5)
    axes = (_SEMI_AXES[0] * crop_size, _SEMI_AXES[1] * crop_size)
    # drawn at 1/16 pixel precision so the ellipse stays centred for any crop size
    shift = 4
    cv2.ellipse(
        inside,
        (round(centre[0] * 16), round(centre[1] * 16)),
        (round(axes[0] * 16), round(axes[1] * 16)),
        0,
        0,
        360,
        255,
        -1,
        cv2.LINE_8,
        shift,
    )
    distance = cv2.distanceTransform(inside, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    band = max(feather * crop_size, 1.0)
    alpha = _smoothstep(distance / band).astype(np.float32)
    correction = 1.0 - _smoothstep((distance - band) / (_CORRECTION_FADE * band))
    alpha.setflags(write=False)
    correction = correction.astype(np.float32)
    correction.setflags(write=False)
    return alpha, correction


def _colour_matched(styled: np.ndarray, original: np.ndarray, correction: np.ndarray, band: float):
    """styled + correction x (low-pass of original - styled), float32."""
    side = styled.shape[0]
    small = max(side // _LOW_RES, 4)
    difference = cv2.resize(original, (small, small), interpolation=cv2.INTER_AREA).astype(np.float32)
    difference -= cv2.resize(styled, (small, small), interpolation=cv2.INTER_AREA).astype(np.float32)
    sigma = max(0.5 * band * small / side, 0.5)
    difference = cv2.GaussianBlur(difference, (0, 0), sigma, borderType=cv2.BORDER_REPLICATE)
    difference = cv2.resize(difference, (side, side), interpolation=cv2.INTER_LINEAR)
    return styled.astype(np.float32) + correction[..., None] * difference


def _frame_rect(crop_to_frame: np.ndarray, side: int, width: int, height: int):
    """Integer frame rectangle (x0, y0, x1, y1) covering the crop square, clipped to the frame."""
    corners = np.array([[0, 0], [side, 0], [0, side], [side, side]], np.float64)
    mapped = corners @ crop_to_frame[:, :2].T + crop_to_frame[:, 2]
    x0, y0 = np.floor(mapped.min(axis=0)).astype(int) - 1
    x1, y1 = np.ceil(mapped.max(axis=0)).astype(int) + 2
    return max(x0, 0), max(y0, 0), min(x1, width), min(y1, height)


def paste_back(frame: np.ndarray, styled_crops, transforms: list[np.ndarray], cfg: FaceConfig) -> np.ndarray:
    """A new frame with each styled crop (S' x S' x 3 uint8, any S') blended back where it came from.

    transforms: the frame->crop transforms the crops were cut with (for cfg.crop_size crops).
    """
    out = frame.copy()
    height, width = frame.shape[:2]
    for styled, transform in zip(styled_crops, transforms, strict=True):
        side = styled.shape[0]
        # crops of another size than the ones cut (e.g. a generator that upsamples): rescale the transform
        to_crop = np.asarray(transform, np.float64) * (side / cfg.crop_size)
        alpha, correction = blend_masks(side, float(cfg.feather))
        original = cv2.warpAffine(out, to_crop, (side, side), borderMode=cv2.BORDER_REFLECT_101)
        if cfg.color_match:
            styled = _colour_matched(styled, original, correction, cfg.feather * side)
        # Paste back what the style changed, not the crop itself: the frame keeps the detail that the
        # round trip through the crop's resolution would blur away (faces larger than the crop).
        change = np.asarray(styled, np.float32) - original.astype(np.float32)
        to_frame = cv2.invertAffineTransform(to_crop)
        x0, y0, x1, y1 = _frame_rect(to_frame, side, width, height)
        if x1 <= x0 or y1 <= y0:
            continue  # the face lies wholly outside the frame
        to_roi = to_frame - np.array([[0, 0, x0], [0, 0, y0]], np.float64)
        size = (x1 - x0, y1 - y0)
        weight = cv2.warpAffine(alpha, to_roi, size, flags=cv2.INTER_LINEAR, borderValue=0)
        change = cv2.warpAffine(change, to_roi, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        region = out[y0:y1, x0:x1]
        # Where the weight is 0 this adds exactly 0, so those pixels come back bit-identical.
        blended = region + weight[..., None] * change
        region[...] = np.clip(np.rint(blended, out=blended), 0, 255, out=blended)
    return out
