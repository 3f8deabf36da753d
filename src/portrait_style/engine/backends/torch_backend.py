"""PyTorch backend: CPU float32, or CUDA fp16 with CUDA graphs replayed per input shape."""

from __future__ import annotations

import numpy as np
import torch

from portrait_style.engine.backends.base import Backend


class TorchBackend(Backend):
    name = "torch"

    def __init__(
        self, model: torch.nn.Module, device: str = "cpu", half: bool | None = None, cuda_graphs: bool = True
    ):
        self.device = device
        self.half = device.startswith("cuda") if half is None else half
        self.model = model.eval().to(device)
        if self.half:
            self.model = self.model.half()
        self.use_graphs = cuda_graphs and device.startswith("cuda")
        self._graphs: dict[tuple[int, ...], tuple[torch.cuda.CUDAGraph, torch.Tensor, torch.Tensor]] = {}

    @torch.inference_mode()
    def __call__(self, batch: np.ndarray, faces: np.ndarray | None = None) -> np.ndarray:
        if faces is not None and getattr(self.model, "uses_faces", False):
            # face-aware looks: eager (no CUDA graph keyed by shape alone)
            x = torch.from_numpy(np.ascontiguousarray(batch)).to(self.device)
            dtype = torch.float16 if self.half else torch.float32
            return self.model(x, torch.from_numpy(faces).to(self.device, dtype)).cpu().numpy()
        if not self.device.startswith("cuda"):
            return self.model(torch.from_numpy(np.ascontiguousarray(batch))).numpy()
        # A plain copy: the result is read back synchronously below, so a pinned, non-blocking upload
        # would only add a fresh page-locked allocation per frame.
        x = torch.from_numpy(np.ascontiguousarray(batch)).to(self.device)
        y = self._run_cuda(x)
        return y.cpu().numpy()

    def _run_cuda(self, x: torch.Tensor) -> torch.Tensor:
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
