"""Built TensorRT engines and the builder's timing cache, kept under `export.cache_dir() / "tensorrt"`.

An engine runs only with the TensorRT version and on the GPU model it was built for (we use neither of
TensorRT's version- or hardware-compatibility modes), and it is only right for the weights, precision
and shapes it was built with. Its key is all of these:

    weights digest x ONNX graph x TensorRT version x GPU name x compute capability x precision
    x optimisation profile (min/opt/max of every input) x builder workspace limit

The ONNX graph is named by the file name of its cached export (`export.cached_onnx`), which changes with
the weights, the exporter version and the variant of the graph (FP32 or FP16, and how it was made).

The file name holds a digest of the key, so another key is another file: a stale or foreign engine is
never found, it is built anew. Each engine has a JSON sidecar with the key parts, its size and its
SHA-256; an entry whose sidecar is missing, names another key or does not match the bytes (truncated,
damaged) is removed and built again, with a one-line warning. Every file is written atomically.

The timing cache (layer timings the builder measured) is shared by all styles; its key is the TensorRT
version and the GPU, as TensorRT refuses a timing cache made on another device.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from portrait_style.engine.export import cache_dir
from portrait_style.engine.style_meta import weights_digest
from portrait_style.errors import OutputError
from portrait_style.fileutil import atomic_path

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Gpu:
    name: str  # e.g. "NVIDIA H200"
    capability: tuple[int, int]  # CUDA compute capability, e.g. (9, 0)


@dataclass(frozen=True)
class EngineKey:
    weights: str  # `style_meta.weights_digest` of the style file
    graph: str  # file name of the cached ONNX export the engine is built from
    tensorrt: str  # the full TensorRT version, e.g. "10.13.3.9"
    gpu: str
    capability: str  # "9.0"
    precision: str
    profile: tuple  # ((input name, min shape, opt shape, max shape), ...)
    workspace_mb: int | None  # builder workspace limit; None: TensorRT's default

    def parts(self) -> dict:
        """The key as JSON values (tuples become lists), as the sidecar records it."""
        return json.loads(json.dumps(asdict(self)))

    def digest(self) -> str:
        return hashlib.sha256(json.dumps(self.parts(), sort_keys=True).encode()).hexdigest()[:16]


def engine_key(
    style_path: str | Path,
    onnx_path: Path,
    tensorrt_version: str,
    gpu: Gpu,
    precision: str,
    profile: tuple,
    workspace_mb: int | None = None,
) -> EngineKey:
    return EngineKey(
        weights=weights_digest(style_path),
        graph=Path(onnx_path).name,
        tensorrt=str(tensorrt_version),
        gpu=gpu.name,
        capability=f"{gpu.capability[0]}.{gpu.capability[1]}",
        precision=precision,
        profile=profile,
        workspace_mb=workspace_mb,
    )


def folder() -> Path:
    """The engine folder; a temporary one when the cache folder cannot be made (read-only home)."""
    target = cache_dir() / "tensorrt"
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError:
        target = Path(tempfile.gettempdir()) / "portrait-style-tensorrt"
        target.mkdir(parents=True, exist_ok=True)
    return target


def engine_path(key: EngineKey, stem: str) -> Path:
    return folder() / f"{stem}-{key.weights}-{key.precision}-{key.digest()}.engine"


def _sidecar(entry: Path) -> Path:
    return entry.with_name(entry.name + ".json")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_engine(path: Path, key: EngineKey) -> bytes | None:
    """The cached engine for `key`, or None: absent, or unusable (then removed, with one warning line)."""
    if not path.is_file():
        return None
    problem = None
    try:
        blob = path.read_bytes()
        record = json.loads(_sidecar(path).read_text())
        differs = [name for name, value in key.parts().items() if record["key"].get(name) != value]
        if differs:
            problem = f"built for another {differs[0]}"
        elif record["size"] != len(blob):
            problem = f"{len(blob)} bytes, {record['size']} expected"
        elif record["sha256"] != _sha256(blob):
            problem = "its content changed since it was written"
    except FileNotFoundError:
        problem = "no record of what it was built for"
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        problem = f"unreadable record: {type(exc).__name__}"
    if problem is None:
        return blob
    log.warning("TensorRT engine %s is unusable (%s); building it again", path, problem)
    for stale in (path, _sidecar(path)):
        with contextlib.suppress(OSError):
            stale.unlink()
    return None


def write_engine(path: Path, key: EngineKey, blob: bytes) -> None:
    """Engine first, then its sidecar: a write cut short in between leaves an entry that is rebuilt.

    A failed write is a warning: the engine in memory still runs, it is only built again next time.
    """
    record = {"key": key.parts(), "size": len(blob), "sha256": _sha256(blob)}
    try:
        with atomic_path(path) as tmp:
            tmp.write_bytes(blob)
        with atomic_path(_sidecar(path)) as tmp:
            tmp.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
    except (OSError, OutputError) as exc:
        log.warning("could not save the TensorRT engine %s: %s", path, exc)


def timing_cache_path(tensorrt_version: str, gpu: Gpu) -> Path:
    tag = hashlib.sha256(json.dumps([str(tensorrt_version), gpu.name, gpu.capability]).encode())
    return folder() / f"timing-{tag.hexdigest()[:16]}.cache"


def read_timing_cache(path: Path) -> bytes:
    """The serialized timing cache, or b"" (TensorRT's "start a new one")."""
    try:
        return path.read_bytes()
    except OSError:
        return b""


def write_timing_cache(path: Path, blob: bytes) -> None:
    try:
        with atomic_path(path) as tmp:
            tmp.write_bytes(blob)
    except (OSError, OutputError) as exc:  # only the next build's speed depends on it
        log.warning("could not save the TensorRT timing cache %s: %s", path, exc)
