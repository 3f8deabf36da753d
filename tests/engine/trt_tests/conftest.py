"""Fixtures for the TensorRT tests: a private cache folder, small real style files, and a fake ONNX export.

This folder is not called `tensorrt`: pytest puts tests/engine on sys.path (rootdir-style imports), where
a folder of that name would be found by `import tensorrt` as a namespace package.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from portrait_style.engine.checkpoint import StyleMeta, save_style
from portrait_style.engine.style_meta import read_meta
from portrait_style.engine.tensorrt import build
from portrait_style.look.model import LookNet
from tests.engine.trt_tests.fake_tensorrt import write_onnx
from tests.models import make_style


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("PORTRAIT_STYLE_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache" / "tensorrt"


@pytest.fixture
def generator(tmp_path) -> Path:
    """A face-mode generator style, trained at 256."""
    return make_style(tmp_path, "face", resolution=256)


@pytest.fixture
def look(tmp_path) -> Path:
    """A frame-mode look whose light follows the faces (a second input, the face tables)."""
    meta = StyleMeta(name="test-look", arch="portrait-look-v1", mode="frame")
    return save_style(tmp_path / "look.safetensors", LookNet(grid=8, uses_faces=True), meta)


@pytest.fixture
def exports(tmp_path, monkeypatch) -> list[str]:
    """`cached_onnx` replaced by fake graphs (fake_tensorrt.write_onnx); the precisions asked, in order."""
    asked = []

    def fake_cached_onnx(style_path, precision="fp32"):
        asked.append(precision)
        inputs = ["image", "faces"] if read_meta(style_path).arch_args.get("uses_faces") else ["image"]
        return write_onnx(tmp_path / f"{Path(style_path).stem}-{precision}.onnx", precision, inputs)

    monkeypatch.setattr(build, "cached_onnx", fake_cached_onnx)
    return asked
