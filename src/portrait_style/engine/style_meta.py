"""A style file's metadata, read without torch: the JSON header of its safetensors file.

The JSON (under the safetensors metadata key "portrait_style") holds everything needed to rebuild the
model (architecture name and constructor arguments) and to use and credit it (style name, training
resolution, face or frame mode, licence and attribution of the training data, training facts). A machine
with only ONNX Runtime (or TensorRT) reads it to pick a mode and a cached engine; nothing here needs
torch, and nothing is unpickled.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, fields
from pathlib import Path

from safetensors import SafetensorError, safe_open

from portrait_style.errors import InputError, ModelError

# Every architecture a style file may name, with where its class lives (imported only to build it).
ARCHITECTURES = {
    "portrait-gen-v1": "portrait_style.engine.model:Generator",
    "portrait-look-v1": "portrait_style.look.model:LookNet",
}
GENERATOR_ARCH = "portrait-gen-v1"
# What `--precision auto` means for an architecture whose arithmetic must stay in fp32 (others take the
# backend's own default). A look is a few multiply-adds a pixel on 0..255 values and table lookups:
# memory-bound, so half precision saves nothing (H200, 1920x1080, batch 1, on the device: `studio` 0.202
# ms in fp16, 0.212 in fp32) and moves pixels (fp16 up to 17 levels on noise frames; bf16 `mono` on a
# webcam portrait at 720p 1.7 levels on average, 9 at the 99.9th percentile; benchmarks/RESULTS.md).
FULL_PRECISION = frozenset({"portrait-look-v1"})
SIZE_MULTIPLE = 4  # every architecture's input height and width must be multiples of this

FORMAT_VERSION = 1
METADATA_KEY = "portrait_style"


@dataclass
class StyleMeta:
    name: str
    arch: str = GENERATOR_ARCH
    arch_args: dict = field(default_factory=dict)
    resolution: int = 256  # side of the square images it was trained on
    mode: str = "face"  # how the engine runs it by default: aligned face crops ("face") or whole frames
    # frame mode: shorter side the frame is stylized at (0: as it comes). A painting's strokes were
    # learned at one scale; on a 4K frame they would shrink to noise.
    frame_size: int = 0
    description: str = ""
    license: str = ""  # of the training data / the resulting weights
    attribution: str = ""
    training: dict = field(default_factory=dict)  # steps, hardware, data, metrics...
    format_version: int = FORMAT_VERSION


def read_meta(path: str | os.PathLike) -> StyleMeta:
    path = Path(path)
    if not path.is_file():
        raise InputError(f"model file not found: {path}")
    try:
        with safe_open(str(path), framework="numpy") as f:
            raw = (f.metadata() or {}).get(METADATA_KEY)
    except (SafetensorError, OSError, ValueError) as exc:
        _refuse_torch_checkpoint(path)
        reason = " ".join(str(exc).split())[:160]
        raise ModelError(f"not a portrait-style model (unreadable safetensors): {path}: {reason}") from None
    if raw is None:
        raise ModelError(f"not a portrait-style model (no '{METADATA_KEY}' metadata): {path}")
    try:
        data = json.loads(raw)
        # fields a newer portrait-style added are dropped, so an older one still runs the file
        known = {f.name for f in fields(StyleMeta)}
        meta = StyleMeta(**{k: v for k, v in data.items() if k in known})
    except (json.JSONDecodeError, TypeError, AttributeError) as exc:
        raise ModelError(f"corrupt model metadata in {path}: {exc}") from None
    if meta.format_version > FORMAT_VERSION:
        raise ModelError(
            f"{path} uses model format {meta.format_version}; this portrait-style reads up to"
            f" {FORMAT_VERSION}. Upgrade portrait-style."
        )
    if meta.arch not in ARCHITECTURES:
        raise ModelError(f"{path}: unknown architecture '{meta.arch}'")
    return meta


def _refuse_torch_checkpoint(path: Path) -> None:
    """A PyTorch file (zip or pickle) given where a style file belongs: say which file to use instead."""
    try:
        with open(path, "rb") as f:
            head = f.read(4096)
    except OSError:
        return
    torch_zip = head.startswith(b"PK\x03\x04") and b"data.pkl" in head  # torch.save's zip format
    torch_suffix = path.suffix.lower() in (".pt", ".pth", ".ckpt", ".bin")
    if not (torch_zip or (torch_suffix and (head.startswith(b"PK\x03\x04") or head[:1] == b"\x80"))):
        return
    if path.parent.name == "checkpoints":  # <run>/checkpoints/last.pt, see trainer/run_files.py
        run = path.parent.parent
        styles = sorted(run.glob("*.safetensors"))
        use = str(styles[0]) if len(styles) == 1 else f"{run}/<name>.safetensors"
        raise ModelError(
            f"{path} is a training checkpoint (for `portrait-style train --resume`), not a portrait-style"
            f" model; use the style file {use}"
        )
    raise ModelError(
        f"{path} is a PyTorch checkpoint, not a portrait-style model (a .safetensors style file written by"
        " `portrait-style train`)"
    )


def weights_digest(path: str | os.PathLike) -> str:
    """Content hash of a checkpoint: caches of derived files (ONNX, engines) are keyed by this, not flags."""
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()[:16]
