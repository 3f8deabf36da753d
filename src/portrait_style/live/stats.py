"""What a live run measures at the sink: frame rate, capture-to-sink latency and dropped frames.

Latency is `time.monotonic()` when the sink has shown (or written) a frame minus the frame's `captured`
stamp. Live figures are over the last `window` frames; `summary()` covers the whole run.
"""

from __future__ import annotations

import time
from collections import deque

import numpy as np

_MAX_SAMPLES = 1_000_000  # a whole-run record stops growing here (about 9 hours at 30 fps)


class LiveStats:
    def __init__(self, window: int = 120):
        self._recent: deque[float] = deque(maxlen=window)  # latencies, seconds
        self._times: deque[float] = deque(maxlen=window)  # sink times
        self._all: list[float] = []
        self.frames = 0
        self.dropped_source = 0  # skipped by the camera (or the paced camera) before the pipeline
        self.dropped_pipeline = 0  # overwritten in the pipeline's one-frame mailboxes
        self.started: float | None = None
        self.ended: float | None = None

    def start(self, now: float | None = None) -> None:
        self.started = time.monotonic() if now is None else now

    def record(self, captured: float | None, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        if self.started is None:
            self.started = now
        self.ended = now
        self.frames += 1
        self._times.append(now)
        if captured is not None:
            latency = now - captured
            self._recent.append(latency)
            if len(self._all) < _MAX_SAMPLES:
                self._all.append(latency)

    @property
    def dropped(self) -> int:
        return self.dropped_source + self.dropped_pipeline

    @property
    def fps(self) -> float:
        """Frames per second reaching the sink, over the last frames."""
        if len(self._times) < 2 or self._times[-1] <= self._times[0]:
            return 0.0
        return (len(self._times) - 1) / (self._times[-1] - self._times[0])

    def latency_ms(self, whole_run: bool = False) -> tuple[float, float]:
        """(p50, p95) in milliseconds; (0, 0) before the first frame."""
        samples = self._all if whole_run else self._recent
        if not samples:
            return 0.0, 0.0
        p50, p95 = np.percentile(np.asarray(samples) * 1000.0, [50, 95])
        return float(p50), float(p95)

    def overlay_line(self) -> str:
        p50, p95 = self.latency_ms()
        return f"{self.fps:4.1f} fps  latency p50 {p50:3.0f} ms p95 {p95:3.0f} ms  dropped {self.dropped}"

    def summary(self) -> dict:
        seconds = (self.ended - self.started) if self.started is not None and self.ended is not None else 0.0
        p50, p95 = self.latency_ms(whole_run=True)
        return {
            "frames": self.frames,
            "seconds": round(seconds, 3),
            "fps": round((self.frames - 1) / seconds, 2) if seconds > 0 and self.frames > 1 else 0.0,
            "latency_ms": {"p50": round(p50, 1), "p95": round(p95, 1)},
            "dropped": {"camera": self.dropped_source, "pipeline": self.dropped_pipeline},
        }

    def summary_line(self) -> str:
        s = self.summary()
        lat, drop = s["latency_ms"], s["dropped"]
        return (
            f"live: {s['frames']} frames in {s['seconds']:.1f} s, {s['fps']:.1f} fps, capture->sink latency "
            f"p50 {lat['p50']:.0f} ms p95 {lat['p95']:.0f} ms, dropped {drop['camera']} at the camera "
            f"and {drop['pipeline']} in the pipeline"
        )
