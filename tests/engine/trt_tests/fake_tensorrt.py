"""A stand-in `tensorrt` module: the API surface the tensorrt backend uses, in a 10.x and an 11.x flavour.

Names, arguments and return values follow the Python bindings of TensorRT 10.16.1 and 11.1
(NVIDIA/TensorRT python/src/infer/pyCore.cpp, python/src/parsers/pyOnnx.cpp). The 11.x module lacks what
11.0 removed: BuilderFlag.FP16/BF16/INT8/FP8 and NetworkDefinitionCreationFlag.EXPLICIT_BATCH (and its
STRONGLY_TYPED is 0, as in the 11.1 headers; 1 in 10.x).

Every call is recorded in `module.calls` as (name, args). The "ONNX files" it parses are JSON written by
`write_onnx`; a built "engine" is JSON too: inputs, profile and the layers its inspector reports, which
are FP16 when the parsed graph is FP16 or (10.x) BuilderFlag.FP16 was set and `module.fp16_kernels` is
true. Running a context reads and writes the bound addresses, so host (CPU) tensors work: each image comes
back inverted (255 - x), or unchanged when its face table has a valid row.
"""

from __future__ import annotations

import ctypes
import enum
import importlib.machinery
import json
import types
from pathlib import Path
from types import SimpleNamespace

import numpy as np

DTYPES = {"image": "UINT8", "faces": "FLOAT", "styled": "UINT8"}


def write_onnx(path: Path, precision: str, inputs: list[str]) -> Path:
    path.write_text(json.dumps({"precision": precision, "inputs": inputs}))
    return path


def make_tensorrt(version: str = "10.13.3.9", fp16_kernels: bool = True) -> types.ModuleType:
    trt = types.ModuleType("tensorrt")
    trt.__version__ = version
    trt.__spec__ = importlib.machinery.ModuleSpec("tensorrt", None)  # importlib.util.find_spec needs it
    trt.calls = []
    trt.fp16_kernels = fp16_kernels
    major = int(version.split(".")[0])

    def record(name, *args):
        trt.calls.append((name, args))

    trt.DataType = enum.Enum("DataType", "FLOAT HALF BF16 INT8 INT32 INT64 BOOL UINT8 FP8 INT4 FP4")
    trt.TensorIOMode = enum.Enum("TensorIOMode", "NONE INPUT OUTPUT")
    trt.MemoryPoolType = enum.IntEnum("MemoryPoolType", {"WORKSPACE": 0, "TACTIC_DRAM": 4})
    trt.ProfilingVerbosity = enum.Enum("ProfilingVerbosity", "LAYER_NAMES_ONLY NONE DETAILED")
    trt.LayerInformationFormat = enum.Enum("LayerInformationFormat", "ONELINE JSON")
    if major == 10:
        trt.BuilderFlag = enum.IntEnum("BuilderFlag", {"FP16": 0, "BF16": 1, "INT8": 2, "TF32": 7})
        trt.NetworkDefinitionCreationFlag = enum.IntEnum("Flag", {"EXPLICIT_BATCH": 0, "STRONGLY_TYPED": 1})
    else:
        trt.BuilderFlag = enum.IntEnum("BuilderFlag", {"DEBUG": 0, "REFIT": 1, "TF32": 7})
        trt.NetworkDefinitionCreationFlag = enum.IntEnum("Flag", {"STRONGLY_TYPED": 0})

    class Logger:
        WARNING = "WARNING"

        def __init__(self, min_severity="WARNING"):
            self.min_severity = min_severity

    class Network:
        def __init__(self, flags):
            self.flags, self.inputs, self.precision = flags, [], None

        @property
        def num_inputs(self):
            return len(self.inputs)

        def get_input(self, index):
            return SimpleNamespace(name=self.inputs[index])

    class OnnxParser:
        def __init__(self, network, logger):
            self.network, self.errors = network, []

        def parse_from_file(self, model):
            record("parse_from_file", model)
            try:
                graph = json.loads(Path(model).read_text())
            except (OSError, ValueError) as exc:
                self.errors.append(SimpleNamespace(desc=lambda exc=exc: f"cannot read the model: {exc}"))
                return False
            self.network.inputs, self.network.precision = graph["inputs"], graph["precision"]
            return True

        @property
        def num_errors(self):
            return len(self.errors)

        def get_error(self, index):
            return self.errors[index]

    class TimingCache:
        def __init__(self, data):
            self.data = bytes(data)

        def serialize(self):
            return self.data or b"fake-timing-cache"

    class OptimizationProfile:
        def __init__(self):
            self.shapes = {}

        def set_shape(self, input, min, opt, max):  # noqa: A002 - TensorRT's argument names
            record("set_shape", input, tuple(min), tuple(opt), tuple(max))
            self.shapes[input] = [list(min), list(opt), list(max)]

    class BuilderConfig:
        def __init__(self):
            self.flags, self.profiles, self.timing_cache = set(), [], None
            self.profiling_verbosity = trt.ProfilingVerbosity.LAYER_NAMES_ONLY

        def set_flag(self, flag):
            record("set_flag", flag)
            self.flags.add(flag)

        def set_memory_pool_limit(self, pool, pool_size):
            record("set_memory_pool_limit", pool, pool_size)

        def add_optimization_profile(self, profile):
            self.profiles.append(profile)
            return len(self.profiles) - 1

        def create_timing_cache(self, serialized_timing_cache):
            record("create_timing_cache", bytes(serialized_timing_cache))
            return TimingCache(serialized_timing_cache)

        def set_timing_cache(self, cache, ignore_mismatch):
            record("set_timing_cache", cache.data, ignore_mismatch)
            self.timing_cache = cache
            return cache.data in (b"", b"fake-timing-cache")  # anything else: "another device"

    class Builder:
        def __init__(self, logger):
            self.logger = logger

        def create_network(self, flags=0):
            record("create_network", flags)
            return Network(flags)

        def create_builder_config(self):
            return BuilderConfig()

        def create_optimization_profile(self):
            return OptimizationProfile()

        def build_serialized_network(self, network, config):
            record("build_serialized_network", network.precision, sorted(config.flags))
            shapes = config.profiles[0].shapes if config.profiles else {}
            if sorted(shapes) != sorted(network.inputs):
                return None  # TensorRT: every dynamic input needs a profile
            fp16_flag = getattr(trt.BuilderFlag, "FP16", None) in config.flags
            half = network.precision == "fp16" or (fp16_flag and trt.fp16_kernels)
            detailed = config.profiling_verbosity == trt.ProfilingVerbosity.DETAILED
            return json.dumps({"profile": shapes, "half": half, "detailed": detailed}).encode()

    class Inspector:
        def __init__(self, engine):
            self.engine = engine

        def get_engine_information(self, format):  # noqa: A002
            record("get_engine_information", format)
            if not self.engine.built["detailed"]:
                return json.dumps({"Layers": ["conv1", "conv2"]})
            kind = "FP16" if self.engine.built["half"] else "FP32"
            dtype = "Half" if self.engine.built["half"] else "Float"

            def tensor(name):
                if major == 10:
                    return {"Name": name, "Format/Datatype": f"Row major linear {kind} format"}
                return {"Name": name, "Format": f"Row major linear {kind} format", "DataType": dtype}

            def layer(name, kind, inputs, outputs):
                return {"Name": name, "LayerType": kind, "Inputs": inputs, "Outputs": outputs}

            layers = [
                layer("cast", "Cast", [{"Name": "image"}], [tensor("x")]),
                layer("conv1", "CaskConvolution", [tensor("x")], [tensor("y")]),
            ]
            io = {"Bindings": list(self.engine.names)} if major == 10 else {"I/O Tensors": []}
            return json.dumps({"Layers": layers, **io})

    class Context:
        def __init__(self, engine):
            self.engine, self.shapes, self.addresses = engine, {}, {}

        def set_input_shape(self, name, shape):
            record("set_input_shape", name, tuple(shape))
            lo, _, hi = self.engine.built["profile"][name]
            if len(shape) != len(lo) or not all(a <= s <= b for a, s, b in zip(lo, shape, hi, strict=True)):
                return False
            self.shapes[name] = tuple(shape)
            return True

        def get_tensor_shape(self, name):
            return self.shapes["image" if name == "styled" else name]

        def set_tensor_address(self, name, memory):
            record("set_tensor_address", name, memory)
            self.addresses[name] = memory

        def execute_async_v3(self, stream_handle):
            record("execute_async_v3", stream_handle)
            shape = self.shapes["image"]
            size = int(np.prod(shape))
            image = np.frombuffer(ctypes.string_at(self.addresses["image"], size), np.uint8).reshape(shape)
            out = 255 - image
            if "faces" in self.shapes:
                count = int(np.prod(self.shapes["faces"]))
                raw = ctypes.string_at(self.addresses["faces"], 4 * count)
                faces = np.frombuffer(raw, np.float32).reshape(self.shapes["faces"])
                out = np.where(faces[:, :, 3].max(axis=1)[:, None, None, None] > 0, image, out)
            ctypes.memmove(self.addresses["styled"], np.ascontiguousarray(out).ctypes.data, size)
            return True

    class Engine:
        def __init__(self, built):
            self.built = built
            self.names = [*built["profile"], "styled"]

        @property
        def num_io_tensors(self):
            return len(self.names)

        def get_tensor_name(self, index):
            return self.names[index]

        def get_tensor_mode(self, name):
            return trt.TensorIOMode.OUTPUT if name == "styled" else trt.TensorIOMode.INPUT

        def get_tensor_dtype(self, name):
            return trt.DataType[DTYPES[name]]

        def get_tensor_profile_shape(self, name, profile_index):
            return self.built["profile"][name]

        def create_execution_context(self):
            return Context(self)

        def create_engine_inspector(self):
            return Inspector(self)

    class Runtime:
        def __init__(self, logger):
            self.logger = logger

        def deserialize_cuda_engine(self, serialized_engine):
            record("deserialize_cuda_engine", len(serialized_engine))
            try:
                return Engine(json.loads(bytes(serialized_engine)))
            except ValueError:
                return None

    trt.Logger, trt.Builder, trt.OnnxParser, trt.Runtime = Logger, Builder, OnnxParser, Runtime
    return trt


def called(trt: types.ModuleType, name: str) -> list[tuple]:
    """The arguments of every recorded call of `name`."""
    return [args for called_name, args in trt.calls if called_name == name]
