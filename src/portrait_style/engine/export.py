"""Export a style to ONNX: a small pure function, plus a cache keyed by the weights' content.

Importing this module does not import torch (a cached export is used without it).
The graph is the generator's deployed `forward`: uint8 RGB NHWC in, uint8 RGB NHWC out, with batch,
height and width dynamic (height and width multiples of 4), opset 18, one self-contained file.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import tempfile
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from portrait_style.engine.style_meta import weights_digest
from portrait_style.errors import OutputError
from portrait_style.fileutil import atomic_path
from portrait_style.look.cpu_graph import VERSION as CPU_GRAPH_VERSION

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)

OPSET = 18
INPUT_NAME = "image"
FACES_NAME = "faces"  # face tables, for looks whose light follows the faces (engine/faces/geometry.py)
OUTPUT_NAME = "styled"
# bump when the exported graph changes for the same weights (8: lattice of intercepts; 9: a look's float
# reshaped to NHWC before its rounding)
EXPORTER_VERSION = 9
DYNAMIC_DIMS = ("batch", "height", "width")  # the names of the image's dynamic axes 0, 1, 2


def export_onnx(model: torch.nn.Module, path: str | os.PathLike, opset: int = OPSET) -> Path:
    """Write `model` (a uint8-NHWC generator or look) to `path` atomically."""
    import torch

    from portrait_style.engine.faces.geometry import FACE_COLUMNS, MAX_FACES

    model = model.float().eval().cpu()
    example = (torch.zeros(1, 64, 64, 3, dtype=torch.uint8),)
    axes = dict(enumerate(DYNAMIC_DIMS))
    names, dynamic = [INPUT_NAME], {INPUT_NAME: axes, OUTPUT_NAME: axes}
    if getattr(model, "uses_faces", False):
        example += (torch.zeros(1, MAX_FACES, FACE_COLUMNS),)
        names.append(FACES_NAME)
        dynamic[FACES_NAME] = {0: "batch"}
    with atomic_path(path) as tmp, warnings.catch_warnings():
        # The TorchScript exporter handles this plain conv graph exactly; silence its deprecation notes.
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model,
            example,
            str(tmp),
            dynamo=False,
            opset_version=opset,
            input_names=names,
            output_names=[OUTPUT_NAME],
            dynamic_axes=dynamic,
        )
    return Path(path)


def cache_dir() -> Path:
    root = os.environ.get("PORTRAIT_STYLE_CACHE") or Path.home() / ".cache" / "portrait-style"
    return Path(root)


def convert_fp16(source: str | os.PathLike, target: str | os.PathLike, keep_fp32: Iterable[str] = ()) -> Path:
    """An FP16 copy of an exported graph: float16 weights and arithmetic, the same uint8 image in and out.

    onnxconverter-common's `convert_float_to_float16(keep_io_types=True)` keeps float inputs (the face
    table) float32 and leaves the ops it does not trust in FP16 (Resize among them) in FP32 behind casts.
    Our own uint8 -> float casts still say float32 after it; they are turned to float16, or the graph
    would not type-check. This is what TensorRT 11's strongly typed networks take as "FP16".

    keep_fp32: names of nodes to leave in FP32 as well, weights included (its `node_block_list`), e.g.
    those whose activations overflow FP16, as `portrait-style calibrate` finds them.
    """
    import onnx
    from onnx import TensorProto
    from onnxconverter_common import float16

    keep = list(dict.fromkeys(keep_fp32))
    model = onnx.load(str(source))
    to_float = {
        n.name
        for n in model.graph.node
        if n.op_type == "Cast" and _cast_target(n) == TensorProto.FLOAT and n.name not in keep
    }
    half = float16.convert_float_to_float16(model, keep_io_types=True, node_block_list=keep or None)
    for node in half.graph.node:
        if node.name in to_float:
            for attr in node.attribute:
                if attr.name == "to":
                    attr.i = TensorProto.FLOAT16
    onnx.checker.check_model(half)
    with atomic_path(target) as tmp:
        onnx.save(half, str(tmp))
    return Path(target)


def keep_fp32_record(style_path: str | os.PathLike) -> Path:
    """Where `calibrate` records the nodes a style's FP16 graph keeps in FP32 (JSON list of names)."""
    # node names belong to one FP32 graph: keyed like it (weights, exporter version, opset)
    graph = f"{Path(style_path).stem}-{weights_digest(style_path)}-v{EXPORTER_VERSION}-op{OPSET}"
    return cache_dir() / "onnx" / f"{graph}.fp16-keep.json"


def read_keep_fp32(style_path: str | os.PathLike) -> tuple[str, ...]:
    """The recorded node names, or () when calibrate found none (or the record is unreadable)."""
    try:
        names = json.loads(keep_fp32_record(style_path).read_text())
    except (OSError, ValueError):
        return ()
    return tuple(str(n) for n in names) if isinstance(names, list) else ()


def write_keep_fp32(style_path: str | os.PathLike, names: Iterable[str]) -> None:
    """Record `names` for `cached_onnx(style_path, "fp16")`; an empty list removes the record."""
    record, names = keep_fp32_record(style_path), list(dict.fromkeys(names))
    if not names:
        with contextlib.suppress(OSError):
            record.unlink()
        return
    record.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(record) as tmp:
        tmp.write_text(json.dumps(names, indent=1) + "\n")


def _cast_target(node) -> int | None:
    return next((a.i for a in node.attribute if a.name == "to"), None)


ONNX_PRECISIONS = ("fp32", "fp16")


def cached_onnx(
    style_path: str | os.PathLike,
    precision: str = "fp32",
    keep_fp32: Iterable[str] | None = None,
    cpu_kernels: bool = False,
) -> Path:
    """The ONNX file for a style checkpoint, exported once and reused while the weights are unchanged.

    precision "fp16": the FP16 graph of `convert_fp16`, cached beside the FP32 one it is made from.
    keep_fp32 (fp16 only): nodes left in FP32; None: those `calibrate` recorded for these weights
    (`read_keep_fp32`), none when it has not run. A graph with kept nodes is its own cache entry.
    cpu_kernels (fp32 only): the graph for ONNX Runtime on a CPU, its full-size steps on integer and
    quantisation kernels (look/cpu_graph.py); a graph with nothing to rewrite (a generator's) is
    returned as it is.

    Each entry has a sidecar `<entry>.sha256` ("<hex digest> <size>") written after the export. An
    entry whose bytes no longer match it (truncated, damaged, replaced) is removed and exported again,
    with a one-line warning; an entry without a sidecar (from an older version, or an export cut short
    between the two writes) must pass onnx.checker and have our input and output names first.
    """
    if precision not in ONNX_PRECISIONS:
        raise ValueError(f"ONNX precision must be one of {ONNX_PRECISIONS}: {precision!r}")
    if cpu_kernels and precision != "fp32":
        raise ValueError("the CPU kernels' graph is an FP32 graph")
    digest = weights_digest(style_path)
    tag = f"-cpu{CPU_GRAPH_VERSION}" if cpu_kernels else "" if precision == "fp32" else f"-{precision}"
    keep: tuple[str, ...] = ()
    if precision == "fp16":
        keep = read_keep_fp32(style_path) if keep_fp32 is None else tuple(dict.fromkeys(keep_fp32))
        if keep:
            tag += "-keep" + hashlib.sha256("\n".join(keep).encode()).hexdigest()[:8]
    name = f"{Path(style_path).stem}-{digest}-v{EXPORTER_VERSION}-op{OPSET}{tag}.onnx"
    target = cache_dir() / "onnx" / name
    if target.is_file():
        problem = _cache_entry_problem(target)
        if problem is None:
            return target
        log.warning("ONNX cache entry %s is unusable (%s); exporting it again", target, problem)
        _remove_entry(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError:  # read-only home (containers, CI): export next to other temporary files instead
        target = Path(tempfile.gettempdir()) / "portrait-style-onnx" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_file() and (problem := _cache_entry_problem(target)) is not None:
            log.warning("ONNX cache entry %s is unusable (%s); exporting it again", target, problem)
            _remove_entry(target)
    if not target.is_file():
        if cpu_kernels:
            portable = cached_onnx(style_path, "fp32")
            from portrait_style.engine.graphs import try_cpu_graph

            if not try_cpu_graph(portable, target):
                return portable
        elif precision == "fp16":
            convert_fp16(cached_onnx(style_path, "fp32"), target, keep)
        else:
            from portrait_style.engine.checkpoint import load_style  # torch: only to export

            model, _ = load_style(style_path)
            export_onnx(model, target)
        _write_sidecar(target)
    return target


def _sidecar(entry: Path) -> Path:
    return entry.with_name(entry.name + ".sha256")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _write_sidecar(entry: Path) -> None:
    try:
        with atomic_path(_sidecar(entry)) as tmp:
            tmp.write_text(f"{_sha256(entry)} {entry.stat().st_size}\n")
    except (OSError, OutputError):  # the entry still works; it is checked the slow way next time
        pass


def _remove_entry(entry: Path) -> None:
    for path in (entry, _sidecar(entry)):
        with contextlib.suppress(OSError):
            path.unlink()


def _cache_entry_problem(entry: Path) -> str | None:
    """None when `entry` is a sound export, else what is wrong with it, in a few words."""
    sidecar = _sidecar(entry)
    try:
        size = entry.stat().st_size
        if sidecar.is_file():
            recorded = sidecar.read_text().split()
            if len(recorded) == 2 and recorded[1].isdigit():
                if int(recorded[1]) != size:
                    return f"{size} bytes, {recorded[1]} expected"
                if _sha256(entry) != recorded[0]:
                    return "its content changed since it was written"
                return None
    except OSError as exc:
        return f"unreadable: {exc.strerror or exc}"
    try:  # no (usable) sidecar: check the model itself
        import onnx

        model = onnx.load(str(entry))
        onnx.checker.check_model(model)
        inputs = [i.name for i in model.graph.input]
        outputs = [o.name for o in model.graph.output]
    except Exception as exc:  # noqa: BLE001 - protobuf and checker errors have many types
        return f"not a valid ONNX model: {str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__}"
    if inputs[:1] != [INPUT_NAME] or outputs[:1] != [OUTPUT_NAME]:
        return f"not an exported style (inputs {inputs}, outputs {outputs})"
    _write_sidecar(entry)
    return None


def parity(model: torch.nn.Module, onnx_path: str | os.PathLike, size: int = 64, batch: int = 2) -> int:
    """Largest difference, in uint8 levels, between ONNX Runtime and PyTorch on the same random batch."""
    import numpy as np
    import torch

    from portrait_style.engine.backends.ort_session import ort_session
    from portrait_style.engine.faces.geometry import no_faces

    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (batch, size, size + 4, 3), dtype=np.uint8)
    session = ort_session(onnx_path)
    feeds, extra = {INPUT_NAME: image}, ()
    if getattr(model, "uses_faces", False):  # a face-aware look: one face left of centre in image 0
        faces = no_faces(batch)
        faces[0, 0] = (-0.3, -0.1, 0.5, 1.0)
        feeds[FACES_NAME], extra = faces, (torch.from_numpy(faces),)
    ours = session.run(None, feeds)[0]
    with torch.inference_mode():
        reference = model.float().eval().cpu()(torch.from_numpy(image), *extra).numpy()
    return int(np.abs(ours.astype(np.int16) - reference.astype(np.int16)).max())
