"""Generator latency at 256² through ONNX Runtime on this machine: ours next to fast-neural-style's
TransformerNet, measured in the same run, interleaved so both see the same machine load.

    python benchmarks/bench_generator.py [--runs 100] [--threads 2] [--out benchmarks/results]

Writes generator.md and generator.json to --out.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from reference_models import TransformerNet  # noqa: E402

from portrait_style.engine.backends.ort_session import ort_session
from portrait_style.engine.export import export_onnx  # noqa: E402
from portrait_style.engine.model import Generator, count_macs  # noqa: E402
from portrait_style.hardware import machine_name  # noqa: E402


def export_reference(model: torch.nn.Module, path: Path, size: int) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model.eval(), (torch.zeros(1, 3, size, size),), str(path), dynamo=False, opset_version=18
        )


def session(path: Path, threads: int):
    return ort_session(path, "cpu", threads=threads or None)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--threads", type=int, default=0, help="ONNX Runtime intra-op threads (0: all cores)")
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent / "results"))
    args = parser.parse_args()
    size = args.size
    ours, reference = Generator(), TransformerNet()
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        export_onnx(ours, Path(tmp) / "ours.onnx")
        export_reference(reference, Path(tmp) / "ref.onnx", size)
        candidates = {
            "portrait-style Generator (ours)": (
                session(Path(tmp) / "ours.onnx", args.threads),
                rng.integers(0, 256, (1, size, size, 3), dtype=np.uint8),
            ),
            "fast-neural-style TransformerNet": (
                session(Path(tmp) / "ref.onnx", args.threads),
                rng.uniform(0, 255, (1, 3, size, size)).astype(np.float32),
            ),
        }
        samples: dict[str, list[float]] = {name: [] for name in candidates}
        for sess, x in candidates.values():  # warm-up
            for _ in range(5):
                sess.run(None, {sess.get_inputs()[0].name: x})
        import time

        for _ in range(args.runs):  # interleaved
            for name, (sess, x) in candidates.items():
                start = time.perf_counter()
                sess.run(None, {sess.get_inputs()[0].name: x})
                samples[name].append((time.perf_counter() - start) * 1000)
    macs = {
        "portrait-style Generator (ours)": count_macs(ours, torch.zeros(1, size, size, 3, dtype=torch.uint8)),
        "fast-neural-style TransformerNet": count_macs(reference, torch.zeros(1, 3, size, size)),
    }
    rows = [
        {
            "model": name,
            "params_M": round(sum(p.numel() for p in m.parameters()) / 1e6, 3),
            "GMACs": round(macs[name] / 1e9, 2),
            "median_ms": round(float(np.median(s)), 2),
            "p95_ms": round(float(np.percentile(s, 95)), 2),
        }
        for (name, s), m in zip(samples.items(), (ours, reference), strict=True)
    ]
    ratio = rows[1]["median_ms"] / rows[0]["median_ms"]
    report = {
        "machine": machine_name(),
        "onnxruntime": ort.__version__,
        "torch": torch.__version__,
        "size": size,
        "runs": args.runs,
        "threads": args.threads or "all",
        "rows": rows,
        "speedup_vs_transformernet": round(ratio, 2),
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "generator.json").write_text(json.dumps(report, indent=2))
    lines = [
        f"# Generator latency, {size}², ONNX Runtime {ort.__version__} CPU",
        "",
        f"Machine: {report['machine']}. {args.runs} interleaved runs each, batch 1, warm; "
        f"`python benchmarks/bench_generator.py --runs {args.runs}`.",
        "",
        "| model | params (M) | GMACs | median ms | p95 ms |",
        "|---|---|---|---|---|",
        *(
            f"| {r['model']} | {r['params_M']} | {r['GMACs']} | {r['median_ms']} | {r['p95_ms']} |"
            for r in rows
        ),
        "",
        f"Ours is {ratio:.1f}x faster than TransformerNet in this run.",
    ]
    (out / "generator.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
