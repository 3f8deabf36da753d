"""PyTorch backend: CPU, or CUDA in fp16/bf16/fp32 with CUDA graphs replayed per input shape."""

from __future__ import annotations

import numpy as np
import torch

from portrait_style.engine.backends.base import Backend
from portrait_style.engine.backends.spec import BackendSpec

DTYPES = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}


class TorchBackend(Backend):
    name = "torch"

    def __init__(self, model: torch.nn.Module, spec: BackendSpec | None = None):
        self.spec = spec or BackendSpec("torch", "cpu", "fp32")
        cuda = self.spec.device.startswith("cuda")
        self.model = model.eval().to(self.spec.device, DTYPES[self.spec.precision])
        if self.spec.options.get("channels_last"):
            self.model = self.model.to(memory_format=torch.channels_last)
        self.use_graphs = cuda and self.spec.options.get("cuda_graphs", True)
        self._graphs: dict[tuple[int, ...], tuple[torch.cuda.CUDAGraph, torch.Tensor, torch.Tensor]] = {}

    @torch.inference_mode()
    def __call__(self, batch: np.ndarray, faces: np.ndarray | None = None) -> np.ndarray:
        # A plain copy: the result is read back synchronously below, so a pinned, non-blocking upload
        # would only add a fresh page-locked allocation per frame.
        x = torch.from_numpy(np.ascontiguousarray(batch)).to(self.spec.device)
        if faces is not None and getattr(self.model, "uses_faces", False):
            # face-aware looks: eager (no CUDA graph keyed by shape alone)
            table = torch.from_numpy(faces).to(self.spec.device, DTYPES[self.spec.precision])
            return self.model(x, table).cpu().numpy()
        return self.run_tensor(x).cpu().numpy()

    def run_tensor(self, x: torch.Tensor) -> torch.Tensor:
        """uint8 NHWC tensor on this backend's device in, the same out (no host copies)."""
        if not self.use_graphs:
            return self.model(x)
        key = tuple(x.shape)
        if key not in self._graphs:
            self._graphs[key] = self._capture(x)
        graph, static_in, static_out = self._graphs[key]
        static_in.copy_(x)
        graph.replay()
        return static_out

    def _capture(self, x: torch.Tensor):
        # Warm up on a side stream first, as the CUDA-graphs documentation requires, then capture once.
        static_in = x.clone()
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            for _ in range(2):
                self.model(static_in)
        torch.cuda.current_stream().wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            static_out = self.model(static_in)
        return graph, static_in, static_out
