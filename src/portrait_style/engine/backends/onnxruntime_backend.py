"""ONNX Runtime backend: CPU, or the CUDA execution provider when the installed build has it."""

from __future__ import annotations

import os

import numpy as np
import onnxruntime as ort

from portrait_style.engine.backends.base import Backend
from portrait_style.engine.faces.geometry import no_faces

CUDA_PROVIDER = "CUDAExecutionProvider"


def has_cuda_provider() -> bool:
    return CUDA_PROVIDER in ort.get_available_providers()


class OnnxRuntimeBackend(Backend):
    name = "onnxruntime"

    def __init__(self, onnx_path: str | os.PathLike, device: str = "cpu", threads: int | None = None):
        self.device = device
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        if threads:
            options.intra_op_num_threads = threads
        # Idle worker threads sleep instead of spinning: in the pipeline the decode, detect, paste-back
        # and encode threads need those cores (GRID face mode on 2 cores: 24 fps spinning, 34 fps not).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        providers = (
            [CUDA_PROVIDER, "CPUExecutionProvider"] if device.startswith("cuda") else ["CPUExecutionProvider"]
        )
        self.session = ort.InferenceSession(str(onnx_path), options, providers=providers)
        inputs = self.session.get_inputs()
        self.input_name = inputs[0].name
        # a look whose light follows the faces has a second input: the face tables
        self.faces_name = inputs[1].name if len(inputs) > 1 else None

    def __call__(self, batch: np.ndarray, faces: np.ndarray | None = None) -> np.ndarray:
        feeds = {self.input_name: np.ascontiguousarray(batch)}
        if self.faces_name is not None:
            feeds[self.faces_name] = no_faces(len(batch)) if faces is None else faces
        return self.session.run(None, feeds)[0]
