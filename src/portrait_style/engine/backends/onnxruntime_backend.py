"""ONNX Runtime backend: CPU, or the CUDA execution provider when the installed build has it.

Precision fp16 runs the FP16 export (`export.convert_fp16`); the uint8 image in and out is the same.
"""

from __future__ import annotations

import os

import numpy as np

from portrait_style.engine.backends.base import Backend
from portrait_style.engine.backends.ort_session import ort_session
from portrait_style.engine.backends.spec import BackendSpec
from portrait_style.engine.faces.geometry import no_faces


class OnnxRuntimeBackend(Backend):
    name = "onnxruntime"

    def __init__(self, onnx_path: str | os.PathLike, spec: BackendSpec | None = None):
        self.spec = spec or BackendSpec("onnxruntime", "cpu", "fp32")
        opts = self.spec.options
        self.session = ort_session(
            onnx_path, self.spec.device, threads=opts.get("threads"), spinning=bool(opts.get("spinning"))
        )
        inputs = self.session.get_inputs()
        self.input_name = inputs[0].name
        # a look whose light follows the faces has a second input: the face tables
        self.faces_name = inputs[1].name if len(inputs) > 1 else None

    def __call__(self, batch: np.ndarray, faces: np.ndarray | None = None) -> np.ndarray:
        feeds = {self.input_name: np.ascontiguousarray(batch)}
        if self.faces_name is not None:
            feeds[self.faces_name] = no_faces(len(batch)) if faces is None else faces
        return self.session.run(None, feeds)[0]
