"""The torch backend: memory layouts and precisions on the CPU; the CUDA fast path where CUDA exists."""

import numpy as np
import pytest
import torch

from portrait_style.engine.backends import BackendSpec, load_backend
from portrait_style.engine.backends.torch_backend import TorchBackend
from portrait_style.engine.checkpoint import StyleMeta, save_style
from portrait_style.engine.model import Generator
from portrait_style.look.model import LookNet

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
TOLERANCE = {"fp32": 1, "fp16": 3, "bf16": 12}  # uint8 levels from the fp32 reference, as test_backends


def _generator() -> Generator:
    torch.manual_seed(0)
    return Generator(channels=(8, 16, 32), n_blocks=2, expansion=2)


def _batch(n: int = 2, h: int = 40, w: int = 56, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, h, w, 3), dtype=np.uint8)


def _reference(model: torch.nn.Module, batch: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return model(torch.from_numpy(batch)).numpy().astype(int)


def _stem_input_layout(backend: TorchBackend, batch: np.ndarray) -> str:
    """The memory layout of the float tensor the generator's first convolution sees."""
    seen = []
    handle = backend.model.stem.register_forward_pre_hook(lambda _m, args: seen.append(args[0]))
    try:
        backend(batch)
    finally:
        handle.remove()
    x = seen[0]
    if x.is_contiguous():
        return "nchw"
    return "nhwc" if x.is_contiguous(memory_format=torch.channels_last) else "other"


@pytest.mark.parametrize("channels_last", [None, True, False])
def test_cpu_layouts_agree_with_the_eager_model(channels_last):
    batch = _batch()
    reference = _reference(_generator(), batch)
    options = {} if channels_last is None else {"channels_last": channels_last}
    backend = TorchBackend(_generator(), BackendSpec("torch", "cpu", "fp32", options))
    out = backend(batch)
    assert out.shape == batch.shape and out.dtype == np.uint8
    assert np.abs(out.astype(int) - reference).max() <= 1
    # the option is honoured for the input too: NHWC bytes give channels-last convolutions, false a
    # planar input; not given on the CPU, the batch goes in as it comes (NHWC), as before
    expected = {None: "nhwc", True: "nhwc", False: "nchw"}[channels_last]
    assert _stem_input_layout(backend, batch) == expected
    if channels_last:
        assert backend.model.stem.weight.is_contiguous(memory_format=torch.channels_last)


def test_a_non_contiguous_batch_is_accepted():
    batch = _batch(2, 40, 112)[:, :, ::2]  # a strided view
    backend = TorchBackend(_generator())
    assert (
        np.abs(backend(batch).astype(int) - _reference(_generator(), np.ascontiguousarray(batch))).max() <= 1
    )


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_cpu_precisions_set_the_dtype_and_stay_close(precision, tmp_path, monkeypatch):
    monkeypatch.setenv("PORTRAIT_STYLE_CACHE", str(tmp_path / "cache"))
    style = save_style(tmp_path / "s.safetensors", _generator(), StyleMeta(name="s"))
    backend = load_backend(style, BackendSpec("torch", "cpu", precision))
    assert backend.model.head.weight.dtype == {"fp32": torch.float32, "bf16": torch.bfloat16}[precision]
    batch = _batch()
    out = backend(batch)
    assert out.dtype == np.uint8
    assert np.abs(out.astype(int) - _reference(_generator(), batch)).max() <= TOLERANCE[precision]


def test_run_tensor_matches_the_numpy_call_on_cpu():
    backend = TorchBackend(_generator())
    batch = _batch()
    on_tensor = backend.run_tensor(torch.from_numpy(batch))
    assert on_tensor.dtype == torch.uint8 and not on_tensor.requires_grad
    assert np.array_equal(on_tensor.numpy(), backend(batch))


def test_face_aware_look_on_cpu_in_both_layouts():
    torch.manual_seed(0)
    net = LookNet(grid=8, uses_faces=True)
    with torch.no_grad():
        net.grid_out.weight.normal_(0.0, 0.05)
    batch = _batch(1, 48, 64)
    faces = np.zeros((1, 4, 4), np.float32)
    faces[0, 0] = (0.1, 0.0, 0.4, 1.0)
    outs = [
        TorchBackend(net, BackendSpec("torch", "cpu", "fp32", {"channels_last": cl})) for cl in (True, False)
    ]
    a, b = (backend(batch, faces) for backend in outs)
    assert np.abs(a.astype(int) - b.astype(int)).max() <= 1
    assert not np.array_equal(a, outs[0](batch, None))  # the faces reach the model


# -- CUDA: run only where a GPU is present ------------------------------------------------------------------
@cuda
@pytest.mark.parametrize("precision", ["fp32", "fp16", "bf16"])
@pytest.mark.parametrize("options", [{}, {"cuda_graphs": False}, {"channels_last": False}])
def test_cuda_paths_agree_with_the_cpu_reference(precision, options):
    batch = _batch()
    reference = _reference(_generator(), batch)
    backend = TorchBackend(_generator(), BackendSpec("torch", "cuda", precision, options))
    assert backend.channels_last == options.get("channels_last", True)
    for _ in range(2):  # capture, then replay
        out = backend(batch)
        assert out.shape == batch.shape and out.dtype == np.uint8
        assert np.abs(out.astype(int) - reference).max() <= TOLERANCE[precision]


@cuda
def test_cuda_results_are_not_overwritten_by_the_next_call():
    backend = TorchBackend(_generator(), BackendSpec("torch", "cuda", "fp32"))
    first, second = _batch(seed=1), _batch(seed=2)
    out1 = backend(first)
    kept = out1.copy()
    backend(second)  # same shape: same graph, same upload buffer
    assert np.array_equal(out1, kept)
    assert len(backend._uploads) == 1


@cuda
def test_cuda_run_tensor_stays_on_the_device_and_mixes_with_host_calls():
    backend = TorchBackend(_generator(), BackendSpec("torch", "cuda", "fp16"))
    batch = _batch()
    x = torch.from_numpy(batch).cuda()
    y = backend.run_tensor(x)
    assert y.is_cuda and y.dtype == torch.uint8
    on_device = y.cpu().numpy()
    assert np.array_equal(on_device, backend(batch))  # the host path replays the same graph
    other = _batch(3, 40, 56, seed=5)  # another shape: its own graph and upload buffer
    assert backend(other).shape == other.shape
