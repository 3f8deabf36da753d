"""The look's CPU graph (look/cpu_graph.py): the same frames out as the portable graph, on other kernels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from onnx import version_converter

from portrait_style.engine import export
from portrait_style.engine.backends import load_backend
from portrait_style.engine.backends.ort_session import ort_session
from portrait_style.engine.backends.spec import BackendSpec
from portrait_style.engine.checkpoint import StyleMeta, save_style
from portrait_style.engine.model import Generator
from portrait_style.look import blocks
from portrait_style.look import cpu_graph as cpu_graph_module
from portrait_style.look.cpu_graph import OPSET, cpu_graph
from portrait_style.look.model import ARCH_NAME, LookNet


def _look(seed: int = 0, older: bool = False, **arch) -> LookNet:
    torch.manual_seed(seed)
    net = (_UintReshapedLook if older else LookNet)(grid=8, **arch).eval()
    with torch.no_grad():
        for p in net.parameters():
            p.add_(torch.randn_like(p) * 0.1)
    return net


class _UintReshapedLook(LookNet):
    """A look exported as before 2026-12-01: the uint8 frame reshaped to NHWC after the cast."""

    def forward(self, image: torch.Tensor, faces: torch.Tensor | None = None) -> torch.Tensor:
        out = self._look(image, faces, lattice=True).round().clamp(0.0, 255.0).to(torch.uint8)
        return out.view(image.shape)


def _run(path: Path, image: np.ndarray, faces: np.ndarray | None = None) -> np.ndarray:
    session = ort_session(path)
    feeds = {export.INPUT_NAME: image}
    if faces is not None:
        feeds[export.FACES_NAME] = faces
    return session.run(None, feeds)[0]


ARCHS = {
    "plain": {},
    "chroma": {"chroma": True},
    "faces": {"uses_faces": True, "regions": True},
    # as the built-in looks: one set of colour tables for every frame (constant-folded by ONNX Runtime)
    "fixed-faces": {"uses_faces": True, "regions": True, "adaptive": False, "local": False},
    "fixed-chroma": {"chroma": True, "adaptive": False},
    # each image's range stretched before the colour functions (read from the tables, and the lattice)
    "levels": {"levels": True},
    "fixed-levels": {"levels": True, "adaptive": False, "local": False},
    # exports from before 2026-12-01 (the uint8 reshaped to NHWC after the cast) are rewritten as well
    "older-plain": {"older": True},
    "older-chroma": {"older": True, "chroma": True},
}


@pytest.mark.parametrize("arch", ARCHS.values(), ids=ARCHS.keys())
def test_cpu_graph_gives_the_portable_graphs_frames(tmp_path: Path, arch: dict):
    """Every value equal to the portable graph's at the CPU graph's opset (the rewrites are exact; a
    different opset alone lets ONNX Runtime fuse other block-level steps, which moves a few values by
    one level), over the whole uint8 range (a look that pushes values past 0 and 255, so saturation is
    exercised), at sizes whose block rows and columns are odd and with a batch of 2."""
    net = _look(**arch)
    portable = export.export_onnx(net, tmp_path / "look.onnx")
    rewritten = cpu_graph(onnx.load(str(portable)))
    assert rewritten is not None
    ops = {node.op_type for node in rewritten.graph.node}
    producer = {out: node for node in rewritten.graph.node for out in node.output}
    tail = producer[rewritten.graph.output[0].name]
    last = producer[tail.input[0]] if tail.op_type == "Reshape" else tail  # the rounded frame
    # the 3x3 mix between the scale and the shift: the whole frame at once, rounded into the output
    # itself (an older export: reshaped after the rounding)
    if net.chroma:
        assert last.op_type == "QuantizeLinear" and (tail is last) != arch.get("older", False)
    else:  # one block row at a time, reshaped to NHWC
        assert last.op_type == "Scan" and "DequantizeLinear" not in ops
        body = onnx.helper.get_attribute_value(last.attribute[0])
        ops = {node.op_type for node in body.node} | ops
        assert [node.op_type for node in body.node] == ["DequantizeLinear", "Add", "QuantizeLinear"]
    assert {"DequantizeLinear", "MatMulIntegerToFloat", "QuantizeLinear"} <= ops
    # the colour tables' indices (cast, then reshaped) read at half the bytes
    indices = {n.input[1] for n in rewritten.graph.node if n.op_type == "GatherElements"}
    index_casts = []
    for name in indices:
        node = producer.get(name)
        while node is not None and node.op_type == "Reshape":
            node = producer.get(node.input[0])
        if node is not None and node.op_type == "Cast":
            index_casts.append(onnx.helper.get_attribute_value(node.attribute[0]))
    assert set(index_casts) == ({onnx.TensorProto.INT32} if net.adaptive else set(index_casts))
    assert onnx.TensorProto.INT64 not in index_casts
    # nothing left over for ONNX Runtime to warn about when it loads the graph
    read = {o.name for o in rewritten.graph.output}.union(
        *(cpu_graph_module._reads(n) for n in rewritten.graph.node)
    )
    assert all(read.intersection(node.output) for node in rewritten.graph.node)
    assert all(init.name in read for init in rewritten.graph.initializer)
    fast, same_opset = tmp_path / "look-cpu.onnx", tmp_path / "look-21.onnx"
    onnx.save(rewritten, str(fast))
    onnx.save(version_converter.convert_version(onnx.load(str(portable)), OPSET), str(same_opset))
    rng = np.random.default_rng(1)
    faces = None
    for shape in [(2, 36, 52, 3), (1, 272, 484, 3)]:
        image = rng.integers(0, 256, shape, dtype=np.uint8)
        if net.uses_faces:
            faces = np.zeros((shape[0], net.max_faces, 4), np.float32)
            faces[0, 0] = (0.1, -0.2, 0.4, 1.0)
        ours, theirs = _run(fast, image, faces), _run(same_opset, image, faces)
        with torch.inference_mode():
            extra = () if faces is None else (torch.from_numpy(faces),)
            reference = net(torch.from_numpy(image), *extra).numpy()
        assert ours.dtype == np.uint8 and ours.shape == shape
        assert np.array_equal(ours, theirs)
        for other in (_run(portable, image, faces), reference):  # float sums in another order
            assert np.abs(ours.astype(int) - other).max() <= 1 and (ours != other).mean() < 1e-3
        assert (ours == 0).any() and (ours == 255).any() and (ours != image).mean() > 0.5


def test_a_graph_without_the_looks_steps_is_left_alone(tmp_path: Path):
    assert cpu_graph(onnx.load(str(export.export_onnx(Generator(n_blocks=1), tmp_path / "g.onnx")))) is None


def test_the_cpu_backend_runs_the_cpu_graph_of_a_look_only(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("PORTRAIT_STYLE_CACHE", str(tmp_path / "cache"))
    look = save_style(tmp_path / "look.safetensors", _look(), StyleMeta(name="look", arch=ARCH_NAME))
    generator = save_style(tmp_path / "gen.safetensors", Generator(n_blocks=1), StyleMeta(name="gen"))
    cpu_path = export.cached_onnx(look, cpu_kernels=True)
    assert cpu_path.name.endswith(f"-cpu{cpu_graph_module.VERSION}.onnx")
    assert cpu_path != export.cached_onnx(look)
    assert export.cached_onnx(look, cpu_kernels=True) == cpu_path  # cached
    assert export.cached_onnx(generator, cpu_kernels=True) == export.cached_onnx(generator)
    with pytest.raises(ValueError):
        export.cached_onnx(look, "fp16", cpu_kernels=True)
    backend = load_backend(look, BackendSpec("onnxruntime", "cpu", "fp32"))
    names = {node.op_type for node in onnx.load(str(cpu_path)).graph.node}
    assert "MatMulIntegerToFloat" in names  # the block sums: only the CPU graph has them
    frame = np.random.default_rng(0).integers(0, 256, (1, 64, 96, 3), dtype=np.uint8)
    assert np.array_equal(backend(frame), _run(export.cached_onnx(look), frame))


def test_the_cpu_graph_knows_the_block_size():
    assert cpu_graph_module.BLOCK == blocks.BLOCK


def test_a_failed_rewrite_leaves_the_portable_graph_running(tmp_path: Path, monkeypatch, caplog):
    """The CPU graph is an optimisation: if onnx cannot rewrite a graph, the backend runs the portable
    one and says so in one warning."""
    monkeypatch.setenv("PORTRAIT_STYLE_CACHE", str(tmp_path / "cache"))
    look = save_style(tmp_path / "look.safetensors", _look(), StyleMeta(name="look", arch=ARCH_NAME))

    def broken(model):
        raise RuntimeError("converter failed")

    monkeypatch.setattr(cpu_graph_module, "cpu_graph", broken)
    assert export.cached_onnx(look, cpu_kernels=True) == export.cached_onnx(look)
    assert "cannot make the CPU graph" in caplog.text and "converter failed" in caplog.text
    frame = np.random.default_rng(0).integers(0, 256, (1, 64, 96, 3), dtype=np.uint8)
    assert load_backend(look, BackendSpec("onnxruntime", "cpu", "fp32"))(frame).shape == frame.shape


def test_a_stream_runs_on_a_session_made_for_its_shape(tmp_path: Path, monkeypatch):
    """The same frames from the session made for one shape (its shape arithmetic folded) as from the one
    made at load; photos of changing sizes stay on the one made at load."""
    monkeypatch.setenv("PORTRAIT_STYLE_CACHE", str(tmp_path / "cache"))
    net = _look(chroma=True, levels=True)
    look = save_style(tmp_path / "look.safetensors", net, StyleMeta(name="look", arch=ARCH_NAME))
    backend = load_backend(look, BackendSpec("onnxruntime", "cpu", "fp32"))
    rng = np.random.default_rng(2)
    frame, photo = (rng.integers(0, 256, shape, dtype=np.uint8) for shape in [(1, 64, 96, 3), (1, 48, 36, 3)])
    first = backend(frame)  # the first of its shape: the session made at load
    shaped = backend.session_for((1, 64, 96))  # the second in a row: a stream
    assert shaped is not backend.session and shaped.get_inputs()[0].shape == [1, 64, 96, 3]
    assert backend.session_for((1, 64, 96)) is shaped  # made once
    assert np.array_equal(backend(frame), first)
    assert backend.session_for((1, 48, 36)) is backend.session
    assert np.array_equal(backend(photo), _run(export.cached_onnx(look, cpu_kernels=True), photo))
