"""PyTorch backend: CPU, or CUDA in fp16/bf16/fp32 with CUDA graphs replayed per input shape.

The CUDA fast path:
- precision: weights and activations in fp16, bf16 or fp32 (fp32 convolutions use TF32, PyTorch's default);
- channels_last (on by default on CUDA): NHWC weights. The uint8 input is NHWC, so the model's own
  permute to NCHW already hands the convolutions a channels-last view; `channels_last=false` lays the
  input out planar instead, so that the convolutions really run NCHW (both are honoured on the CPU too);
- cuda_graphs (on by default): each input shape is captured once as a CUDA graph and replayed after;
- `__call__` uploads through a page-locked host buffer kept per input shape and downloads into a
  page-locked output, both copies asynchronous on the backend's own stream, which is synchronised
  once before returning, so each call crosses the bus once each way and blocks only itself;
- `run_tensor` takes and gives device tensors: work that already lives on the GPU never touches the host.

On the CPU a call is the plain eager model, as before. A backend serves one caller at a time (the
pipeline's infer stage): the graphs and the upload buffers are reused from call to call.
"""

from __future__ import annotations

import numpy as np
import torch

from portrait_style.engine.backends.base import Backend
from portrait_style.engine.backends.spec import BackendSpec

DTYPES = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}
PINNED_SHAPES = 8  # upload buffers kept (frame mode: one shape; face mode: one per face count)


class TorchBackend(Backend):
    name = "torch"

    def __init__(self, model: torch.nn.Module, spec: BackendSpec | None = None):
        self.spec = spec or BackendSpec("torch", "cpu", "fp32")
        self.cuda = self.spec.device.startswith("cuda")
        self.dtype = DTYPES[self.spec.precision]
        self.model = model.eval().to(self.spec.device, self.dtype)
        layout = self.spec.options.get("channels_last")
        self.channels_last = bool(self.cuda if layout is None else layout)
        if self.channels_last:
            self.model = self.model.to(memory_format=torch.channels_last)
        # asked for NCHW: the input is laid out planar too (else its NHWC bytes make the convolutions NHWC)
        self.planar_input = layout is False
        self.use_graphs = self.cuda and self.spec.options.get("cuda_graphs", True)
        self._graphs: dict[tuple, tuple[torch.cuda.CUDAGraph, torch.Tensor, torch.Tensor]] = {}
        self._uploads: dict[tuple[int, ...], torch.Tensor] = {}
        self._stream = torch.cuda.Stream(device=self.spec.device) if self.cuda else None
        if self.cuda:
            # one algorithm search per input shape (process-wide, as the trainer sets it too)
            torch.backends.cudnn.benchmark = True

    @torch.inference_mode()
    def __call__(self, batch: np.ndarray, faces: np.ndarray | None = None) -> np.ndarray:
        table = faces if faces is not None and getattr(self.model, "uses_faces", False) else None
        if self.cuda:
            return self._call_cuda(np.ascontiguousarray(batch), table)
        x = torch.from_numpy(np.ascontiguousarray(batch))
        if table is not None:
            return self.model(self._layout(x), torch.from_numpy(table).to(self.dtype)).numpy()
        return self.run_tensor(x).numpy()

    def _call_cuda(self, batch: np.ndarray, table: np.ndarray | None) -> np.ndarray:
        host_in = self._upload_buffer(batch.shape)
        np.copyto(host_in.numpy(), batch)
        # after whatever the caller queued on its stream (e.g. `run_tensor` replays of the same graph)
        self._stream.wait_stream(torch.cuda.current_stream(self._stream.device))
        with torch.cuda.stream(self._stream):
            x = host_in.to(self.spec.device, non_blocking=True)
            if table is not None:
                # face-aware looks run eagerly: a graph keyed by the image shape alone would miss the table
                faces = torch.from_numpy(table).to(self.spec.device, self.dtype)
                y = self.model(self._layout(x), faces)
            else:
                y = self.run_tensor(x)
            # a fresh page-locked output (PyTorch's host allocator recycles freed ones): the caller may
            # keep the array while the next frame runs, and no extra host copy is made
            host_out = torch.empty(y.shape, dtype=y.dtype, pin_memory=True)
            host_out.copy_(y, non_blocking=True)
            self._stream.synchronize()  # download done; the upload buffer is free for the next call
        return host_out.numpy()

    def _upload_buffer(self, shape: tuple[int, ...]) -> torch.Tensor:
        buffer = self._uploads.get(shape)
        if buffer is None:
            if len(self._uploads) >= PINNED_SHAPES:  # every copy from them has completed (see above)
                self._uploads.pop(next(iter(self._uploads)))
            buffer = self._uploads[shape] = torch.empty(shape, dtype=torch.uint8, pin_memory=True)
        return buffer

    def _layout(self, x: torch.Tensor) -> torch.Tensor:
        """The uint8 NHWC batch in the memory layout the convolutions should see after the model's permute."""
        if self.planar_input:
            return x.permute(0, 3, 1, 2).contiguous().permute(0, 2, 3, 1)
        return x.contiguous()

    @torch.inference_mode()
    def run_tensor(self, x: torch.Tensor) -> torch.Tensor:
        """uint8 NHWC tensor on this backend's device in, the same out (no host copies).

        Runs on the caller's current stream. With CUDA graphs the result is the graph's own output
        buffer: read or copy it before the next call with the same shape.
        """
        if not self.use_graphs:
            return self.model(self._layout(x))
        key = (tuple(x.shape), x.dtype)
        if key not in self._graphs:
            self._graphs[key] = self._capture(x)
        graph, static_in, static_out = self._graphs[key]
        static_in.copy_(x)
        graph.replay()
        return static_out

    def _capture(self, x: torch.Tensor):
        # Warm up on a side stream first, as the CUDA-graphs documentation requires, then capture once.
        static_in = torch.empty_like(self._layout(x))  # keeps the layout's strides
        static_in.copy_(x)
        side = torch.cuda.Stream(device=x.device)
        side.wait_stream(torch.cuda.current_stream(x.device))
        with torch.cuda.stream(side):
            for _ in range(2):
                self.model(static_in)
        torch.cuda.current_stream(x.device).wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            static_out = self.model(static_in)
        return graph, static_in, static_out
