"""TensorRT backend: a style's engine, built once per GPU model and TensorRT version, run on torch tensors.

    backend = TensorRTBackend("style.safetensors", BackendSpec("tensorrt", "cuda:0", "fp16"))
    styled = backend(batch)                    # uint8 NHWC numpy in and out
    styled = backend.run_tensor(x)             # uint8 NHWC CUDA tensor in and out, no host copies

Generators and looks alike; a look whose light follows the faces takes the face tables as well (none
given: an empty table, one kept on the GPU per batch size). How the engine is built and cached:
`engine/tensorrt/`.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from portrait_style.engine.backends.base import Backend
from portrait_style.engine.backends.ort_session import device_index
from portrait_style.engine.backends.spec import BackendSpec
from portrait_style.engine.export import FACES_NAME, INPUT_NAME, OUTPUT_NAME
from portrait_style.engine.faces.geometry import no_faces
from portrait_style.engine.tensorrt.versions import import_tensorrt


class TensorRTBackend(Backend):
    name = "tensorrt"

    def __init__(self, style_path: str | os.PathLike, spec: BackendSpec | None = None):
        trt = import_tensorrt()  # first: without TensorRT, one ModelError line and nothing else done
        import torch

        from portrait_style.engine.tensorrt.build import engine_bytes
        from portrait_style.engine.tensorrt.runtime import Engine, gpu_of

        self.spec = spec or BackendSpec("tensorrt", "cuda", "fp16")
        self._device = torch.device("cuda", device_index(self.spec.device))
        with torch.cuda.device(self._device):  # TensorRT builds on the current CUDA device
            gpu = gpu_of(self._device)
            blob = engine_bytes(trt, Path(style_path), self.spec.precision, self.spec.options, gpu)
        self.engine = Engine(trt, blob, self._device, bool(self.spec.options.get("cuda_graphs", True)))
        self.uses_faces = FACES_NAME in self.engine.inputs
        self._empty_tables: dict[int, object] = {}  # batch size -> an all-zero face table on the GPU

    def __call__(self, batch: np.ndarray, faces: np.ndarray | None = None) -> np.ndarray:
        import torch

        x = torch.from_numpy(np.ascontiguousarray(batch)).to(self._device)
        table = None
        if self.uses_faces and faces is not None:
            table = torch.from_numpy(faces).to(self._device)
        return self.run_tensor(x, table).cpu().numpy()

    def run_tensor(self, x, faces=None):
        """uint8 NHWC tensor on this backend's GPU in, the same out; `faces`: [N, MAX_FACES, 4] face tables.

        With cuda_graphs the result is the graph's output tensor: the next call of that shape overwrites it.
        """
        feeds = {INPUT_NAME: x}
        if self.uses_faces:
            feeds[FACES_NAME] = faces if faces is not None else self._empty_table(len(x))
        return self.engine.run(feeds)[OUTPUT_NAME]

    def _empty_table(self, batch: int):
        """No faces for `batch` images: made and uploaded once per batch size, then reused (only read)."""
        table = self._empty_tables.get(batch)
        if table is None:
            import torch

            table = self._empty_tables[batch] = torch.from_numpy(no_faces(batch)).to(self._device)
        return table
