"""The TensorRT version gate: the one place where TensorRT 10 and 11 differ for us.

TensorRT 10 (weak typing): the FP32 ONNX graph, and `BuilderFlag.FP16` lets the builder pick FP16 kernels
for fp16. TensorRT 11 removed `BuilderFlag.FP16` (and BF16, INT8, FP8, the INT8 calibrators and
`platform_has_fast_fp16`): every network is strongly typed, its tensors have the types of the graph it was
parsed from, so fp16 means parsing the FP16 ONNX graph (`export.convert_fp16`).

Both build on `Builder.create_network(0)`. In 10.x networks are always explicit batch
(NetworkDefinitionCreationFlag.EXPLICIT_BATCH is deprecated in 10.0 and ignored; 11.x no longer has it).
In 11.x strong typing is always on: NetworkDefinitionCreationFlag.STRONGLY_TYPED is deprecated in 11.0
and ignored ("retained for API compatibility"), so it is not passed either.

Sources: the TensorRT 10.x->11.x migration guide ("Strongly Typed Networks Are Now Required", "Removed
Python APIs"), and the Python bindings of TensorRT 10.16.1 and 11.1 (python/src/infer/pyCore.cpp).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType

from portrait_style.errors import ModelError

SUPPORTED_MAJORS = (10, 11)
PRECISIONS = ("fp32", "fp16")


def import_tensorrt() -> ModuleType:
    """The `tensorrt` module, or one ModelError line saying what to do instead."""
    try:
        import tensorrt
    except (ImportError, OSError) as exc:  # OSError: the wheel is there, its CUDA libraries are not
        reason = " ".join(str(exc).split())[:120]
        raise ModelError(
            f"the tensorrt backend needs TensorRT 10 or 11 (pip install tensorrt), which does not load here"
            f" ({reason}); choose another backend, e.g. --backend torch"
        ) from None
    return tensorrt


def major_version(trt: ModuleType) -> int:
    return int(str(trt.__version__).split(".")[0])


@dataclass(frozen=True)
class Recipe:
    """How to build an engine of one precision with the TensorRT that is installed."""

    onnx_precision: str  # which `export.cached_onnx` graph to parse
    builder_flags: tuple  # `BuilderFlag` members to set on the builder config


def recipe(trt: ModuleType, precision: str) -> Recipe:
    major = major_version(trt)
    if major not in SUPPORTED_MAJORS:
        raise ModelError(
            f"TensorRT {trt.__version__} is not supported; the tensorrt backend runs TensorRT 10.x and 11.x"
        )
    if precision not in PRECISIONS:
        raise ModelError(f"the tensorrt backend builds fp32 or fp16 engines, not {precision}")
    if major == 10:
        # BuilderFlag.FP16 is deprecated since 10.12 ("superseded by strong typing"); every 10.x has it.
        return Recipe("fp32", (trt.BuilderFlag.FP16,) if precision == "fp16" else ())
    return Recipe(precision, ())  # 11.x: the graph's own types are the precision
