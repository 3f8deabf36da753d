"""Which reduced precisions may run a style: each one a backend row allows on this machine, against the
same runtime's FP32 on the same frames.

A precision is refused (and tuning never chooses it) when the output differs by more than
`CalibrateConfig.min_psnr_db` / `max_abs_error`, or when NaN or Inf appears anywhere inside the graph
(the uint8 output alone would hide it: a NaN becomes some byte).

ONNX FP16 first finds the nodes that must stay FP32: an ONNX Runtime session of the FP32 graph that
also outputs |max| and a NaN flag of every float tensor (two scalars each, so it costs no memory) gives
the activations' range on the frames; a node whose inputs or outputs reach `fp16_activation_limit`, or
whose weights exceed `fp16_weight_limit`, is kept in FP32 (`export.convert_fp16(keep_fp32=...)`). The
names are recorded beside the cached export (`export.write_keep_fp32`), so every later FP16 load of
these weights builds the same graph, and the check then runs that graph.

A row that fails to load or run (a missing kernel, out of memory, a runtime's or the FP16 converter's
error of any kind) is refused as "cannot run: <why>", and the check goes on with the next.
"""

from __future__ import annotations

import math
import os
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from portrait_style.config import CalibrateConfig
from portrait_style.errors import PortraitStyleError

PSNR_IDENTICAL = 100.0  # what an output equal to the reference scores (no infinities in the JSON)


@dataclass
class PrecisionCheck:
    backend: str
    device: str
    precision: str
    accepted: bool
    reason: str  # "reference", "within limits", or why it was refused
    psnr_db: float | None = None  # against the row's FP32, over every pixel of every frame
    max_abs_error: int | None = None  # uint8 levels
    finite: bool = True
    keep_fp32: list[str] = field(default_factory=list)  # ONNX FP16: nodes kept in FP32
    frames: int = 0


def cannot_run(exc: BaseException) -> str:
    """One line for a candidate that failed: "cannot run: <why>" (our own errors' message as it is, any
    other exception's with its type, e.g. "RuntimeError: CUDA out of memory ...")."""
    text = " ".join(str(exc).split())
    if not isinstance(exc, PortraitStyleError):
        text = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return f"cannot run: {text[:160] or type(exc).__name__}"


def compare(reference: list[np.ndarray], outputs: list[np.ndarray]) -> tuple[float, int]:
    """PSNR (dB, capped at PSNR_IDENTICAL) and the largest difference, in uint8 levels."""
    squared, count, worst = 0.0, 0, 0
    for a, b in zip(reference, outputs, strict=True):
        diff = a.astype(np.int16) - b.astype(np.int16)
        squared += float(np.square(diff, dtype=np.int64).sum())
        count += diff.size
        worst = max(worst, int(np.abs(diff).max()))
    if squared == 0:
        return PSNR_IDENTICAL, worst
    return min(PSNR_IDENTICAL, 10 * math.log10(255.0**2 * count / squared)), worst


def verdict(psnr: float, worst: int, nonfinite: list[str], cfg: CalibrateConfig) -> tuple[bool, str]:
    if nonfinite:
        more = f" (+{len(nonfinite) - 1} more)" if len(nonfinite) > 1 else ""
        return False, f"NaN/Inf in {nonfinite[0]}{more}"
    if psnr < cfg.min_psnr_db:
        return False, f"PSNR {psnr:.1f} dB < {cfg.min_psnr_db:g}"
    if worst > cfg.max_abs_error:
        return False, f"max error {worst} > {cfg.max_abs_error} levels"
    return True, "within limits"


# -- ONNX: activation ranges ---------------------------------------------------------------------------
def _probed(model):
    """`model` plus two scalar outputs per float tensor a node makes: `<t>::absmax` and `<t>::nan` (NaN
    when the tensor holds a NaN or an Inf: the sum of the tensor times zero)."""
    from onnx import TensorProto, helper, shape_inference

    model = shape_inference.infer_shapes(model)
    graph = model.graph
    types = {v.name: v.type.tensor_type.elem_type for v in (*graph.value_info, *graph.output)}
    graph.initializer.append(helper.make_tensor("probe::zero", TensorProto.FLOAT, [], [0.0]))
    probes, added = [], []
    for i, node in enumerate(list(graph.node)):
        if node.op_type == "Constant":
            continue
        for j, name in enumerate(node.output):
            kind = types.get(name)
            if not name or kind not in (TensorProto.FLOAT, TensorProto.FLOAT16):
                continue
            tag, x = f"probe::{i}:{j}", name
            if kind == TensorProto.FLOAT16:
                added.append(helper.make_node("Cast", [name], [f"{tag}:f32"], to=TensorProto.FLOAT))
                x = f"{tag}:f32"
            added += [
                helper.make_node("Abs", [x], [f"{tag}:abs"]),
                helper.make_node("ReduceMax", [f"{tag}:abs"], [f"{name}::absmax"], keepdims=0),
                helper.make_node("Mul", [x, "probe::zero"], [f"{tag}:zero"]),
                helper.make_node("ReduceSum", [f"{tag}:zero"], [f"{name}::nan"], keepdims=0),
            ]
            for suffix in ("absmax", "nan"):
                graph.output.append(helper.make_tensor_value_info(f"{name}::{suffix}", TensorProto.FLOAT, []))
            probes.append(name)
    graph.node.extend(added)
    return model, probes


def activation_ranges(onnx_path: str | os.PathLike, inputs: list[np.ndarray], device: str = "cpu") -> dict:
    """{tensor name: (largest |value|, all finite)} over `inputs` (each H x W x 3 uint8, run one by one)."""
    import onnx

    from portrait_style.engine.backends.ort_session import ort_session
    from portrait_style.engine.faces.geometry import no_faces

    model, probes = _probed(onnx.load(str(onnx_path)))
    with tempfile.TemporaryDirectory(prefix="portrait-style-probe-") as tmp:
        path = Path(tmp) / "probed.onnx"
        onnx.save(model, str(path))
        session = ort_session(path, device, what="probed ONNX graph")
    names = [o.name for o in session.get_outputs()]
    feeds_names = [i.name for i in session.get_inputs()]
    stats: dict[str, tuple[float, bool]] = {}
    for image in inputs:
        feeds = {feeds_names[0]: image[None]}
        for extra in feeds_names[1:]:  # a face-aware look's face table: no faces
            feeds[extra] = no_faces(1)
        values = dict(zip(names, session.run(None, feeds), strict=True))
        for name in probes:
            peak, flag = float(values[f"{name}::absmax"]), float(values[f"{name}::nan"])
            finite = math.isfinite(peak) and math.isfinite(flag)
            old_peak, old_finite = stats.get(name, (0.0, True))
            stats[name] = (max(old_peak, peak) if math.isfinite(peak) else math.inf, old_finite and finite)
    return stats


def fp16_keep_nodes(
    fp32_path: str | os.PathLike, inputs: list[np.ndarray], cfg: CalibrateConfig
) -> list[str]:
    """Nodes of the FP32 graph that must stay FP32 in its FP16 copy (see the module docstring)."""
    import onnx
    from onnx import TensorProto, numpy_helper

    model = onnx.load(str(fp32_path))
    ranges = activation_ranges(fp32_path, inputs)
    weights = {
        t.name: float(np.abs(numpy_helper.to_array(t)).max())
        for t in model.graph.initializer
        if t.data_type == TensorProto.FLOAT and np.prod(t.dims, dtype=np.int64) > 0
    }
    keep = []
    for node in model.graph.node:
        if not node.name or node.op_type == "Constant":
            continue
        peak = max((ranges[t][0] for t in (*node.input, *node.output) if t in ranges), default=0.0)
        weight = max((weights[t] for t in node.input if t in weights), default=0.0)
        if peak >= cfg.fp16_activation_limit or weight > cfg.fp16_weight_limit:
            keep.append(node.name)
    return keep


# -- torch: NaN / Inf inside the model -----------------------------------------------------------------
def torch_nonfinite(backend, inputs: list[np.ndarray]) -> list[str]:
    """Modules of a torch backend's model whose float output held a NaN or an Inf (eager, no CUDA graph)."""
    import torch

    model, bad = backend.model, []

    def hook(name):
        def check(_module, _inputs, out):
            if (
                isinstance(out, torch.Tensor)
                and out.is_floating_point()
                and not bool(torch.isfinite(out).all())
            ):
                bad.append(name)

        return check

    handles = [m.register_forward_hook(hook(n)) for n, m in model.named_modules() if n]
    try:
        with torch.inference_mode():
            for image in inputs:
                model(torch.from_numpy(np.ascontiguousarray(image[None])).to(backend.spec.device))
    finally:
        for h in handles:
            h.remove()
    return list(dict.fromkeys(bad))


# -- the check -----------------------------------------------------------------------------------------
def check_precisions(
    style_path: str | os.PathLike,
    inputs: list[np.ndarray],
    cfg: CalibrateConfig | None = None,
    fix_fp16: bool = True,
    kinds=None,
) -> list[PrecisionCheck]:
    """Every precision of every available backend row (or of `kinds`), FP32 first as each row's reference.

    inputs: H x W x 3 uint8 frames, as the model sees them (`frames.check_inputs`).
    fix_fp16: find and keep in FP32 the nodes that overflow FP16 (and record them for later loads);
    False checks the plain FP16 graph.
    """
    from portrait_style.engine.backends import BackendSpec, available_backends, load_backend
    from portrait_style.engine.backends.onnxruntime_backend import OnnxRuntimeBackend
    from portrait_style.engine.export import cached_onnx, write_keep_fp32

    cfg = cfg or CalibrateConfig()
    checks, keep = [], None
    for kind in kinds or available_backends():
        try:
            reference = load_backend(style_path, BackendSpec(kind.name, kind.device, "fp32"))
            expected = [reference(x[None])[0] for x in inputs]
        except Exception as exc:  # noqa: BLE001 - this row cannot run here; the others may
            checks.append(PrecisionCheck(kind.name, kind.device, "fp32", False, cannot_run(exc)))
            reference = None
            continue
        reference = None  # freed before the reduced precisions load
        checks.append(PrecisionCheck(kind.name, kind.device, "fp32", True, "reference", frames=len(inputs)))
        for precision in kind.precisions:
            if precision == "fp32":
                continue
            spec = BackendSpec(kind.name, kind.device, precision)
            row = PrecisionCheck(kind.name, kind.device, precision, False, "", frames=len(inputs))
            try:
                with warnings.catch_warnings():  # the converter's "will be truncated": checked below
                    warnings.simplefilter("ignore", UserWarning)
                    if kind.name == "onnxruntime" and precision == "fp16":
                        if keep is None:
                            keep = fp16_keep_nodes(cached_onnx(style_path), inputs, cfg) if fix_fp16 else []
                            if fix_fp16:
                                write_keep_fp32(style_path, keep)
                        path = cached_onnx(style_path, "fp16", keep_fp32=keep)
                        backend = OnnxRuntimeBackend(path, spec)
                        ranges = activation_ranges(path, inputs, kind.device)
                        nonfinite = [
                            t for t, (peak, ok) in ranges.items() if not (ok and math.isfinite(peak))
                        ]
                        row.keep_fp32 = list(keep)
                    else:
                        backend = load_backend(style_path, spec)
                        nonfinite = torch_nonfinite(backend, inputs) if hasattr(backend, "model") else []
                    outputs = [backend(x[None])[0] for x in inputs]
                psnr, row.max_abs_error = compare(expected, outputs)
            except Exception as exc:  # noqa: BLE001 - refused, and the check goes on
                row.reason = cannot_run(exc)
                checks.append(row)
                continue
            finally:
                backend = None
            row.psnr_db = round(psnr, 2)
            row.finite = not nonfinite
            row.accepted, row.reason = verdict(row.psnr_db, row.max_abs_error, nonfinite, cfg)
            checks.append(row)
    return checks
