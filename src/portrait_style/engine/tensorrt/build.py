"""ONNX -> serialized TensorRT engine: one optimisation profile, the timing cache, and a precision check.

    blob = engine_bytes(trt, "style.safetensors", "fp16", spec.options, Gpu("NVIDIA H200", (9, 0)))

The profile covers what the engine will be given (`profile_for`): face crops of a face-mode style, batch
1..max_batch (default 8) and sides up to its training resolution; whole frames for a frame-mode style
(a look), batch 1 and sides up to 1920. A look whose light follows the faces has a second input, the face
tables [N, MAX_FACES, 4], in the same batch range. Options `max_batch` and `max_side` change the ranges.

After an fp16 build the engine inspector must report at least one layer computing in FP16, or the build
fails with one ModelError line: TensorRT may keep every layer in FP32 (it picks per layer what it times
fastest), and an "fp16" engine that is FP32 inside would be a wrong label on every benchmark.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType

from portrait_style.engine.export import FACES_NAME, INPUT_NAME, cached_onnx
from portrait_style.engine.faces.geometry import FACE_COLUMNS, MAX_FACES
from portrait_style.engine.style_meta import SIZE_MULTIPLE, StyleMeta, read_meta
from portrait_style.engine.tensorrt import cache
from portrait_style.engine.tensorrt.versions import Recipe, recipe
from portrait_style.errors import ModelError

log = logging.getLogger(__name__)

FACE_BATCH = 8  # default max_batch in face mode: faces styled in one call
FRAME_SIDE = 1920  # default max_side in frame mode: a 1080p frame either way up
MIN_SIDE = 64

Shape = tuple[int, ...]
Profile = tuple[tuple[str, Shape, Shape, Shape], ...]  # (input name, min, opt, max) per input


def _round(side: float) -> int:
    return max(SIZE_MULTIPLE, int(side) // SIZE_MULTIPLE * SIZE_MULTIPLE)


def profile_for(meta: StyleMeta, options: Mapping[str, object]) -> Profile:
    """The optimisation profile for a style run in its own mode, with `max_batch`/`max_side` applied.

    opt, the shape TensorRT times its kernels at: batch 1 (one face, or one frame); a face crop at the
    training resolution, or a 16:9 frame whose shorter side is the style's `frame_size` (else 9/16 of
    max_side).
    """
    face_mode = meta.mode == "face"
    max_batch = int(options.get("max_batch", FACE_BATCH if face_mode else 1))
    hi = _round(int(options.get("max_side", meta.resolution if face_mode else FRAME_SIDE)))
    lo = min(MIN_SIDE, hi)
    if face_mode:
        opt_h = opt_w = min(max(_round(meta.resolution), lo), hi)
    else:
        short = meta.frame_size or hi * 9 / 16
        opt_h, opt_w = (min(max(_round(s), lo), hi) for s in (short, short * 16 / 9))
    profile = [(INPUT_NAME, (1, lo, lo, 3), (1, opt_h, opt_w, 3), (max_batch, hi, hi, 3))]
    if meta.arch_args.get("uses_faces"):
        table = (MAX_FACES, FACE_COLUMNS)
        profile.append((FACES_NAME, (1, *table), (1, *table), (max_batch, *table)))
    return tuple(profile)


def build_serialized(
    trt: ModuleType,
    onnx_path: Path,
    how: Recipe,
    profile: Profile,
    timing_cache: bytes = b"",
    workspace_mb: int | None = None,
) -> tuple[bytes, bytes]:
    """(serialized engine, serialized timing cache) for the graph at `onnx_path`; ModelError if it fails."""
    logger = trt.Logger(trt.Logger.WARNING)
    builder = trt.Builder(logger)
    network = builder.create_network(0)  # see versions.py for why no creation flags, in 10 and in 11
    parser = trt.OnnxParser(network, logger)
    if not parser.parse_from_file(str(onnx_path)):
        errors = [parser.get_error(i).desc() for i in range(parser.num_errors)]
        raise ModelError(
            f"TensorRT cannot read {onnx_path.name}: {errors[0] if errors else 'no reason given'}"
        )
    inputs = sorted(network.get_input(i).name for i in range(network.num_inputs))
    if inputs != sorted(name for name, *_ in profile):
        raise ModelError(f"{onnx_path.name} has inputs {inputs}; its style metadata promised {profile}")

    config = builder.create_builder_config()
    for flag in how.builder_flags:
        config.set_flag(flag)
    config.profiling_verbosity = trt.ProfilingVerbosity.DETAILED  # layer types for `verify_precision`
    if workspace_mb:
        config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, workspace_mb << 20)
    shapes = builder.create_optimization_profile()
    for name, lo, opt, hi in profile:
        shapes.set_shape(name, lo, opt, hi)
    config.add_optimization_profile(shapes)
    timings = config.create_timing_cache(timing_cache)
    if not config.set_timing_cache(timings, ignore_mismatch=False):
        log.warning("TensorRT refused the saved timing cache (another GPU or version?); starting a new one")
        timings = config.create_timing_cache(b"")
        config.set_timing_cache(timings, ignore_mismatch=False)

    blob = builder.build_serialized_network(network, config)
    if blob is None:
        raise ModelError(f"TensorRT could not build an engine from {onnx_path.name} (its log above says why)")
    return bytes(blob), bytes(timings.serialize())


# Inspector JSON (ProfilingVerbosity.DETAILED): {"Layers": [{"Name", "LayerType", "Inputs": [tensor],
# "Outputs": [tensor], ...}], ...}. TensorRT 10 gives each tensor one "Format/Datatype" string, e.g.
# "Row major linear FP16 format" or "Half"; 11.x splits it into "Format" and "DataType" (migration guide,
# "IEngineInspector JSON Output"). Any non-name string of a layer's tensors that says FP16 or Half counts.
_HALF = re.compile(r"\b(FP16|Half)\b", re.IGNORECASE)


def half_layers(engine_information: str) -> list[str]:
    """Names of the layers that read or write FP16 tensors, from the inspector's JSON engine information.

    Reformat layers only convert between types and layouts; they do not count.
    """
    layers = json.loads(engine_information).get("Layers", [])
    found = []
    for layer in layers:
        if not isinstance(layer, dict) or layer.get("LayerType") == "Reformat":
            continue  # a bare string: built without DETAILED verbosity, nothing to go by
        tensors = [t for t in (*layer.get("Inputs", []), *layer.get("Outputs", [])) if isinstance(t, dict)]
        if any(k != "Name" and isinstance(v, str) and _HALF.search(v) for t in tensors for k, v in t.items()):
            found.append(str(layer.get("Name", "?")))
    return found


def verify_precision(trt: ModuleType, blob: bytes, precision: str, what: str) -> None:
    """For fp16, one ModelError line unless the engine's inspector reports a layer computing in FP16."""
    if precision != "fp16":
        return
    runtime = trt.Runtime(trt.Logger(trt.Logger.WARNING))
    engine = runtime.deserialize_cuda_engine(blob)
    if engine is None:
        raise ModelError(f"TensorRT cannot load the engine it has just built for {what}")
    information = engine.create_engine_inspector().get_engine_information(trt.LayerInformationFormat.JSON)
    if not half_layers(information):
        raise ModelError(
            f"TensorRT built the fp16 engine for {what} without a single FP16 layer (every layer stayed in"
            " FP32 or integer types); use --precision fp32, or a GPU with fast FP16"
        )


def engine_bytes(
    trt: ModuleType, style_path: str | Path, precision: str, options: Mapping[str, object], gpu: cache.Gpu
) -> bytes:
    """The serialized engine of a style for this TensorRT and GPU: cached, or built, checked and cached."""
    style_path = Path(style_path)
    how = recipe(trt, precision)  # an unsupported TensorRT or precision fails here, before any work
    onnx_path = cached_onnx(style_path, how.onnx_precision)  # exported once; its name is part of the key
    profile = profile_for(read_meta(style_path), options)
    workspace_mb = options.get("workspace_mb")
    key = cache.engine_key(style_path, onnx_path, trt.__version__, gpu, precision, profile, workspace_mb)
    path = cache.engine_path(key, style_path.stem)
    blob = cache.read_engine(path, key)
    if blob is not None:
        return blob
    log.info("building the TensorRT %s engine %s (once per GPU model and TensorRT version)", precision, path)
    timing_path = cache.timing_cache_path(trt.__version__, gpu)
    timing = cache.read_timing_cache(timing_path)
    blob, timing = build_serialized(trt, onnx_path, how, profile, timing, workspace_mb)
    cache.write_timing_cache(timing_path, timing)  # measured timings stay true whatever the check says
    verify_precision(trt, blob, precision, style_path.name)
    cache.write_engine(path, key, blob)
    return blob
