import numpy as np
import onnx
import onnxruntime as ort
import torch

from portrait_style.engine import export
from portrait_style.engine.checkpoint import StyleMeta, save_style
from portrait_style.engine.model import Generator


def test_onnx_matches_pytorch_with_dynamic_batch_and_size(tmp_path):
    torch.manual_seed(0)
    model = Generator(n_blocks=2)
    path = export.export_onnx(model, tmp_path / "g.onnx")
    graph = onnx.load(str(path))
    onnx.checker.check_model(graph)
    assert graph.opset_import[0].version >= 17
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    for shape in [(1, 64, 64, 3), (3, 48, 80, 3)]:
        x = rng.integers(0, 256, shape, dtype=np.uint8)
        ours = session.run(None, {"image": x})[0]
        with torch.no_grad():
            ref = model(torch.from_numpy(x)).numpy()
        assert ours.dtype == np.uint8 and ours.shape == shape
        # Float summation order differs between runtimes; after rounding that is at most one level.
        assert np.abs(ours.astype(int) - ref.astype(int)).max() <= 1
    assert export.parity(model, path) <= 1


def test_cache_is_keyed_by_weights_not_name(tmp_path, monkeypatch):
    monkeypatch.setenv("PORTRAIT_STYLE_CACHE", str(tmp_path / "cache"))
    style = tmp_path / "s.safetensors"
    save_style(style, Generator(n_blocks=1), StyleMeta(name="s"))
    first = export.cached_onnx(style)
    assert export.cached_onnx(style) == first  # reused
    torch.manual_seed(123)
    save_style(style, Generator(n_blocks=1), StyleMeta(name="s"))  # same name, new weights
    second = export.cached_onnx(style)
    assert second != first and second.is_file()


def test_unwritable_cache_falls_back_to_temp(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache folder should go")
    monkeypatch.setenv("PORTRAIT_STYLE_CACHE", str(blocker))
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    style = save_style(tmp_path / "s.safetensors", Generator(n_blocks=1), StyleMeta(name="s"))
    path = export.cached_onnx(style)
    assert path.is_file() and path.is_relative_to(tmp_path / "tmp")
