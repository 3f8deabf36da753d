import numpy as np
import pytest
import torch

from portrait_style.engine.backends import BACKENDS, available_backends, load_backend
from portrait_style.engine.checkpoint import StyleMeta, load_style, save_style
from portrait_style.engine.model import Generator
from portrait_style.errors import ModelError


@pytest.fixture
def style(tmp_path, monkeypatch):
    monkeypatch.setenv("PORTRAIT_STYLE_CACHE", str(tmp_path / "cache"))
    torch.manual_seed(0)
    return save_style(tmp_path / "s.safetensors", Generator(n_blocks=2), StyleMeta(name="s"))


def test_every_available_backend_agrees_with_the_reference(style):
    rng = np.random.default_rng(0)
    batch = rng.integers(0, 256, (2, 40, 56, 3), dtype=np.uint8)
    model, _ = load_style(style)
    with torch.no_grad():
        reference = model(torch.from_numpy(batch)).numpy().astype(int)
    kinds = available_backends()
    assert {(k.name, k.device) for k in kinds} >= {("onnxruntime", "cpu"), ("torch", "cpu")}
    for kind in kinds:
        backend = kind.create(style)
        backend.warmup(40, 56, batch=2, runs=1)
        out = backend(batch)
        assert out.shape == batch.shape and out.dtype == np.uint8
        # fp16 on CUDA may differ by a few levels; float32 CPU runtimes by at most one after rounding.
        tolerance = 1 if kind.device == "cpu" else 8
        assert np.abs(out.astype(int) - reference).max() <= tolerance, kind


def test_auto_prefers_first_available_row(style):
    backend = load_backend(style, "auto", "auto")
    first = available_backends()[0]
    assert (backend.name, backend.device) == (first.name, first.device)


def test_explicit_cpu_choices(style):
    assert load_backend(style, "torch", "cpu").name == "torch"
    assert load_backend(style, "onnxruntime", "cpu").name == "onnxruntime"


def test_unknown_or_unavailable(style):
    with pytest.raises(ModelError, match="unknown backend"):
        load_backend(style, "tensorflow")
    if not torch.cuda.is_available():
        with pytest.raises(ModelError, match="not available"):
            load_backend(style, "torch", "cuda")


def test_table_rows_are_unique():
    rows = [(k.name, k.device) for k in BACKENDS]
    assert len(rows) == len(set(rows))
