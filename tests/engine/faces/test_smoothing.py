"""One-Euro filter: steadies a still signal, follows a real move, and lags less as beta grows."""

from __future__ import annotations

import numpy as np
import pytest

from portrait_style.engine.faces.smoothing import OneEuroFilter

FPS = 30.0


def _run(filt: OneEuroFilter, values, fps: float = FPS) -> np.ndarray:
    return np.array([filt(v, k / fps) for k, v in enumerate(values)])


def test_noise_on_a_constant_is_reduced():
    rng = np.random.default_rng(0)
    noisy = 100.0 + rng.normal(0.0, 2.0, (300, 10))  # e.g. 5 landmarks jittering by 2 px
    out = _run(OneEuroFilter(min_cutoff=1.0, beta=0.05), noisy)[30:]
    assert out.std(axis=0).max() < 0.6 * noisy[30:].std(axis=0).min()
    # and frame-to-frame jumps, what makes crops shake, shrink even more
    assert np.abs(np.diff(out, axis=0)).mean() < 0.3 * np.abs(np.diff(noisy[30:], axis=0)).mean()
    assert abs(out.mean() - 100.0) < 0.5


def test_a_step_is_followed_without_overshoot():
    signal = np.r_[np.zeros(30), np.full(60, 100.0)]
    out = _run(OneEuroFilter(min_cutoff=1.0, beta=0.05), signal)
    assert out[:30].max() == 0.0
    assert out[30 + 15] > 95.0  # within half a second
    assert out.max() <= 100.0


def test_higher_beta_lags_less_on_a_moving_signal():
    ramp = np.arange(90) * 5.0  # 150 units per second
    lag_still = ramp[-1] - _run(OneEuroFilter(1.0, beta=0.0), ramp)[-1]
    lag_fast = ramp[-1] - _run(OneEuroFilter(1.0, beta=0.5), ramp)[-1]
    assert lag_fast < 0.5 * lag_still


def test_each_element_is_filtered_on_its_own():
    values = np.zeros((60, 2))
    values[30:, 1] = 50.0
    out = _run(OneEuroFilter(), values)
    assert np.all(out[:, 0] == 0.0) and out[-1, 1] > 49.0


def test_time_can_be_counted_in_frames():
    # with time in frames, a cutoff of 1/30 per frame smooths like 1 Hz at 30 fps
    signal = np.r_[np.zeros(5), np.full(40, 10.0)]
    in_frames = _run(OneEuroFilter(1 / FPS, beta=0.0), signal, fps=1.0)
    in_seconds = _run(OneEuroFilter(1.0, beta=0.0), signal)
    np.testing.assert_allclose(in_frames, in_seconds, rtol=1e-9)


def test_a_repeated_timestamp_repeats_the_last_output_and_reset_forgets():
    filt = OneEuroFilter()
    filt(np.array([0.0]), 0.0)
    moved = filt(np.array([10.0]), 1 / FPS)
    np.testing.assert_array_equal(filt(np.array([99.0]), 1 / FPS), moved)
    filt.reset()
    np.testing.assert_array_equal(filt(np.array([99.0]), 5.0), [99.0])


def test_invalid_parameters_are_refused():
    with pytest.raises(ValueError):
        OneEuroFilter(min_cutoff=0.0)
    with pytest.raises(ValueError):
        OneEuroFilter(beta=-1.0)
