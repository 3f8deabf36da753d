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
    if meta.arch not in model_lib.ARCHITECTURES:
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


def load_style(path: str | os.PathLike) -> tuple[torch.nn.Module, StyleMeta]:
    """Rebuild the model from the stored constructor arguments and load the weights strictly (eval mode)."""
    meta = read_meta(path)
    try:
        model = model_lib.build(meta.arch, meta.arch_args)
    except (TypeError, ValueError, KeyError, RuntimeError) as exc:
        reason = " ".join(str(exc).split())[:160]
        raise ModelError(f"{path}: its metadata describes no buildable {meta.arch} ({reason})") from None
    try:
        weights = load_file(str(path))
    except (SafetensorError, OSError, RuntimeError) as exc:
        reason = " ".join(str(exc).split())[:160]
        raise ModelError(f"{path}: cannot read the weights (damaged file?): {reason}") from None
    expected = model.state_dict()
    problem = _mismatch(expected, weights)
    if problem:
        raise ModelError(f"{path}: the weights do not match the file's own metadata ({meta.arch}): {problem}")
    try:
        model.load_state_dict(weights, strict=True)
    except (RuntimeError, TypeError) as exc:
        reason = " ".join(str(exc).split())[:160]
        raise ModelError(f"{path}: weights do not match architecture {meta.arch}: {reason}") from None
    return model.eval(), meta


def _mismatch(expected: dict, stored: dict) -> str:
    """One line on how a stored state dict differs from the model's, or "" when it fits."""
    missing = sorted(expected.keys() - stored.keys())
    extra = sorted(stored.keys() - expected.keys())
    shapes = sorted(k for k in expected.keys() & stored.keys() if expected[k].shape != stored[k].shape)
    parts = []
    if shapes:
        k = shapes[0]
        parts.append(
            f"{len(shapes)} tensor(s) of another shape, e.g. {k} is {tuple(stored[k].shape)} in the file,"
            f" {tuple(expected[k].shape)} in the model"
        )
    if missing:
        parts.append(f"{len(missing)} missing, e.g. {missing[0]}")
    if extra:
        parts.append(f"{len(extra)} unexpected, e.g. {extra[0]}")
    return "; ".join(parts)


def weights_digest(path: str | os.PathLike) -> str:
    """Content hash of a checkpoint: caches of derived files (ONNX, engines) are keyed by this, not flags."""
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()[:16]
