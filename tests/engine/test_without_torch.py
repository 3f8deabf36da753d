"""A machine with ONNX Runtime but no torch reads style metadata and runs a cached export."""

import subprocess
import sys

import torch

from portrait_style.engine.checkpoint import StyleMeta, save_style
from portrait_style.engine.export import cached_onnx
from portrait_style.engine.model import Generator

SCRIPT = """
import sys
sys.modules["torch"] = None  # any `import torch` now fails
import numpy as np
from portrait_style.api import Stylizer
from portrait_style.engine.style_meta import read_meta
meta = read_meta(sys.argv[1])
stylizer = Stylizer(model=sys.argv[1], mode="frame", backend="onnxruntime", device="cpu")
out = stylizer.stylize(np.full((30, 42, 3), 128, np.uint8))
print(meta.name, stylizer.backend.describe(), out.shape)
"""


def test_metadata_and_a_cached_export_need_no_torch(tmp_path, monkeypatch):
    monkeypatch.setenv("PORTRAIT_STYLE_CACHE", str(tmp_path / "cache"))
    torch.manual_seed(0)
    path = save_style(
        tmp_path / "s.safetensors", Generator(n_blocks=1), StyleMeta(name="plain", mode="frame")
    )
    cached_onnx(path)  # exported once, on a machine with torch
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(path)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "plain onnxruntime (cpu, fp32) (30, 42, 3)"
