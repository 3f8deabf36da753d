import numpy as np
import pytest
import torch

from portrait_style.engine.backends import (
    BACKENDS,
    OPTIONS,
    BackendSpec,
    available_backends,
    load_backend,
    resolve,
)
from portrait_style.engine.checkpoint import StyleMeta, load_style, save_style
from portrait_style.engine.model import Generator
from portrait_style.errors import ModelError, PortraitStyleError

# How far a runtime may be from the float32 PyTorch reference, in uint8 levels, by precision.
TOLERANCE = {"fp32": 1, "fp16": 3, "bf16": 12}


@pytest.fixture
def style(tmp_path, monkeypatch):
    monkeypatch.setenv("PORTRAIT_STYLE_CACHE", str(tmp_path / "cache"))
    torch.manual_seed(0)
    return save_style(tmp_path / "s.safetensors", Generator(n_blocks=2), StyleMeta(name="s"))


def test_every_available_backend_and_precision_agrees_with_the_reference(style):
    rng = np.random.default_rng(0)
    batch = rng.integers(0, 256, (2, 40, 56, 3), dtype=np.uint8)
    model, _ = load_style(style)
    with torch.no_grad():
        reference = model(torch.from_numpy(batch)).numpy().astype(int)
    kinds = available_backends()
    assert {(k.name, k.device) for k in kinds} >= {("onnxruntime", "cpu"), ("torch", "cpu")}
    for kind in kinds:
        for precision in kind.precisions:
            backend = load_backend(style, BackendSpec(kind.name, kind.device, precision))
            assert (backend.name, backend.spec.precision) == (kind.name, precision)
            backend.warmup(40, 56, batch=2, runs=1)
            out = backend(batch)
            assert out.shape == batch.shape and out.dtype == np.uint8
            error = np.abs(out.astype(int) - reference)
            assert error.max() <= TOLERANCE[precision], (kind, precision, error.max())


def test_auto_prefers_first_available_row_and_its_default_precision(style):
    backend = load_backend(style)
    first = available_backends()[0]
    assert (backend.name, backend.spec.device_kind, backend.spec.precision) == (
        first.name,
        first.device,
        first.precisions[0],
    )
    assert "auto" not in backend.describe()


def test_explicit_cpu_choices_and_options(style):
    assert load_backend(style, BackendSpec("torch", "cpu")).name == "torch"
    ort = load_backend(style, BackendSpec.parse("onnxruntime", "cpu", "auto", ["threads=1", "spinning=no"]))
    assert ort.spec.options == {"threads": 1, "spinning": False}
    assert ort.describe() == "onnxruntime (cpu, fp32, spinning=False, threads=1)"
    # the option reached the session
    assert ort.session.get_session_options().intra_op_num_threads == 1


@pytest.mark.parametrize(
    "spec, message",
    [
        (BackendSpec("tensorflow"), "unknown backend"),
        (BackendSpec("onnxruntime", "cpu", "bf16"), "no backend runs onnxruntime on cpu in bf16"),
        (BackendSpec("torch", "cpu", "int8"), "no backend runs torch"),
        (BackendSpec("torch", "cpu", options={"threads": 2}), "does not take option threads"),
    ],
)
def test_what_the_table_refuses(spec, message):
    with pytest.raises(PortraitStyleError, match=message):
        resolve(spec)


@pytest.mark.parametrize(
    "args, message",
    [
        (dict(device="gpu"), "unknown device 'gpu'"),
        (dict(device="cuda:x"), "unknown device"),
        (dict(precision="fp8"), "unknown precision"),
        (dict(options={"thread": 2}), "unknown backend option 'thread'"),
        (dict(options={"threads": 0}), "threads must be in 1..1024"),
        (dict(options={"threads": "two"}), "whole number"),
        (dict(options={"spinning": "maybe"}), "true or false"),
    ],
)
def test_a_spec_is_checked_when_made(args, message):
    with pytest.raises(PortraitStyleError, match=message):
        BackendSpec(**args)


def test_parse_takes_the_cli_strings():
    spec = BackendSpec.parse("torch", "cuda:1", "fp16", ["cuda-graphs=off", "channels_last=1"])
    assert spec.device == "cuda:1" and spec.device_kind == "cuda"
    assert spec.options == {"cuda_graphs": False, "channels_last": True}
    with pytest.raises(PortraitStyleError, match="KEY=VALUE"):
        BackendSpec.parse(options=["threads"])


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the refusal on a machine without CUDA")
def test_cuda_n_is_accepted_by_the_table_but_not_available_here(style):
    with pytest.raises(ModelError, match="not available on this machine"):
        load_backend(style, BackendSpec("torch", "cuda:1"))


def test_table_rows_are_unique_and_name_known_options_and_precisions():
    rows = [(k.name, k.device) for k in BACKENDS]
    assert len(rows) == len(set(rows))
    for kind in BACKENDS:
        assert set(kind.options) <= set(OPTIONS)
        assert kind.precisions and len(set(kind.precisions)) == len(kind.precisions)


def test_auto_picks_the_first_row_that_takes_the_options_given(style):
    # onnxruntime on cpu comes first, but only torch takes channels_last
    backend = load_backend(style, BackendSpec(options={"channels_last": False}))
    assert (backend.name, backend.spec.options) == ("torch", {"channels_last": False})


def test_a_cuda_index_past_the_devices_is_one_line(monkeypatch):
    import portrait_style.engine.backends as backends

    monkeypatch.setattr(backends, "_torch_cuda_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    backends._check_cuda_index("cuda:1")  # there
    with pytest.raises(ModelError, match=r"device cuda:2: this machine has 2 CUDA device"):
        backends._check_cuda_index("cuda:2")


def test_auto_precision_is_fp32_for_a_look_and_the_backends_own_for_a_generator():
    from portrait_style.engine.backends import for_style

    auto = BackendSpec("torch", "cuda")
    assert for_style(auto, "portrait-look-v1").precision == "fp32"  # half precision moves a look's pixels
    assert for_style(auto, "portrait-gen-v1").precision == "auto"  # resolves to the row's default (fp16)
    asked = BackendSpec("torch", "cuda", "bf16")
    assert for_style(asked, "portrait-look-v1") == asked  # what the user asks for stands
