"""One table of backends drives loading, `--backend auto` and the benchmarks.

Rows are in order of preference: `auto` takes the first one that is available on this machine.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from portrait_style.engine.backends.base import Backend
from portrait_style.errors import ModelError


def _torch_cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


def _ort_cuda_available() -> bool:
    from portrait_style.engine.backends.onnxruntime_backend import has_cuda_provider

    return has_cuda_provider()


def _torch(device: str) -> Callable[[Path], Backend]:
    def create(style_path: Path) -> Backend:
        from portrait_style.engine.backends.torch_backend import TorchBackend
        from portrait_style.engine.checkpoint import load_style

        return TorchBackend(load_style(style_path)[0], device)

    return create


def _onnxruntime(device: str) -> Callable[[Path], Backend]:
    def create(style_path: Path) -> Backend:
        from portrait_style.engine.backends.onnxruntime_backend import OnnxRuntimeBackend
        from portrait_style.engine.export import cached_onnx

        return OnnxRuntimeBackend(cached_onnx(style_path), device)

    return create


@dataclass(frozen=True)
class BackendKind:
    name: str
    device: str
    is_available: Callable[[], bool]
    create: Callable[[Path], Backend]


BACKENDS: tuple[BackendKind, ...] = (
    BackendKind("torch", "cuda", _torch_cuda_available, _torch("cuda")),
    BackendKind("onnxruntime", "cuda", _ort_cuda_available, _onnxruntime("cuda")),
    BackendKind("onnxruntime", "cpu", lambda: True, _onnxruntime("cpu")),
    BackendKind("torch", "cpu", lambda: True, _torch("cpu")),
)
BACKEND_NAMES = ("auto", *dict.fromkeys(k.name for k in BACKENDS))
DEVICES = ("auto", "cpu", "cuda")


def available_backends() -> list[BackendKind]:
    return [k for k in BACKENDS if k.is_available()]


def load_backend(style_path: str | os.PathLike, backend: str = "auto", device: str = "auto") -> Backend:
    """The first available backend matching the requested runtime and device."""
    if backend not in BACKEND_NAMES:
        raise ModelError(f"unknown backend '{backend}'; choose from {', '.join(BACKEND_NAMES)}")
    if device not in DEVICES:
        raise ModelError(f"unknown device '{device}'; choose from {', '.join(DEVICES)}")
    for kind in BACKENDS:
        if backend in ("auto", kind.name) and device in ("auto", kind.device) and kind.is_available():
            return kind.create(Path(style_path))
    raise ModelError(f"backend '{backend}' on device '{device}' is not available on this machine")


__all__ = ["BACKENDS", "BACKEND_NAMES", "Backend", "BackendKind", "available_backends", "load_backend"]
