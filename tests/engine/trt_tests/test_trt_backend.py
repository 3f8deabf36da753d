"""`TensorRTBackend` around a stand-in engine (no GPU, no TensorRT): the device it picks and the face tables
it feeds a face-aware look. Building is `test_trt_build.py`; running a real engine is `test_trt_real.py`."""

from __future__ import annotations

import contextlib

import numpy as np
import pytest
import torch

from portrait_style.engine.backends import BackendSpec, tensorrt_backend
from portrait_style.engine.faces.geometry import FACE_COLUMNS, MAX_FACES
from portrait_style.engine.tensorrt import build, cache, runtime
from tests.engine.trt_tests.fake_tensorrt import make_tensorrt


class FakeEngine:
    """Records what it was made with and every feed; gives the image back as the output."""

    def __init__(self, trt, blob, device, cuda_graphs):
        self.device, self.cuda_graphs = device, cuda_graphs
        self.inputs = ("image", "faces")
        self.feeds: list[dict] = []

    def run(self, feeds):
        self.feeds.append(dict(feeds))
        return {"styled": feeds["image"]}


@pytest.fixture
def made(monkeypatch) -> list[torch.device]:
    """TensorRTBackend made against the stand-ins; the CUDA devices it entered, in order."""
    entered = []

    def enter(device):
        entered.append(device)
        return contextlib.nullcontext()

    monkeypatch.setattr(tensorrt_backend, "import_tensorrt", make_tensorrt)
    monkeypatch.setattr(build, "engine_bytes", lambda trt, path, precision, options, gpu: b"engine")
    monkeypatch.setattr(runtime, "gpu_of", lambda device: cache.Gpu("NVIDIA H200", (9, 0)))
    monkeypatch.setattr(runtime, "Engine", FakeEngine)
    monkeypatch.setattr(torch.cuda, "device", enter)
    return entered


@pytest.mark.parametrize(("device", "index"), [("cuda", 0), ("cuda:0", 0), ("cuda:3", 3)])
def test_the_backend_runs_on_the_cuda_device_its_spec_names(look, made, device, index):
    backend = tensorrt_backend.TensorRTBackend(look, BackendSpec("tensorrt", device, "fp16"))
    assert made == [torch.device("cuda", index)] and backend.engine.device == torch.device("cuda", index)
    assert backend.uses_faces


def test_no_faces_given_reuses_one_empty_table_per_batch_size(look, made):
    backend = tensorrt_backend.TensorRTBackend(look, BackendSpec("tensorrt", "cuda", "fp16"))
    backend._device = torch.device("cpu")  # the stand-in engine runs on host tensors
    image = np.random.default_rng(0).integers(0, 256, (2, 32, 32, 3), dtype=np.uint8)
    backend(image)
    backend.run_tensor(torch.from_numpy(image))
    backend(image[:1])
    backend(image[:1])
    tables = [feeds["faces"] for feeds in backend.engine.feeds]
    assert tables[0] is tables[1] and tables[2] is tables[3]  # made once per batch size, not per call
    assert tables[0].shape == (2, MAX_FACES, FACE_COLUMNS) and tables[2].shape == (1, MAX_FACES, FACE_COLUMNS)
    assert all(not t.any() and t.dtype == torch.float32 for t in tables)
    faces = np.zeros((2, MAX_FACES, FACE_COLUMNS), np.float32)
    faces[1, 0] = [0.5, 0.5, 0.2, 1.0]
    backend(image, faces)  # tables given are passed on as they are
    assert torch.equal(backend.engine.feeds[-1]["faces"], torch.from_numpy(faces))
    assert not tables[0].any()  # and the cached empty one is untouched
