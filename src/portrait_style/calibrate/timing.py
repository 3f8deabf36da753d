"""Timing a call, and every available backend's model latency: the code `bench` and `calibrate` share."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np


def time_call(fn: Callable[[], object], runs: int, warmup: int = 5) -> dict:
    """Median and 95th percentile of `runs` timed calls (milliseconds), after `warmup` untimed ones."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    ms = np.array(samples) * 1000
    return {"median_ms": float(np.median(ms)), "p95_ms": float(np.percentile(ms, 95)), "runs": runs}


def time_budgeted(fn: Callable[[], object], runs: int, warmup: int, give_up_ms: float) -> dict:
    """`time_call`, except that a first call slower than `give_up_ms` is the only one made (and timed):
    a candidate that far from its frame budget is not worth the other runs."""
    start = time.perf_counter()
    fn()
    first_ms = (time.perf_counter() - start) * 1000
    if first_ms > give_up_ms:
        return {"median_ms": first_ms, "p95_ms": first_ms, "runs": 1}
    return time_call(fn, runs, max(0, warmup - 1))


def model_latency(style_path: Path, sizes: Sequence[int], runs: int) -> list[dict]:
    """Every available backend row in its default precision on a warm square batch of one, per size."""
    from portrait_style.engine.backends import BackendSpec, available_backends, load_backend

    rows = []
    rng = np.random.default_rng(0)
    for kind in available_backends():
        backend = load_backend(style_path, BackendSpec(kind.name, kind.device))
        for size in sizes:
            batch = rng.integers(0, 256, (1, size, size, 3), dtype=np.uint8)
            stats = time_call(lambda b=batch, run=backend: run(b), runs)
            rows.append(
                {
                    "backend": kind.name,
                    "device": kind.device,
                    "precision": backend.spec.precision,
                    "size": size,
                    **stats,
                }
            )
    return rows
