"""ONNX Runtime backend: CPU, or the CUDA execution provider when the installed build has it.

Precision fp16 runs the FP16 export (`export.convert_fp16`); the uint8 image in and out is the same.
"""

from __future__ import annotations

import os

import numpy as np

from portrait_style.engine.backends.base import Backend
from portrait_style.engine.backends.ort_session import ort_session
from portrait_style.engine.backends.spec import BackendSpec
from portrait_style.engine.export import DYNAMIC_DIMS
from portrait_style.engine.faces.geometry import no_faces


class OnnxRuntimeBackend(Backend):
    """The session made at load runs any shape. A stream (the same batch shape twice in a row) gets a
    session of its own made for that shape (about 0.1-0.2 s, once), where ONNX Runtime folds the graph's
    shape arithmetic into constants: a `matched` look at 1080p on the 2-core CPU 0.2-1.6 ms less (five
    interleaved runs; the look graph has about 300 shape nodes of 590). Photos of many sizes keep the
    first session. Both sessions stay: at 1080p the process holds 325 MB after a stream's frames against
    239 MB on the first session alone (steady over 60 frames)."""

    name = "onnxruntime"

    def __init__(self, onnx_path: str | os.PathLike, spec: BackendSpec | None = None):
        self.spec = spec or BackendSpec("onnxruntime", "cpu", "fp32")
        self.path = onnx_path
        self.session = self._session()
        inputs = self.session.get_inputs()
        self.input_name = inputs[0].name
        # a look whose light follows the faces has a second input: the face tables
        self.faces_name = inputs[1].name if len(inputs) > 1 else None
        self._last_shape: tuple | None = None
        self._shaped: tuple | None = None  # (shape, its session)

    def _session(self, shape: tuple | None = None):
        opts = self.spec.options
        return ort_session(
            self.path,
            self.spec.device,
            threads=opts.get("threads"),
            spinning=bool(opts.get("spinning")),
            dims=dict(zip(DYNAMIC_DIMS, shape, strict=True)) if shape else None,
        )

    def session_for(self, shape: tuple):
        """The session to run a batch of `shape` (N, H, W) with."""
        if self._shaped is not None and self._shaped[0] == shape:
            return self._shaped[1]
        if shape != self._last_shape:
            self._last_shape = shape
            return self.session
        self._shaped = (shape, self._session(shape))  # the second in a row: a stream
        return self._shaped[1]

    def __call__(self, batch: np.ndarray, faces: np.ndarray | None = None) -> np.ndarray:
        feeds = {self.input_name: np.ascontiguousarray(batch)}
        if self.faces_name is not None:
            feeds[self.faces_name] = no_faces(len(batch)) if faces is None else faces
        return self.session_for(tuple(batch.shape[:3])).run(None, feeds)[0]
