"""A deserialized TensorRT engine run on torch CUDA tensors (no pycuda, no host copies).

    engine = Engine(trt, blob, torch.device("cuda:0"), cuda_graphs=True)
    styled = engine.run({"image": x})["styled"]

Each call sets the input shapes and the address of every input and output tensor (`set_input_shape`,
`set_tensor_address(name, tensor.data_ptr())`), then `execute_async_v3` on the engine's own CUDA stream,
ordered after the caller's stream and before it again: TensorRT warns that the default stream costs extra
device synchronisations. Outputs are torch tensors of the engine's output types.

cuda_graphs: each input shape gets its own execution context, static input and output tensors and a CUDA
graph, captured after one plain run (trtexec does the same, so that one-time initialisation stays out of
the graph) and replayed from then on; its outputs are overwritten by the next call of that shape. When
capture fails (an engine with operations CUDA graphs do not allow), it runs without graphs from then on.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from types import ModuleType

import torch

from portrait_style.engine.tensorrt.cache import Gpu
from portrait_style.errors import ModelError

log = logging.getLogger(__name__)

MAX_GRAPHS = 8  # captured shapes per engine; each holds an execution context and its device memory

# TensorRT DataType member names (tensorrt.DataType) -> torch dtypes
TORCH_DTYPES = {
    "FLOAT": torch.float32,
    "HALF": torch.float16,
    "BF16": torch.bfloat16,
    "INT8": torch.int8,
    "INT32": torch.int32,
    "INT64": torch.int64,
    "BOOL": torch.bool,
    "UINT8": torch.uint8,
}

Shape = tuple[int, ...]


def gpu_of(device: torch.device) -> Gpu:
    return Gpu(torch.cuda.get_device_name(device), tuple(torch.cuda.get_device_capability(device)))


def torch_dtype(trt_dtype) -> torch.dtype:
    try:
        return TORCH_DTYPES[trt_dtype.name]
    except KeyError:
        raise ModelError(
            f"the TensorRT engine has a tensor of type {trt_dtype.name}, which torch lacks"
        ) from None


@dataclass(frozen=True)
class TensorIO:
    """What an engine takes and gives, read once from the engine."""

    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    dtypes: dict[str, torch.dtype]
    ranges: dict[str, tuple[Shape, Shape]]  # input -> (min, max) shape of optimisation profile 0


def tensor_io(trt: ModuleType, engine) -> TensorIO:
    names = [engine.get_tensor_name(i) for i in range(engine.num_io_tensors)]
    inputs = tuple(n for n in names if engine.get_tensor_mode(n) == trt.TensorIOMode.INPUT)
    outputs = tuple(n for n in names if engine.get_tensor_mode(n) == trt.TensorIOMode.OUTPUT)
    ranges = {}
    for name in inputs:
        lo, _opt, hi = engine.get_tensor_profile_shape(name, 0)
        ranges[name] = (tuple(lo), tuple(hi))
    return TensorIO(inputs, outputs, {n: torch_dtype(engine.get_tensor_dtype(n)) for n in names}, ranges)


def bind(context, io: TensorIO, feeds: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Give `context` the shapes and addresses of `feeds` and of new output tensors, which it returns.

    `feeds` must be contiguous tensors of the engine's input types, on one device (see `Engine.run`).
    """
    for name in io.inputs:
        tensor = feeds[name]
        if tensor.dtype != io.dtypes[name] or not tensor.is_contiguous():
            given = f"{'' if tensor.is_contiguous() else 'non-contiguous '}{tensor.dtype}"
            raise ValueError(f"{name}: needs a contiguous {io.dtypes[name]} tensor, not {given}")
        if not context.set_input_shape(name, tuple(tensor.shape)):
            lo, hi = io.ranges[name]
            raise ModelError(
                f"this TensorRT engine takes {name} shapes from {lo} to {hi}, not {tuple(tensor.shape)};"
                " raise --backend-option max_side or max_batch (a new engine is built once)"
            )
        context.set_tensor_address(name, tensor.data_ptr())
    device = feeds[io.inputs[0]].device
    outputs = {}
    for name in io.outputs:
        outputs[name] = torch.empty(
            tuple(context.get_tensor_shape(name)), dtype=io.dtypes[name], device=device
        )
        context.set_tensor_address(name, outputs[name].data_ptr())
    return outputs


class Engine:
    def __init__(self, trt: ModuleType, blob: bytes, device: torch.device, cuda_graphs: bool = True):
        self.device = torch.device(device)
        self.cuda_graphs = cuda_graphs
        with torch.cuda.device(self.device):
            self._logger = trt.Logger(trt.Logger.WARNING)  # TensorRT objects keep a reference to these
            self._runtime = trt.Runtime(self._logger)
            self.engine = self._runtime.deserialize_cuda_engine(blob)
            if self.engine is None:
                raise ModelError("TensorRT could not load the cached engine (its log above says why)")
            self.io = tensor_io(trt, self.engine)
            self.context = self.engine.create_execution_context()
            self.stream = torch.cuda.Stream(self.device)
        # input shapes -> (context, graph, static inputs, static outputs)
        self._graphs: dict[tuple, tuple] = {}

    @property
    def inputs(self) -> tuple[str, ...]:
        return self.io.inputs

    def run(self, feeds: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Inputs by name (any device and type: converted here) -> outputs by name, on this engine's GPU."""
        missing = [name for name in self.io.inputs if name not in feeds]
        if missing:
            raise ValueError(f"the TensorRT engine needs inputs {list(self.io.inputs)}; missing {missing}")
        feeds = {n: feeds[n].to(self.device, self.io.dtypes[n]).contiguous() for n in self.io.inputs}
        with torch.cuda.device(self.device):
            caller = torch.cuda.current_stream()
            self.stream.wait_stream(caller)  # the inputs were written on the caller's stream
            key = tuple(tuple(t.shape) for t in feeds.values())
            if self.cuda_graphs and key not in self._graphs and len(self._graphs) < MAX_GRAPHS:
                self._capture(key, feeds)
            if self.cuda_graphs and key in self._graphs:
                _context, graph, static_in, outputs = self._graphs[key]
                with torch.cuda.stream(self.stream):
                    for name, tensor in feeds.items():
                        static_in[name].copy_(tensor)
                    graph.replay()
            else:  # outputs allocated on the caller's stream, which waits below before it uses them
                outputs = bind(self.context, self.io, feeds)
                self._execute(self.context)
            caller.wait_stream(self.stream)
        return outputs

    def _execute(self, context) -> None:
        if not context.execute_async_v3(self.stream.cuda_stream):
            raise ModelError("TensorRT failed to run the engine (its log above says why)")

    def _capture(self, key: tuple, feeds: Mapping[str, torch.Tensor]) -> None:
        context = self.engine.create_execution_context()
        with torch.cuda.stream(self.stream):  # the static tensors live as long as the graph
            static_in = {name: tensor.clone() for name, tensor in feeds.items()}
            static_out = bind(context, self.io, static_in)
            self._execute(context)
        self.stream.synchronize()
        graph = torch.cuda.CUDAGraph()
        try:
            with torch.cuda.graph(graph, stream=self.stream, capture_error_mode="thread_local"):
                captured = context.execute_async_v3(self.stream.cuda_stream)
        except RuntimeError as exc:
            captured, reason = False, " ".join(str(exc).split())[:160]
        else:
            reason = "execute_async_v3 returned False"
        if not captured:
            log.warning("TensorRT engine: CUDA graph capture failed (%s); running without graphs", reason)
            self.cuda_graphs = False
            return
        self._graphs[key] = (context, graph, static_in, static_out)
