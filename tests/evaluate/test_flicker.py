import math

import cv2
import numpy as np
import pytest
from skimage import data

from portrait_style.evaluate.flicker import measure_flicker
from portrait_style.evaluate.looks import LOOKS


@pytest.fixture(scope="module")
def panning_video():
    """A smooth diagonal pan (1.5 px/frame, sub-pixel) across the astronaut, 10 frames of 160x192."""
    big = data.astronaut()
    frames = []
    for t in range(10):
        shift = np.float32([[1, 0, -1.5 * t], [0, 1, -0.75 * t]])
        frames.append(cv2.warpAffine(big, shift, (192, 160), flags=cv2.INTER_LINEAR))
    return frames


def _static_video(noise_sigma: float, n: int = 8):
    rng = np.random.default_rng(0)
    still = data.astronaut()[100:260, 100:292].astype(np.float32)
    return [
        np.clip(still + rng.normal(0, noise_sigma, still.shape), 0, 255).astype(np.uint8) for _ in range(n)
    ]


def _add_noise(frames, sigma, seed=1):
    rng = np.random.default_rng(seed)
    return [np.clip(f + rng.normal(0, sigma, f.shape), 0, 255).astype(np.uint8) for f in frames]


def test_unchanged_video_has_ratio_one(panning_video):
    result = measure_flicker(panning_video, panning_video)
    assert result.ratio == pytest.approx(1.0)
    assert result.pairs == len(panning_video) - 1
    assert 0.8 < result.valid_fraction <= 1.0  # pixels panning in from outside are masked out


def test_per_frame_noise_on_a_static_video_is_flicker():
    video = _static_video(noise_sigma=1.0)  # a camera's own sensor noise
    result = measure_flicker(video, _add_noise(video, sigma=5.0))
    assert result.ratio > 2.0


def test_noise_free_static_video_with_any_change_is_infinite_flicker():
    video = _static_video(noise_sigma=0.0)
    result = measure_flicker(video, _add_noise(video, sigma=3.0))
    assert result.input_error == 0.0 and math.isinf(result.ratio)


@pytest.mark.parametrize("name", sorted(LOOKS))
def test_fixed_per_pixel_look_of_a_pan_adds_little_flicker(name, panning_video):
    result = measure_flicker(panning_video, [LOOKS[name](f) for f in panning_video])
    # Not exactly 1: a look changes contrast (scaling errors) and its vignette stays put while content moves.
    assert 0.7 < result.ratio < 1.4
    noisy = measure_flicker(panning_video, _add_noise([LOOKS[name](f) for f in panning_video], 5.0))
    assert noisy.ratio > result.ratio + 1.0


def test_stylized_frames_of_another_size_are_compared_at_input_size(panning_video):
    half = [cv2.resize(f, (96, 80), interpolation=cv2.INTER_AREA) for f in panning_video]
    result = measure_flicker(panning_video, half)
    assert math.isfinite(result.ratio) and result.pairs == len(panning_video) - 1


def test_frame_count_mismatch_is_an_error(panning_video):
    with pytest.raises(ValueError, match="numbers of frames"):
        measure_flicker(panning_video, panning_video[:-1])


def test_single_frame_is_an_error(panning_video):
    with pytest.raises(ValueError, match="two frames"):
        measure_flicker(panning_video[:1], panning_video[:1])
