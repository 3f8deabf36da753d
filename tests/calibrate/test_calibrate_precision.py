"""The precision check: FP16 ONNX parity on tiny styles, nodes kept in FP32 where FP16 overflows, and
reduced precisions that lose too much refused (and never chosen)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from portrait_style.calibrate.frames import check_inputs, synthetic_portraits
from portrait_style.calibrate.precision import activation_ranges, check_precisions, compare, fp16_keep_nodes
from portrait_style.calibrate.tuning import candidate_specs
from portrait_style.config import CalibrateConfig
from portrait_style.engine import export
from portrait_style.engine.backends import BACKENDS, BackendSpec, load_backend
from portrait_style.engine.backends.onnxruntime_backend import OnnxRuntimeBackend
from portrait_style.engine.checkpoint import StyleMeta, load_style, save_style
from portrait_style.engine.model import Generator
from portrait_style.look.model import ARCH_NAME as LOOK_ARCH
from portrait_style.look.model import LookNet
from tests.models import make_style

# FP16 ONNX against FP32, on portrait-like frames, in uint8 levels (tests/engine/test_backends.py allows
# the same 3 levels against the PyTorch reference on random batches)
FP16_TOLERANCE = 3
ORT_CPU = next(k for k in BACKENDS if (k.name, k.device) == ("onnxruntime", "cpu"))
TORCH_CPU = next(k for k in BACKENDS if (k.name, k.device) == ("torch", "cpu"))


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("PORTRAIT_STYLE_CACHE", str(tmp_path / "cache"))


@pytest.fixture(scope="module")
def frames():
    return check_inputs(synthetic_portraits(3, 320, 240, seed=1), "frame", 128, 240)


def look_style(folder, uses_faces: bool):
    torch.manual_seed(0)
    net = LookNet(grid=8, uses_faces=uses_faces).eval()
    with torch.no_grad():
        for p in net.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    meta = StyleMeta(name="test-look", arch=LOOK_ARCH, mode="frame", resolution=128)
    return save_style(folder / f"look-{uses_faces}.safetensors", net, meta)


def overflowing_style(folder):
    """A generator equal to a plain one in FP32 whose up2 depthwise outputs are 1e6 times too large, and
    its pointwise weights 1e6 times too small: FP16 overflows in between, and its weights saturate."""
    torch.manual_seed(0)
    model = Generator(channels=(8, 16, 32), n_blocks=2, expansion=2)
    with torch.no_grad():
        model.head.bias.copy_(torch.tensor([0.3, -0.2, 0.1]))
        up = model.up2
        up.depthwise.weight.mul_(1e6)
        up.depthwise.bias.mul_(1e6)
        up.pointwise.weight.mul_(1e-6)
    return save_style(folder / "overflow.safetensors", model, StyleMeta(name="overflow", mode="frame"))


def offset_style(folder):
    """A generator whose head input carries an offset of 1000, taken off again by the head's bias: exact
    in FP32, but bf16 (and fp16) keep too few bits at 1000 for the detail riding on it."""
    torch.manual_seed(0)
    model = Generator(channels=(8, 16, 32), n_blocks=2, expansion=2)
    with torch.no_grad():
        model.up2.pointwise.bias.add_(1000.0)
        model.head.bias.sub_(1000.0 * model.head.weight.sum(dim=(1, 2, 3)))
    return save_style(folder / "offset.safetensors", model, StyleMeta(name="offset", mode="frame"))


def by_precision(checks, backend: str) -> dict:
    return {c.precision: c for c in checks if c.backend == backend}


@pytest.mark.parametrize("kind", ["generator", "look", "face-aware look"])
def test_fp16_onnx_matches_fp32_within_tolerance(tmp_path, frames, kind):
    if kind == "generator":
        style = make_style(tmp_path, "frame")
    else:
        style = look_style(tmp_path, uses_faces=kind == "face-aware look")
    fp32 = OnnxRuntimeBackend(export.cached_onnx(style), BackendSpec("onnxruntime", "cpu", "fp32"))
    fp16 = OnnxRuntimeBackend(export.cached_onnx(style, "fp16"), BackendSpec("onnxruntime", "cpu", "fp16"))
    reference = [fp32(x[None])[0] for x in frames]
    psnr, worst = compare(reference, [fp16(x[None])[0] for x in frames])
    assert worst <= FP16_TOLERANCE and psnr > 45, (psnr, worst)
    model, _ = load_style(style)  # and the FP32 graph is PyTorch's
    with torch.no_grad():
        torch_out = [model(torch.from_numpy(x[None])).numpy()[0] for x in frames]
    assert compare(torch_out, reference)[1] <= 1
    checks = by_precision(check_precisions(style, frames, kinds=[ORT_CPU]), "onnxruntime")
    assert checks["fp32"].accepted and checks["fp32"].reason == "reference"
    assert checks["fp16"].accepted and checks["fp16"].keep_fp32 == [] and checks["fp16"].finite
    assert checks["fp16"].max_abs_error <= FP16_TOLERANCE


def test_activation_ranges_see_every_float_tensor(tmp_path, frames):
    style = make_style(tmp_path, "frame")
    ranges = activation_ranges(export.cached_onnx(style), frames)
    assert ranges["/Cast_output_0"][0] == max(float(x.max()) for x in frames)  # the uint8 input, as float
    assert all(finite for _, finite in ranges.values())
    assert any("blocks.1/expand" in name for name in ranges)


def test_overflowing_fp16_is_refused_unless_those_nodes_stay_fp32(tmp_path, frames):
    style = overflowing_style(tmp_path)
    plain = by_precision(check_precisions(style, frames, fix_fp16=False, kinds=[ORT_CPU]), "onnxruntime")
    assert not plain["fp16"].accepted, plain["fp16"]
    assert plain["fp16"].psnr_db < CalibrateConfig().min_psnr_db or not plain["fp16"].finite
    assert not export.keep_fp32_record(style).exists()  # a check without the fix records nothing

    keep = fp16_keep_nodes(export.cached_onnx(style), frames, CalibrateConfig())
    assert {"/up2/depthwise/Conv", "/up2/pointwise/Conv"} <= set(keep)
    assert not any("blocks" in name or "down" in name for name in keep)  # only where it overflows

    fixed = by_precision(check_precisions(style, frames, kinds=[ORT_CPU]), "onnxruntime")
    assert fixed["fp16"].accepted, fixed["fp16"]
    assert fixed["fp16"].keep_fp32 == keep and fixed["fp16"].max_abs_error <= FP16_TOLERANCE
    # recorded, so every later FP16 load of these weights builds the same graph
    assert export.read_keep_fp32(style) == tuple(keep)
    path = export.cached_onnx(style, "fp16")
    assert "-fp16-keep" in path.name and path != export.cached_onnx(style, "fp16", keep_fp32=())
    loaded = load_backend(style, BackendSpec("onnxruntime", "cpu", "fp16"))
    fp32 = load_backend(style, BackendSpec("onnxruntime", "cpu", "fp32"))
    assert compare([fp32(frames[0][None])[0]], [loaded(frames[0][None])[0]])[1] <= FP16_TOLERANCE


def test_a_precision_that_loses_too_much_is_refused_and_never_tuned(tmp_path, frames):
    style = offset_style(tmp_path)
    checks = check_precisions(style, frames, kinds=[ORT_CPU, TORCH_CPU])
    torch_rows = by_precision(checks, "torch")
    assert torch_rows["fp32"].accepted
    bf16 = torch_rows["bf16"]
    assert not bf16.accepted and bf16.psnr_db < 40 and "PSNR" in bf16.reason, bf16
    specs = candidate_specs([c for c in checks if c.accepted], cores=2)
    assert all(s.precision != "bf16" for s in specs)
    assert {(s.backend, s.precision) for s in specs} >= {("onnxruntime", "fp32"), ("torch", "fp32")}


def test_nan_inside_the_graph_is_refused_even_when_the_bytes_look_fine():
    from portrait_style.calibrate.precision import verdict

    ok, reason = verdict(60.0, 0, ["/blocks.0/expand/Conv_output_0"], CalibrateConfig())
    assert not ok and reason.startswith("NaN/Inf in /blocks.0/expand")
    assert verdict(60.0, 17, [], CalibrateConfig()) == (False, "max error 17 > 16 levels")
    assert verdict(45.0, 3, [], CalibrateConfig()) == (True, "within limits")


def test_compare():
    a = np.zeros((4, 4, 3), np.uint8)
    assert compare([a], [a]) == (100.0, 0)
    b = a.copy()
    b[0, 0, 0] = 255
    psnr, worst = compare([a], [b])
    assert worst == 255 and psnr == pytest.approx(10 * np.log10(48), abs=1e-6)


def test_nan_inside_a_model_is_found_in_onnx_and_torch(tmp_path, frames):
    from portrait_style.calibrate.precision import torch_nonfinite

    torch.manual_seed(0)
    model = Generator(channels=(8, 16, 32), n_blocks=2, expansion=2)
    with torch.no_grad():
        model.blocks[1].expand.bias[0] = float("inf")  # the output still decodes to some bytes
    style = save_style(tmp_path / "inf.safetensors", model, StyleMeta(name="inf", mode="frame"))
    ranges = activation_ranges(export.cached_onnx(style), frames[:1])
    bad = [name for name, (_, finite) in ranges.items() if not finite]  # in graph order
    assert bad[0] == "/blocks.1/expand/Conv_output_0" and "/Tanh_output_0" in bad
    assert not any(name.startswith(("/stem", "/down", "/blocks.0/")) for name in bad)
    backend = load_backend(style, BackendSpec("torch", "cpu", "fp32"))
    assert torch_nonfinite(backend, frames[:1])[0] == "blocks.1.expand"


def test_a_row_that_raises_is_refused_as_cannot_run_and_the_check_goes_on(tmp_path, frames, monkeypatch):
    """A torch RuntimeError (a missing bf16 kernel, at the first call; the whole runtime, at load) and an
    onnx ValidationError from the FP16 conversion: each refuses its row in one line, the rest are checked."""
    from onnx.checker import ValidationError

    import portrait_style.engine.backends as backends

    real_load, real_onnx = backends.load_backend, export.cached_onnx

    class NoBf16Kernel:
        spec = BackendSpec("torch", "cpu", "bf16")

        def __call__(self, batch, faces=None):
            raise RuntimeError("\"slow_conv2d_cpu\" not implemented for\n  'BFloat16'")

    def load_backend(style_path, spec):
        if (spec.backend, spec.precision) == ("torch", "bf16"):
            return NoBf16Kernel()
        return real_load(style_path, spec)

    def cached_onnx(style_path, precision="fp32", **kwargs):
        if precision == "fp16":
            raise ValidationError("Field 'type' of 'value_info' is required but missing.")
        return real_onnx(style_path, precision, **kwargs)

    monkeypatch.setattr(backends, "load_backend", load_backend)
    monkeypatch.setattr(export, "cached_onnx", cached_onnx)
    style = make_style(tmp_path, "frame")
    checks = check_precisions(style, frames, kinds=[TORCH_CPU, ORT_CPU])
    torch_rows, ort_rows = by_precision(checks, "torch"), by_precision(checks, "onnxruntime")
    bf16 = torch_rows["bf16"]
    assert not bf16.accepted and bf16.psnr_db is None
    assert bf16.reason == "cannot run: RuntimeError: \"slow_conv2d_cpu\" not implemented for 'BFloat16'"
    assert torch_rows["fp32"].accepted and ort_rows["fp32"].accepted  # the other rows still checked
    fp16 = ort_rows["fp16"]
    assert not fp16.accepted and fp16.reason.startswith("cannot run: ValidationError: Field 'type'")
    specs = candidate_specs([c for c in checks if c.accepted], cores=1)
    assert {(s.backend, s.precision) for s in specs} == {("torch", "fp32"), ("onnxruntime", "fp32")}

    def no_torch(style_path, spec):  # the whole runtime fails at load: its FP32 reference is refused
        if spec.backend == "torch":
            raise RuntimeError("CUDA error: out of memory")
        return real_load(style_path, spec)

    monkeypatch.setattr(backends, "load_backend", no_torch)
    checks = check_precisions(style, frames, kinds=[TORCH_CPU, ORT_CPU])
    assert [(c.backend, c.precision) for c in checks if c.backend == "torch"] == [("torch", "fp32")]
    assert (
        checks[0].reason == "cannot run: RuntimeError: CUDA error: out of memory" and not checks[0].accepted
    )
    assert by_precision(checks, "onnxruntime")["fp32"].accepted
