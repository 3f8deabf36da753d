"""The One-Euro filter (Casiez, Roussel & Vogel, CHI 2012) over arrays of coordinates.

A low-pass filter whose cutoff rises with speed: a still face is smoothed hard (no jitter), a moving
one lightly (little lag). Each element of the array is filtered on its own, with its own speed.
"""

from __future__ import annotations

import math

import numpy as np


def _alpha(cutoff: np.ndarray | float, dt: float) -> np.ndarray | float:
    """Smoothing factor of an exponential filter with this cutoff (Hz) sampled every dt seconds."""
    tau = 1.0 / (2.0 * math.pi * cutoff)
    return 1.0 / (1.0 + tau / dt)


class OneEuroFilter:
    """Filter a stream of equally shaped arrays. Time is in seconds (or frames: then cutoffs are per frame).

    min_cutoff: cutoff (Hz) when still: lower = steadier. beta: how fast the cutoff grows with speed
    (units of the signal per second): higher = less lag. d_cutoff: cutoff for the speed estimate.
    """

    def __init__(self, min_cutoff: float = 1.0, beta: float | np.ndarray = 0.05, d_cutoff: float = 1.0):
        """beta: one for every element, or an array of the signal's shape (each element its own)."""
        if min_cutoff <= 0 or d_cutoff <= 0 or np.any(np.asarray(beta) < 0):
            raise ValueError("One-Euro filter needs min_cutoff > 0, d_cutoff > 0 and beta >= 0")
        self.min_cutoff, self.beta, self.d_cutoff = min_cutoff, beta, d_cutoff
        self.reset()

    def reset(self) -> None:
        self._value: np.ndarray | None = None
        self._speed: np.ndarray | None = None
        self._time: float | None = None

    def __call__(self, value: np.ndarray, t: float) -> np.ndarray:
        """The filtered value at time t (after the previous call's t; an equal t repeats the last output)."""
        value = np.asarray(value, np.float64)
        if self._value is None or self._value.shape != value.shape:
            self._value, self._speed, self._time = value.copy(), np.zeros_like(value), t
            return value.copy()
        dt = t - self._time
        if dt <= 0:
            return self._value.copy()
        speed = (value - self._value) / dt
        self._speed = self._speed + _alpha(self.d_cutoff, dt) * (speed - self._speed)
        cutoff = self.min_cutoff + self.beta * np.abs(self._speed)
        self._value = self._value + _alpha(cutoff, dt) * (value - self._value)
        self._time = t
        return self._value.copy()
