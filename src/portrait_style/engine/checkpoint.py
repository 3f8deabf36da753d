"""Style checkpoints: one safetensors file, weights plus a JSON header describing them.

The JSON (under the safetensors metadata key "portrait_style") holds everything needed to rebuild the
model (architecture name and constructor arguments) and to use and credit it (style name, training
resolution, face or frame mode, licence and attribution of the training data, training facts).
Loading never unpickles anything.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, safe_open, save_file

from portrait_style.engine import model as model_lib
from portrait_style.errors import InputError, ModelError
from portrait_style.fileutil import atomic_path

FORMAT_VERSION = 1
METADATA_KEY = "portrait_style"


@dataclass
class StyleMeta:
    name: str
    arch: str = model_lib.ARCH_NAME
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


def save_style(path: str | os.PathLike, model: torch.nn.Module, meta: StyleMeta) -> Path:
    """Write weights + metadata atomically. `meta.arch_args` is filled from the model."""
    meta.arch_args = dict(getattr(model, "arch_args", meta.arch_args))
    tensors = {k: v.detach().to("cpu", torch.float32).contiguous() for k, v in model.state_dict().items()}
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata={METADATA_KEY: json.dumps(asdict(meta))})
    return Path(path)


def read_meta(path: str | os.PathLike) -> StyleMeta:
    path = Path(path)
    if not path.is_file():
        raise InputError(f"model file not found: {path}")
    try:
        with safe_open(str(path), framework="pt") as f:
            raw = (f.metadata() or {}).get(METADATA_KEY)
    except (SafetensorError, OSError, ValueError) as exc:
        raise ModelError(f"not a portrait-style model (unreadable safetensors): {path}: {exc}") from None
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
    if meta.arch not in model_lib.ARCHITECTURES:
        raise ModelError(f"{path}: unknown architecture '{meta.arch}'")
    return meta


def load_style(path: str | os.PathLike) -> tuple[torch.nn.Module, StyleMeta]:
    """Rebuild the model from the stored constructor arguments and load the weights strictly (eval mode)."""
    meta = read_meta(path)
    try:
        model = model_lib.build(meta.arch, meta.arch_args)
        model.load_state_dict(load_file(str(path)), strict=True)
    except (RuntimeError, TypeError, SafetensorError) as exc:
        raise ModelError(f"{path}: weights do not match architecture {meta.arch}: {exc}") from None
    return model.eval(), meta


def weights_digest(path: str | os.PathLike) -> str:
    """Content hash of a checkpoint: caches of derived files (ONNX, engines) are keyed by this, not flags."""
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()[:16]
