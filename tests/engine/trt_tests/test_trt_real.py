"""Real TensorRT engines against PyTorch, where TensorRT 10/11 and a CUDA GPU exist (skipped elsewhere).

The tolerances are in uint8 levels. fp32: both sides run their convolutions in TF32 by default on Ampere
and newer (TensorRT's BuilderFlag.TF32 is on unless cleared; torch's cudnn.allow_tf32 likewise), so a
few levels, not one. fp16: FP16 arithmetic throughout the generator.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from portrait_style.engine.backends import BackendSpec, load_backend
from portrait_style.engine.checkpoint import StyleMeta, save_style
from portrait_style.engine.faces.geometry import no_faces
from portrait_style.engine.tensorrt import build
from portrait_style.look.model import LookNet
from tests.models import make_style

pytest.importorskip("tensorrt")
pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="TensorRT needs a CUDA GPU")


def _levels(a: np.ndarray, b: np.ndarray) -> int:
    return int(np.abs(a.astype(np.int16) - b.astype(np.int16)).max())


@pytest.mark.parametrize("precision, tolerance", [("fp32", 3), ("fp16", 8)])
def test_a_generator_engine_matches_torch_and_is_cached(tmp_path, monkeypatch, precision, tolerance):
    monkeypatch.setenv("PORTRAIT_STYLE_CACHE", str(tmp_path / "cache"))
    style = make_style(tmp_path, "face", resolution=64)
    spec = BackendSpec("tensorrt", "cuda", precision, {"max_batch": 2, "max_side": 128})
    engine = load_backend(style, spec)
    reference = load_backend(style, BackendSpec("torch", "cuda", "fp32", {"cuda_graphs": False}))
    batch = np.random.default_rng(0).integers(0, 256, (2, 64, 96, 3), dtype=np.uint8)
    for _ in range(3):  # the first call captures a CUDA graph, the next ones replay it
        assert _levels(engine(batch), reference(batch)) <= tolerance
    assert _levels(engine(batch[:1]), reference(batch[:1])) <= tolerance  # another shape, another graph

    def no_builds(*args, **kwargs):
        raise AssertionError("the cached engine was not used")

    monkeypatch.setattr(build, "build_serialized", no_builds)
    assert _levels(load_backend(style, spec)(batch), reference(batch)) <= tolerance


def test_a_face_aware_look_engine_takes_the_face_tables(tmp_path, monkeypatch):
    monkeypatch.setenv("PORTRAIT_STYLE_CACHE", str(tmp_path / "cache"))
    torch.manual_seed(0)
    meta = StyleMeta(name="look", arch="portrait-look-v1", mode="frame")
    look = save_style(tmp_path / "look.safetensors", LookNet(grid=8, uses_faces=True), meta)
    engine = load_backend(look, BackendSpec("tensorrt", "cuda", "fp32", {"max_side": 256}))
    reference = load_backend(look, BackendSpec("torch", "cuda", "fp32", {"cuda_graphs": False}))
    frame = np.random.default_rng(1).integers(0, 256, (1, 128, 192, 3), dtype=np.uint8)
    faces = no_faces(1)
    faces[0, 0] = (-0.3, -0.1, 0.5, 1.0)
    assert _levels(engine(frame, faces), reference(frame, faces)) <= 3
    assert _levels(engine(frame), reference(frame, no_faces(1))) <= 3
