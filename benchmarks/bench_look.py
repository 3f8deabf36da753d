"""Look model latency on whole frames through ONNX Runtime (CPU), next to the generator in the same run.

    python benchmarks/bench_look.py [--style-file FILE.safetensors] [--runs 30]

Prints median and p95 milliseconds per frame at 640x360, 1280x720 and 1920x1080, batch 1, for a look
(a trained file, or a freshly initialised LookNet: the graph and its cost do not depend on the weights)
and the generator at 640x360 for scale.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from portrait_style.bench import machine_name
from portrait_style.engine.backends.onnxruntime_backend import OnnxRuntimeBackend
from portrait_style.engine.checkpoint import load_style
from portrait_style.engine.export import export_onnx
from portrait_style.engine.model import Generator
from portrait_style.look.model import LookNet


def timed(backend, frame: np.ndarray, runs: int) -> tuple[float, float]:
    backend(frame)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        backend(frame)
        times.append((time.perf_counter() - start) * 1000)
    return float(np.median(times)), float(np.percentile(times, 95))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--style-file", help="a trained look (default: a new LookNet)")
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    look = load_style(args.style_file)[0] if args.style_file else LookNet()
    rng = np.random.default_rng(0)
    print(f"machine: {machine_name()}")
    with tempfile.TemporaryDirectory() as tmp:
        models = {"look": export_onnx(look, Path(tmp) / "look.onnx")}
        models["generator"] = export_onnx(Generator(), Path(tmp) / "gen.onnx")
        backends = {name: OnnxRuntimeBackend(path) for name, path in models.items()}
        for name, (h, w) in [
            ("look", (360, 640)),
            ("look", (720, 1280)),
            ("look", (1080, 1920)),
            ("generator", (360, 640)),
        ]:
            frame = rng.integers(0, 256, (1, h, w, 3), dtype=np.uint8)
            median, p95 = timed(backends[name], frame, args.runs)
            print(f"| {name} | {w}x{h} | {median:.1f} | {p95:.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
