"""Look latency on whole frames through ONNX Runtime (CPU), next to the generator in the same run.

    python benchmarks/bench_look.py [--runs 30] [--onnx NAME=FILE.onnx ...]

Median and p95 milliseconds per frame, batch 1, at 640x360, 1280x720 and 1920x1080 for: a freshly
initialised LookNet with every part the `matched` preset trains (the graph and its cost do not depend
on the weights; before 2026-11-30 this row was LookNet's defaults: a 32 x 32 grid, no saturation mix),
each built-in look, each in its portable graph and in the CPU graph the ONNX Runtime CPU backend runs
(look/cpu_graph.py), any extra exported graph given with --onnx (e.g. an older export, for a
before/after in one run), and the generator at 640x360 for scale. Each model and size has its own
backend, as a stream would, so each runs on the session made for its frame size (since 2026-12-01;
before, one backend ran every size on its load-time session). Rounds are interleaved (each model
once per round), so a background load that comes and goes touches every model alike.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from portrait_style.engine.backends.onnxruntime_backend import OnnxRuntimeBackend
from portrait_style.engine.checkpoint import load_style
from portrait_style.engine.export import export_onnx
from portrait_style.engine.graphs import write_cpu_graph
from portrait_style.engine.model import Generator
from portrait_style.engine.style_meta import read_meta
from portrait_style.engine.styles import builtin_styles
from portrait_style.hardware import machine_name
from portrait_style.look.model import ARCH_NAME
from portrait_style.look.train import look_net
from portrait_style.trainer.config import TrainConfig, resolve

SIZES = ((360, 640), (720, 1280), (1080, 1920))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--onnx", action="append", default=[], metavar="NAME=FILE", help="extra graph")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    print(f"machine: {machine_name()}")
    with tempfile.TemporaryDirectory() as tmp:
        graphs = {}
        # every part, as the matched preset trains a look without faces (a 32 grid since the twelfth
        # round), and with the 16 grid it had before (and still has for a look that reads faces)
        for name, grid in (("LookNet (all parts)", None), ("LookNet (all parts, 16 grid)", 16)):
            every_part = look_net(resolve(TrainConfig("-", "-", look_preset="matched", look_grid=grid), 2))
            graphs[name] = export_onnx(every_part, Path(tmp) / f"look{grid or ''}.onnx")
        for name, path in builtin_styles().items():
            if read_meta(path).arch == ARCH_NAME:
                graphs[f"look `{name}`"] = export_onnx(load_style(path)[0], Path(tmp) / f"{name}.onnx")
        for name, path in list(graphs.items()):
            fast = Path(tmp) / f"{Path(path).stem}-cpu.onnx"
            if write_cpu_graph(Path(path), fast):  # the graph the ONNX Runtime CPU backend runs
                graphs[f"{name}, CPU graph"] = fast
        graphs.update(dict(item.split("=", 1) for item in args.onnx))
        graphs["generator"] = export_onnx(Generator(), Path(tmp) / "gen.onnx")
        cases = [(name, size) for size in SIZES for name in graphs if name != "generator"]
        cases.append(("generator", (360, 640)))
        # a backend per case, as a stream has one: each runs on the session made for its frame size
        backends = {case: OnnxRuntimeBackend(graphs[case[0]]) for case in cases}
        frames = {size: rng.integers(0, 256, (1, *size, 3), dtype=np.uint8) for size in SIZES}
        times: dict = {case: [] for case in cases}
        for case in cases:  # warm-up: the second frame of a size makes its session
            for _ in range(3):
                backends[case](frames[case[1]])
        for _ in range(args.runs):
            for case in cases:
                start = time.perf_counter()
                backends[case](frames[case[1]])
                times[case].append((time.perf_counter() - start) * 1000)
    print("| model | frame | median ms | p95 ms |\n|---|---|---:|---:|")
    for (name, (h, w)), samples in times.items():
        print(f"| {name} | {w}x{h} | {np.median(samples):.1f} | {np.percentile(samples, 95):.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
