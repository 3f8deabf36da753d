"""The graphs a style is exported as, besides the portable export: what `portrait-style export --graph`
writes and the CPU graph the ONNX Runtime CPU backend caches (`export.cached_onnx(cpu_kernels=True)`).

Like export.py, importing this module does not import torch.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from portrait_style.engine.export import convert_fp16, export_onnx
from portrait_style.errors import ModelError
from portrait_style.fileutil import atomic_path

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)

# What `portrait-style export --graph` writes: each graph a user can take to their own runtime.
EXPORT_GRAPHS = {
    "portable": "the exported graph (TensorRT, ONNX Runtime on CUDA or CPU)",
    "fp16": "FP16 weights and arithmetic, the same uint8 image in and out (for GPUs)",
    "cpu": "a look's graph for ONNX Runtime on a CPU, full-size steps on its integer kernels (opset 21)",
}


def export_graph(model: torch.nn.Module, path: str | os.PathLike, graph: str = "portable") -> Path:
    """Write one of EXPORT_GRAPHS for `model` to `path` atomically; ModelError for a generator's "cpu"."""
    if graph not in EXPORT_GRAPHS:
        raise ValueError(f"graph must be one of {', '.join(EXPORT_GRAPHS)}: {graph!r}")
    if graph == "portable":
        return export_onnx(model, path)
    with tempfile.TemporaryDirectory() as tmp:
        portable = export_onnx(model, Path(tmp) / "portable.onnx")
        if graph == "fp16":
            return convert_fp16(portable, path)
        if not write_cpu_graph(portable, Path(path)):
            raise ModelError("only a look has a CPU graph; this style's portable graph is its CPU graph")
    return Path(path)


def write_cpu_graph(source: Path, target: Path) -> bool:
    """Write `look.cpu_graph`'s rewrite of `source` to `target`; False (and nothing written) if the
    graph has nothing to rewrite. ModelError if the rewrite failed."""
    import onnx

    from portrait_style.look import cpu_graph

    try:
        rewritten = cpu_graph.cpu_graph(onnx.load(str(source)))
    except Exception as exc:  # noqa: BLE001 - onnx's converter and checker raise many types
        raise ModelError(
            f"cannot make the CPU graph of {source.name}: {' '.join(str(exc).split())[:160]}"
        ) from None
    if rewritten is None:
        return False
    with atomic_path(target) as tmp:
        onnx.save(rewritten, str(tmp))
    return True


def try_cpu_graph(source: Path, target: Path) -> bool:
    """`write_cpu_graph`, where a failure only costs speed: one warning, and the portable graph runs."""
    try:
        return write_cpu_graph(source, target)
    except ModelError as exc:
        log.warning("%s; running the portable graph", exc)
        return False
