"""One table of backends drives loading, `--backend auto`, `calibrate` and the benchmarks.

Each row is a runtime on a kind of device, with the precisions it runs (the first is its default) and
the options it takes (`spec.OPTIONS`). Rows are in order of preference: `auto` takes the first one that
is available on this machine and fits what was asked. Factories import their runtime lazily, so a row
costs nothing until it is used, and a machine without torch can still run a cached ONNX export.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from portrait_style.engine.backends.base import Backend
from portrait_style.engine.backends.spec import OPTIONS, PRECISIONS, BackendSpec
from portrait_style.engine.style_meta import FULL_PRECISION, read_meta
from portrait_style.errors import ModelError
from portrait_style.options import OptionError


def _torch_cuda_available() -> bool:
    if importlib.util.find_spec("torch") is None:
        return False
    import torch

    return torch.cuda.is_available()


def _ort_cuda_available() -> bool:
    from portrait_style.engine.backends.ort_session import has_cuda_provider

    return has_cuda_provider()


def _tensorrt_available() -> bool:
    # engines take and give torch CUDA tensors (no pycuda): TensorRT needs torch's CUDA too. Imported,
    # not only found: a wheel without its CUDA libraries fails here, and `auto` moves on.
    if importlib.util.find_spec("tensorrt") is None or not _torch_cuda_available():
        return False
    try:
        import tensorrt  # noqa: F401
    except Exception:  # noqa: BLE001 - missing libraries raise OSError, ImportError or RuntimeError
        return False
    return True


def _torch(style_path: Path, spec: BackendSpec) -> Backend:
    from portrait_style.engine.backends.torch_backend import TorchBackend
    from portrait_style.engine.checkpoint import load_style

    return TorchBackend(load_style(style_path)[0], spec)


def _onnxruntime(style_path: Path, spec: BackendSpec) -> Backend:
    from portrait_style.engine.backends.onnxruntime_backend import OnnxRuntimeBackend
    from portrait_style.engine.export import cached_onnx

    # on a CPU in FP32 the graph whose full-size steps run on ONNX Runtime's integer kernels
    cpu_kernels = spec.device == "cpu" and spec.precision == "fp32"
    return OnnxRuntimeBackend(cached_onnx(style_path, spec.precision, cpu_kernels=cpu_kernels), spec)


def _tensorrt(style_path: Path, spec: BackendSpec) -> Backend:
    from portrait_style.engine.backends.tensorrt_backend import TensorRTBackend

    return TensorRTBackend(style_path, spec)


@dataclass(frozen=True)
class BackendKind:
    name: str
    device: str  # "cpu" | "cuda" (a spec may name cuda:N)
    precisions: tuple[str, ...]  # the first is the default
    options: tuple[str, ...]  # names from spec.OPTIONS
    is_available: Callable[[], bool]
    create: Callable[[Path, BackendSpec], Backend]


BACKENDS: tuple[BackendKind, ...] = (
    BackendKind(
        "torch",
        "cuda",
        ("fp16", "bf16", "fp32"),
        ("cuda_graphs", "channels_last"),
        _torch_cuda_available,
        _torch,
    ),
    BackendKind(
        "tensorrt",
        "cuda",
        ("fp16", "fp32"),
        ("cuda_graphs", "max_batch", "max_side", "workspace_mb"),
        _tensorrt_available,
        _tensorrt,
    ),
    BackendKind("onnxruntime", "cuda", ("fp32", "fp16"), (), _ort_cuda_available, _onnxruntime),
    BackendKind("onnxruntime", "cpu", ("fp32", "fp16"), ("threads", "spinning"), lambda: True, _onnxruntime),
    BackendKind("torch", "cpu", ("fp32", "bf16"), ("channels_last",), lambda: True, _torch),
)
BACKEND_NAMES = ("auto", *dict.fromkeys(k.name for k in BACKENDS))
DEVICES = ("auto", "cpu", "cuda", "cuda:N")  # what --help shows; spec.DEVICE_PATTERN checks


def _fits(kind: BackendKind, spec: BackendSpec, options: bool = True) -> bool:
    return (
        spec.backend in ("auto", kind.name)
        and spec.device_kind in ("auto", kind.device)
        and spec.precision in ("auto", *kind.precisions)
        and (not options or set(spec.options) <= set(kind.options))
    )


def _check_cuda_index(device: str) -> None:
    """cuda:N past the GPUs there are: one line, not the runtime's own traceback."""
    index = int(device.partition(":")[2] or 0)
    if index and _torch_cuda_available():
        import torch

        if index >= torch.cuda.device_count():
            raise ModelError(f"device {device}: this machine has {torch.cuda.device_count()} CUDA device(s)")


def resolve(spec: BackendSpec) -> tuple[BackendKind, BackendSpec]:
    """The table row that runs `spec` here, and the spec with every `auto` filled in; else one ModelError."""
    if spec.backend not in BACKEND_NAMES:
        raise OptionError(f"unknown backend '{spec.backend}'; choose from {', '.join(BACKEND_NAMES)}")
    rows = [k for k in BACKENDS if _fits(k, spec)]
    if not rows and (near := [k for k in BACKENDS if _fits(k, spec, options=False)]):
        kind, unknown = near[0], sorted(set(spec.options) - set(near[0].options))
        takes = ", ".join(kind.options) or "no options"
        raise OptionError(
            f"{kind.name} on {kind.device} does not take option {unknown[0]} (it takes {takes})"
        )
    if not rows:
        runs = "; ".join(
            f"{k.name} on {k.device}: {', '.join(k.precisions)}"
            for k in BACKENDS
            if spec.backend in ("auto", k.name)
        )
        raise OptionError(
            f"no backend runs {spec.backend} on {spec.device} in {spec.precision} (what runs where: {runs})"
        )
    kind = next((k for k in rows if k.is_available()), None)
    if kind is None:
        raise ModelError(
            f"backend '{spec.backend}' on device '{spec.device}' ({spec.precision}) is not available on this"
            " machine"
        )
    device = kind.device if spec.device == "auto" else spec.device
    if kind.device == "cuda":
        _check_cuda_index(device)
    precision = kind.precisions[0] if spec.precision == "auto" else spec.precision
    return kind, replace(spec, backend=kind.name, device=device, precision=precision)


def available_backends() -> list[BackendKind]:
    return [k for k in BACKENDS if k.is_available()]


def for_style(spec: BackendSpec, arch: str) -> BackendSpec:
    """`spec` for a model of architecture `arch`: precision auto means fp32 for those that need it
    (`style_meta.FULL_PRECISION`: the looks), the backend's own default for the rest."""
    if spec.precision == "auto" and arch in FULL_PRECISION:
        return replace(spec, precision="fp32")
    return spec


def load_backend(style_path: str | os.PathLike, spec: BackendSpec | None = None) -> Backend:
    """The first available backend that fits `spec` (default: all auto), loaded with `style_path`."""
    kind, concrete = resolve(for_style(spec or BackendSpec(), read_meta(style_path).arch))
    return kind.create(Path(style_path), concrete)


__all__ = [
    "BACKENDS",
    "BACKEND_NAMES",
    "DEVICES",
    "OPTIONS",
    "PRECISIONS",
    "Backend",
    "BackendKind",
    "BackendSpec",
    "available_backends",
    "for_style",
    "load_backend",
    "resolve",
]
