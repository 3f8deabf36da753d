"""Style checkpoints: one safetensors file, weights plus a JSON header describing them.

The header and its reading live in `style_meta` (no torch needed); this module writes styles and
rebuilds their models. Loading never unpickles anything.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from portrait_style.engine import model as model_lib
from portrait_style.engine.style_meta import (
    FORMAT_VERSION,
    METADATA_KEY,
    StyleMeta,
    read_meta,
    weights_digest,
)
from portrait_style.errors import ModelError
from portrait_style.fileutil import atomic_path

__all__ = [
    "FORMAT_VERSION",
    "METADATA_KEY",
    "StyleMeta",
    "load_style",
    "read_meta",
    "save_style",
    "weights_digest",
]


def save_style(path: str | os.PathLike, model: torch.nn.Module, meta: StyleMeta) -> Path:
    """Write weights + metadata atomically. `meta.arch_args` is filled from the model."""
    meta.arch_args = dict(getattr(model, "arch_args", meta.arch_args))
    tensors = {k: v.detach().to("cpu", torch.float32).contiguous() for k, v in model.state_dict().items()}
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata={METADATA_KEY: json.dumps(asdict(meta))})
    return Path(path)


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
