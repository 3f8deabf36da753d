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
    """Every available backend row in its default precision on a warm square batch of one, per size.

    A row that cannot run (an engine's profile refusing a size, a missing kernel) does not end the bench:
    its sizes are recorded with `"error"` (one line) instead of timings, and the next row is timed.
    TensorRT rows are built for the sizes timed: batch 1, sides up to the largest size.
    """
    from portrait_style.engine.backends import BackendSpec, available_backends, load_backend

    rows = []
    rng = np.random.default_rng(0)
    for kind in available_backends():
        options = {"max_side": max(sizes), "max_batch": 1} if kind.name == "tensorrt" and sizes else {}
        row = {"backend": kind.name, "device": kind.device, "precision": kind.precisions[0]}
        try:
            backend = load_backend(style_path, BackendSpec(kind.name, kind.device, options=options))
        except Exception as exc:  # noqa: BLE001 - any failure is this row's, reported, not the bench's
            rows.extend({**row, "size": size, "error": _one_line(exc)} for size in sizes)
            continue
        row["precision"] = backend.spec.precision
        for size in sizes:
            batch = rng.integers(0, 256, (1, size, size, 3), dtype=np.uint8)
            try:
                stats = time_call(lambda b=batch, run=backend: run(b), runs)
            except Exception as exc:  # noqa: BLE001
                rows.append({**row, "size": size, "error": _one_line(exc)})
                continue
            rows.append({**row, "size": size, **stats})
    return rows


def _one_line(exc: BaseException, limit: int = 200) -> str:
    text = " ".join(str(exc).split()) or "(no message)"
    text = f"{type(exc).__name__}: {text}"
    return text if len(text) <= limit else text[: limit - 3] + "..."
