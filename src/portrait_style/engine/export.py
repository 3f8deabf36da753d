"""Export a style to ONNX: a small pure function, plus a cache keyed by the weights' content.

The graph is the generator's deployed `forward`: uint8 RGB NHWC in, uint8 RGB NHWC out, with batch,
height and width dynamic (height and width multiples of 4), opset 18, one self-contained file.
"""

from __future__ import annotations

import os
import tempfile
import warnings
from pathlib import Path

import torch

from portrait_style.engine import checkpoint
from portrait_style.fileutil import atomic_path

OPSET = 18
INPUT_NAME = "image"
OUTPUT_NAME = "styled"
EXPORTER_VERSION = 1  # bump when the exported graph changes for the same weights


def export_onnx(model: torch.nn.Module, path: str | os.PathLike, opset: int = OPSET) -> Path:
    """Write `model` (a uint8-NHWC generator) to `path` atomically."""
    model = model.float().eval().cpu()
    example = torch.zeros(1, 64, 64, 3, dtype=torch.uint8)
    axes = {0: "batch", 1: "height", 2: "width"}
    with atomic_path(path) as tmp, warnings.catch_warnings():
        # The TorchScript exporter handles this plain conv graph exactly; silence its deprecation notes.
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model,
            (example,),
            str(tmp),
            dynamo=False,
            opset_version=opset,
            input_names=[INPUT_NAME],
            output_names=[OUTPUT_NAME],
            dynamic_axes={INPUT_NAME: axes, OUTPUT_NAME: axes},
        )
    return Path(path)


def cache_dir() -> Path:
    root = os.environ.get("PORTRAIT_STYLE_CACHE") or Path.home() / ".cache" / "portrait-style"
    return Path(root)


def cached_onnx(style_path: str | os.PathLike) -> Path:
    """The ONNX file for a style checkpoint, exported once and reused while the weights are unchanged."""
    digest = checkpoint.weights_digest(style_path)
    name = f"{Path(style_path).stem}-{digest}-v{EXPORTER_VERSION}-op{OPSET}.onnx"
    target = cache_dir() / "onnx" / name
    if target.is_file():
        return target
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError:  # read-only home (containers, CI): export next to other temporary files instead
        target = Path(tempfile.gettempdir()) / "portrait-style-onnx" / name
        target.parent.mkdir(parents=True, exist_ok=True)
    if not target.is_file():
        model, _ = checkpoint.load_style(style_path)
        export_onnx(model, target)
    return target


def parity(model: torch.nn.Module, onnx_path: str | os.PathLike, size: int = 64, batch: int = 2) -> int:
    """Largest difference, in uint8 levels, between ONNX Runtime and PyTorch on the same random batch."""
    import numpy as np
    import onnxruntime as ort

    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (batch, size, size + 4, 3), dtype=np.uint8)
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    ours = session.run(None, {INPUT_NAME: image})[0]
    with torch.inference_mode():
        reference = model.float().eval().cpu()(torch.from_numpy(image)).numpy()
    return int(np.abs(ours.astype(np.int16) - reference.astype(np.int16)).max())
