"""The one place an ONNX Runtime session is made: generators, looks, MTCNN, export checks, benchmarks.

    session = ort_session("style.onnx", device="cuda:1", threads=None)

Idle worker threads sleep instead of spinning unless asked: in the pipeline the decode, detect,
paste-back and encode threads need those cores (GRID face mode on 2 cores: 24 fps spinning, 34 fps not),
and in a benchmark an idle session's spinning threads steal the cores from the one being timed.
"""

from __future__ import annotations

import os

from portrait_style.errors import ModelError

CUDA_PROVIDER = "CUDAExecutionProvider"
CPU_PROVIDER = "CPUExecutionProvider"


def has_cuda_provider() -> bool:
    import onnxruntime as ort  # deferred: importing onnxruntime costs ~0.3 s

    return CUDA_PROVIDER in ort.get_available_providers()


def device_index(device: str) -> int:
    """'cuda' -> 0, 'cuda:2' -> 2 (the spec table has already checked the form)."""
    return int(device.partition(":")[2] or 0)


def providers(device: str) -> list:
    if device.startswith("cuda"):
        return [(CUDA_PROVIDER, {"device_id": device_index(device)}), CPU_PROVIDER]
    return [CPU_PROVIDER]


# ONNX Runtime's pass that moves a QuantizeLinear ahead of a Reshape: on a look's CPU graph it undid the
# float's reshape before the rounding (look/model.py), so the uint8 output was copied once more by a
# Reshape (0.7 ms at 1080p). Only our look graphs have quantisation nodes.
DISABLED_OPTIMIZERS = ["QDQPropagationTransformer"]


def ort_session(
    path: str | os.PathLike,
    device: str = "cpu",
    threads: int | None = None,
    inter_threads: int | None = None,
    spinning: bool = False,
    what: str = "ONNX model",
    dims: dict[str, int] | None = None,
):
    """An `onnxruntime.InferenceSession` with full graph optimisation; a load failure is one ModelError line.

    threads: intra-op threads (None: ONNX Runtime's default, one per core). dims: values for the graph's
    named dynamic dimensions (e.g. {"height": 1080}): the session then runs only that shape, with the
    shape arithmetic folded into constants.
    """
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3  # errors only: its warnings (e.g. on FP16 constant folding) are not ours
    if threads:
        options.intra_op_num_threads = int(threads)
    if inter_threads:
        options.inter_op_num_threads = int(inter_threads)
    options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spinning else "0")
    for name, value in (dims or {}).items():
        options.add_free_dimension_override_by_name(name, int(value))
    try:
        return ort.InferenceSession(
            str(path), options, providers=providers(device), disabled_optimizers=DISABLED_OPTIMIZERS
        )
    except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own exception types
        reason = " ".join(str(exc).split())[:200]
        raise ModelError(f"cannot load {what} {path}: {reason}") from None
