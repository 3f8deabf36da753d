"""Temporal flicker of a stylized video, as a warping error relative to the input's own.

For each pair of consecutive frames, optical flow is computed on the INPUT frames (the stylization
must not be allowed to choose its own motion). Stylized frame t-1 is warped to t along that flow and
compared with stylized frame t: the mean absolute difference over pixels that are visible in both
frames is the warping error (Lai et al. 2018, "Learning Blind Video Temporal Consistency"). Occluded
pixels are found by forward-backward flow consistency (Sundaram et al. 2010) and left out, as are
pixels whose source lies outside the frame.

The same error for the input frames measures what the flow cannot explain anyway (noise, lighting,
interpolation). The ratio stylized / input is the figure reported: 1.0 means no flicker was added.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class FlickerResult:
    input_error: float  # mean warping error of the input frames, in 0..255 units
    stylized_error: float  # the same for the stylized frames
    ratio: float  # stylized_error / input_error
    pairs: int  # consecutive frame pairs measured
    valid_fraction: float  # mean share of pixels that passed the occlusion test

    def as_dict(self) -> dict:
        return asdict(self)


def _grey(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)


def _flow(dis: cv2.DISOpticalFlow, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Dense flow (H, W, 2) float32 such that src(x) ~ dst(x + flow(x))."""
    return dis.calc(src, dst, None)


def _remap(image: np.ndarray, grid_x: np.ndarray, grid_y: np.ndarray) -> np.ndarray:
    return cv2.remap(image, grid_x, grid_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def warp_and_mask(prev_grey: np.ndarray, cur_grey: np.ndarray, dis: cv2.DISOpticalFlow):
    """Sampling grid that pulls frame t-1 onto frame t, and the mask of pixels it is valid for."""
    h, w = cur_grey.shape
    back = _flow(dis, cur_grey, prev_grey)  # t -> t-1: where each pixel of t was in t-1
    fwd = _flow(dis, prev_grey, cur_grey)  # t-1 -> t
    xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    grid_x, grid_y = xs + back[..., 0], ys + back[..., 1]
    # Forward flow sampled where each pixel came from; for a visible pixel it undoes the backward flow.
    fwd_at_src = _remap(fwd, grid_x, grid_y)
    loop = back + fwd_at_src
    # Sundaram et al.'s consistency test: the round trip must be short relative to the motion.
    tol = 0.01 * ((back**2).sum(-1) + (fwd_at_src**2).sum(-1)) + 0.5
    valid = (loop**2).sum(-1) <= tol
    valid &= (grid_x >= 0) & (grid_x <= w - 1) & (grid_y >= 0) & (grid_y <= h - 1)
    return grid_x, grid_y, valid


def _masked_error(prev: np.ndarray, cur: np.ndarray, grid_x, grid_y, valid: np.ndarray) -> float:
    warped = _remap(prev.astype(np.float32), grid_x, grid_y)
    diff = np.abs(cur.astype(np.float32) - warped).mean(axis=-1)
    return float(diff[valid].mean()) if valid.any() else math.nan


def measure_flicker(inputs: Iterable[np.ndarray], stylized: Iterable[np.ndarray]) -> FlickerResult:
    """Warping-error flicker of `stylized` against the motion of `inputs`, both RGB uint8 frame streams.

    The streams are consumed together, one frame at a time; the stylized frames may have a different
    size from the inputs (they are resized to the input's size). Both must have the same frame count.
    """
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    in_errors, st_errors, fractions = [], [], []
    prev_in = prev_st = prev_grey = None
    in_iter, st_iter = iter(inputs), iter(stylized)
    sentinel = object()
    while True:
        frame, styled = next(in_iter, sentinel), next(st_iter, sentinel)
        if frame is sentinel or styled is sentinel:
            if frame is not styled:
                raise ValueError("the input and stylized videos have different numbers of frames")
            break
        if styled.shape[:2] != frame.shape[:2]:
            styled = cv2.resize(styled, (frame.shape[1], frame.shape[0]), interpolation=cv2.INTER_AREA)
        grey = _grey(frame)
        if prev_grey is not None:
            grid_x, grid_y, valid = warp_and_mask(prev_grey, grey, dis)
            if valid.any():
                in_errors.append(_masked_error(prev_in, frame, grid_x, grid_y, valid))
                st_errors.append(_masked_error(prev_st, styled, grid_x, grid_y, valid))
            fractions.append(float(valid.mean()))
        prev_in, prev_st, prev_grey = frame, styled, grey
    if not in_errors:
        raise ValueError("flicker needs at least two frames with some motion that can be followed")
    in_err, st_err = float(np.mean(in_errors)), float(np.mean(st_errors))
    if in_err > 0:
        ratio = st_err / in_err
    else:  # a perfectly static, noise-free input: any stylized change at all is flicker
        ratio = math.inf if st_err > 0 else 1.0
    return FlickerResult(in_err, st_err, ratio, len(in_errors), float(np.mean(fractions)))
