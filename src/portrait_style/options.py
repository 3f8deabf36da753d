"""The vocabulary of every option, defined once, and the range checks every entry point shares.

Command-line parsers take their `choices` from here, `Stylizer` and the trainer check their arguments
with the same functions, so a mode, detector, preset or audio policy is spelled the same way
everywhere and an out-of-range value is refused before any work starts, in one line that names the
option and what it allows.
"""

from __future__ import annotations

import math

import numpy as np

from portrait_style.errors import PortraitStyleError

MODES = ("face", "frame")  # stylize aligned face crops, or whole frames
DETECTORS = ("auto", "mtcnn", "yunet", "haar")  # every name make_detector knows; see available_detectors()
X264_PRESETS = (
    "ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow", "placebo",
)  # fmt: skip
AUDIO_POLICIES = ("auto", "copy", "aac")  # see engine.video_io.audio_plan
CRF_RANGE = (0, 51)  # libx264/libx265 at 8 bits


class OptionError(PortraitStyleError):
    """An option value outside what it allows. Exit code 2, like argparse's own usage errors."""

    exit_code = 2


def haar_available() -> bool:
    """OpenCV 5 wheels dropped the cascade classifier and its data files."""
    import cv2

    folder = getattr(getattr(cv2, "data", None), "haarcascades", "")
    return hasattr(cv2, "CascadeClassifier") and bool(folder)


def available_detectors() -> tuple[str, ...]:
    """The detector names this installation can run (no "haar" on OpenCV 5)."""
    return tuple(name for name in DETECTORS if name != "haar" or haar_available())


def check_choice(option: str, value: str, allowed: tuple[str, ...] | list[str]) -> str:
    if value not in allowed:
        raise OptionError(f"{option} must be one of {', '.join(allowed)}; got {value!r}")
    return value


def check_int(option: str, value, lo: int | None = None, hi: int | None = None) -> int:
    """`value` as an int within [lo, hi] (either bound may be None), else an OptionError naming `option`."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise OptionError(f"{option} must be a whole number{_range(lo, hi)}; got {value!r}")
    value = int(value)
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise OptionError(f"{option} must be{_range(lo, hi)}; got {value}")
    return value


def check_float(option: str, value, lo: float | None = None, hi: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise OptionError(f"{option} must be a number{_range(lo, hi)}; got {value!r}")
    value = float(value)
    if not math.isfinite(value) or (lo is not None and value < lo) or (hi is not None and value > hi):
        raise OptionError(f"{option} must be{_range(lo, hi)}; got {value}")
    return value


def _range(lo, hi) -> str:
    if lo is not None and hi is not None:
        return f" from {lo} to {hi}"
    if lo is not None:
        return f" {lo} or more"
    if hi is not None:
        return f" {hi} or less"
    return ""


def check_face_config(cfg, prefix: str = "") -> None:
    """Every FaceConfig field in range; `prefix` names the fields as the caller knows them."""
    check_choice(f"{prefix}detector", cfg.detector, DETECTORS)
    check_int(f"{prefix}max_faces", cfg.max_faces, 1, 64)
    check_int(f"{prefix}detect_every", cfg.detect_every, 1, 10_000)
    check_int(f"{prefix}search_every", cfg.search_every, 1, 10_000)
    check_int(f"{prefix}min_face_size", cfg.min_face_size, 12, 100_000)
    check_float(f"{prefix}min_face_fraction", cfg.min_face_fraction, 0.0, 1.0)
    check_int(f"{prefix}crop_size", cfg.crop_size, 16, 4096)
    check_float(f"{prefix}score_threshold", cfg.score_threshold, 0.0, 1.0)
    check_float(f"{prefix}confirm_score", cfg.confirm_score, 0.0, 1.0)
    check_int(f"{prefix}confirm_frames", cfg.confirm_frames, 0, 10_000)
    check_float(f"{prefix}crop_scale", cfg.crop_scale, 1.0, 4.0)
    check_float(f"{prefix}light_min_cutoff", cfg.light_min_cutoff, 1e-3, 100.0)
    check_float(f"{prefix}light_beta", cfg.light_beta, 0.0, 1e3)
    check_float(f"{prefix}light_size_beta", cfg.light_size_beta, 0.0, 1e3)
    check_float(f"{prefix}light_hold_s", cfg.light_hold_s, 0.0, 3600.0)
    check_float(f"{prefix}light_fade_s", cfg.light_fade_s, 0.0, 60.0)
    if not isinstance(cfg.light_rest, (tuple, list)) or len(cfg.light_rest) != 3:
        raise OptionError(f"{prefix}light_rest must be (cx, cy, size); got {cfg.light_rest!r}")
    for name, value, lo, hi in zip(("cx", "cy", "size"), cfg.light_rest, (-1, -1, 0), (1, 1, 2), strict=True):
        check_float(f"{prefix}light_rest {name}", value, lo, hi)
    check_float(f"{prefix}cut_min_change", cfg.cut_min_change, 0.0, 255.0)
    check_float(f"{prefix}cut_ratio", cfg.cut_ratio, 1.0, 1e3)
    check_int(f"{prefix}cut_window", cfg.cut_window, 1, 10_000)
    check_int(f"{prefix}cut_min_shot", cfg.cut_min_shot, 1, 1_000_000)
    check_float(f"{prefix}feather", cfg.feather, 0.0, 0.5)


def check_encode_config(cfg, prefix: str = "") -> None:
    if cfg.codec in ("libx264", "libx265"):
        check_int(f"{prefix}crf", cfg.crf, *CRF_RANGE)
        check_choice(f"{prefix}preset", cfg.preset, X264_PRESETS)
    check_choice(f"{prefix}audio", cfg.audio, AUDIO_POLICIES)
    check_int(f"{prefix}audio_bitrate", cfg.audio_bitrate, 32_000, 512_000)


def check_frame(image) -> np.ndarray:
    """An H x W x 3 uint8 RGB frame with at least one pixel, else a ValueError that says what it got."""
    if not isinstance(image, np.ndarray):
        raise ValueError(f"expected an HxWx3 uint8 RGB numpy array, got {type(image).__name__}")
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected an HxWx3 uint8 RGB frame, got {image.dtype} array of shape {image.shape}")
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise ValueError(f"empty frame ({image.shape[1]}x{image.shape[0]} pixels)")
    return image


def check_frame_size(frame_size, mode: str, option: str = "frame_size", hint: str = "") -> None:
    """frame_size is frame mode's working size: 0 or more, and meaningless in face mode."""
    if frame_size is None:
        return
    check_int(option, frame_size, 0)
    if mode == "face":
        raise OptionError(f"{option} only applies to frame mode, and this runs in face mode{hint}")
