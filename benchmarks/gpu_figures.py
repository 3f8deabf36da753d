"""GPU figures in one run: generator and look latency, the peers next to them, and stylize-video against
its I/O ceiling, with the device named. Written to be run unchanged, in one call, on a lent GPU machine.

    python benchmarks/gpu_figures.py --out DIR [--clip VIDEO] [--budget-s 360]
    python benchmarks/gpu_figures.py --out DIR --smoke      # tiny sizes on the CPU: proves it end to end
    python benchmarks/gpu_figures.py --out DIR --model GEN.safetensors   # a trained generator instead

What it measures (every section in the same process, so the figures share one machine state):

1. models: the generator and a look. The generator is `Generator()` (the shipped architecture at its
   default size) with random weights, saved as a 256x256 face-mode style (its cost does not depend on
   the weights; the built-in default, `studio`, is a look, not a generator); `--style NAME` /
   `--model PATH` time a generator style instead (a look there is refused). The look is the built-in
   `studio` (else another shipped look, else a LookNet with default arguments and random weights), or
   `--look PATH`. Each row records the architecture it timed (`arch`). Sizes 256x256
   and 1920x1080, batch 1 and 8, through the backend table (`load_backend`): torch CUDA fp32 / fp16 /
   bf16 (CUDA graphs and channels-last, the defaults), fp16 eager and fp16 NCHW at batch 1, ONNX
   Runtime CUDA and TensorRT rows when they are available here (else recorded as not available; a
   TensorRT engine is built for every size and batch timed, which can take minutes the first time).
   Two paths per row: `device` (`run_tensor` on tensors already on the GPU, timed with CUDA events:
   the model alone) and `host` (numpy in, numpy out: upload + model + download, wall clock). Each
   config's batch-1 output is compared with the fp32 row's on the same image (max |diff| in levels).
2. peers: fast-neural-style's TransformerNet and CycleGAN's ResNet-9 generator (benchmarks/peers.py,
   random weights), eager, as their projects ship them, fp32 (and fp16), same sizes and batches;
   throughput ratios ours / theirs side by side.
3. pipeline: `stylize-video` face mode with the generator on a 1920x1080 clip (the first --clip-frames
   frames of --clip, scaled to 1080p if it is not; without --clip a synthetic clip: scikit-image's
   astronaut photo drifting over a background) as fps and as a ratio to decode + encode alone in the
   same run; and whole-frame mode with the look.

Timing follows the device notes: warm-up calls first (graph capture and cuDNN's algorithm search happen
there), random inputs (never zeros) rotated among a few buffers, as many timed calls as fit in
--row-s seconds (at least a few), medians and p95. `--budget-s` bounds the whole run: each section has a
deadline and rows past it are recorded as skipped. Results: DIR/gpu_figures.json (everything) and
DIR/gpu_figures.md (tables, aims against measurements), rewritten after each section.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import platform
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # peers.py
try:
    import portrait_style  # noqa: F401
except ImportError:  # a bare checkout (the device machine): the package from src/
    sys.path.insert(0, str(HERE.parent / "src"))

import torch  # noqa: E402
from peers import PEERS, peer_input  # noqa: E402

from portrait_style.hardware import cpu_name, machine_name  # noqa: E402

DTYPES = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}
SECTIONS = ("models", "peers", "pipeline")
# the aims on an H100/H200
AIM_CROP_MS = 1.0  # 256² generator, batch 1
AIM_FRAME_FPS = 200.0  # whole-frame 1080p
AIM_PEER_RATIO = 10.0  # our throughput over the peers' eager fp32


@dataclass(frozen=True)
class Size:
    role: str  # "crop" (a face crop) or "frame" (a whole video frame)
    height: int
    width: int

    @property
    def label(self) -> str:
        return f"{self.width}x{self.height}"


@dataclass(frozen=True)
class Plan:
    device: str
    sizes: tuple[Size, ...]
    batches: tuple[int, ...]
    precisions: tuple[str, ...]
    peer_precisions: tuple[str, ...]
    warmup: int
    min_runs: int
    max_runs: int
    row_s: float  # timed seconds per row and path, about
    clip_size: tuple[int, int]  # (width, height)
    clip_frames: int
    smoke: bool = False


def make_plan(args: argparse.Namespace) -> Plan:
    if args.smoke:  # tiny, on the CPU, 2 timed runs: every code path, none of the cost
        torch.set_num_threads(1)  # steady on a shared machine, where more threads only contend
        return Plan(
            device="cpu",
            sizes=(Size("crop", 64, 64), Size("frame", 48, 80)),
            batches=(1, 2),
            precisions=("fp32", "bf16"),
            peer_precisions=("fp32",),
            warmup=1,
            min_runs=2,
            max_runs=2,
            row_s=0.0,
            clip_size=(480, 352),  # the synthetic face is then just over MTCNN's 40 px minimum
            clip_frames=6,
            smoke=True,
        )
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    return Plan(
        device=device,
        sizes=(Size("crop", 256, 256), Size("frame", 1080, 1920)),
        batches=(1, 8),
        precisions=("fp32", "fp16", "bf16") if device.startswith("cuda") else ("fp32", "bf16"),
        peer_precisions=("fp32", "fp16") if device.startswith("cuda") else ("fp32",),
        warmup=5,
        min_runs=5,
        max_runs=args.runs,
        row_s=args.row_s,
        clip_size=(1920, 1080),
        clip_frames=args.clip_frames,
    )


@dataclass
class Clock:
    """Absolute deadlines per section, so time one section leaves unused passes to the next."""

    start: float
    budget_s: float
    shares: dict[str, float] = field(default_factory=lambda: {"models": 0.5, "peers": 0.72, "pipeline": 1.0})

    def left(self, section: str) -> float:
        return self.start + self.budget_s * self.shares[section] - time.perf_counter()


# -- the machine ----------------------------------------------------------------------------------------
def _nvidia_smi() -> dict:
    fields = "driver_version,clocks.sm,clocks.max.sm,clocks.mem,temperature.gpu,power.draw,pstate"
    try:
        out = subprocess.run(
            ["nvidia-smi", f"--query-gpu={fields}", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=15,
            check=True,
        ).stdout.splitlines()[0]
    except (OSError, subprocess.SubprocessError, IndexError):
        return {}
    return dict(zip(fields.split(","), (v.strip() for v in out.split(",")), strict=False))


def _version(module: str) -> str:
    try:
        return __import__(module).__version__
    except Exception:  # noqa: BLE001 - any import failure means "not installed" here
        return "not installed"


def device_info(plan: Plan) -> dict:
    cuda = plan.device.startswith("cuda")
    info = {
        "device_name": torch.cuda.get_device_name(plan.device) if cuda else f"CPU: {cpu_name()}",
        "device": plan.device,
        "machine": machine_name(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cuda_runtime": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None,
        "onnxruntime": _version("onnxruntime"),
        "tensorrt": _version("tensorrt"),
        "numpy": np.__version__,
        "opencv": _version("cv2"),
        "av": _version("av"),
    }
    try:
        import onnxruntime as ort

        info["onnxruntime_providers"] = ort.get_available_providers()
    except ImportError:
        info["onnxruntime_providers"] = []
    if cuda:
        props = torch.cuda.get_device_properties(plan.device)
        smi = _nvidia_smi()
        info.update(
            driver=smi.get("driver_version", "unknown (nvidia-smi not readable)"),
            capability=f"{props.major}.{props.minor}",
            multiprocessors=props.multi_processor_count,
            memory_gib=round(props.total_memory / 2**30, 1),
            clocks_before=smi,
            cudnn_benchmark=torch.backends.cudnn.benchmark,
            tf32_convolutions=getattr(torch.backends.cudnn, "allow_tf32", None),
            tf32_matmul=getattr(torch.backends.cuda.matmul, "allow_tf32", None),
        )
    return info


# -- timing ---------------------------------------------------------------------------------------------
def _sync(cuda: bool) -> None:
    if cuda:
        torch.cuda.synchronize()


def time_calls(fn, inputs: list, plan: Plan, events: bool) -> dict:
    """Median and p95 ms per call of fn(input), inputs rotated. events: CUDA events on the current stream
    (calls back to back: what the GPU spends, launch gaps included); else the wall clock per call."""
    cuda = plan.device.startswith("cuda")
    start = time.perf_counter()
    for i in range(plan.warmup):  # at least two: the first pays the one-off costs (capture, autotuning)
        fn(inputs[i % len(inputs)])
        _sync(cuda)
        if i >= 1 and time.perf_counter() - start > plan.row_s:
            break
    start = time.perf_counter()
    fn(inputs[0])
    _sync(cuda)
    once = time.perf_counter() - start
    # as many as fit in row_s; a call slower than row_s alone gets the fewest that still give a median
    fewest = plan.min_runs if once <= plan.row_s else min(plan.min_runs, 3)
    n = int(min(plan.max_runs, max(fewest, plan.row_s / max(once, 1e-6))))
    if events:
        marks = [
            (torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)) for _ in range(n)
        ]
        for i, (begin, end) in enumerate(marks):
            begin.record()
            fn(inputs[i % len(inputs)])
            end.record()
        torch.cuda.synchronize()
        ms = np.array([b.elapsed_time(e) for b, e in marks])
        per_call = marks[0][0].elapsed_time(marks[-1][1]) / n
    else:
        samples = []
        for i in range(n):
            start = time.perf_counter()
            fn(inputs[i % len(inputs)])
            _sync(cuda)
            samples.append(time.perf_counter() - start)
        ms = np.array(samples) * 1000
        per_call = float(ms.mean())
    return {
        "median_ms": round(float(np.median(ms)), 4),
        "p95_ms": round(float(np.percentile(ms, 95)), 4),
        "min_ms": round(float(ms.min()), 4),
        "back_to_back_ms": round(per_call, 4),
        "runs": n,
        "timer": "cuda events" if events else "wall clock",
    }


def _cleanup(cuda: bool) -> None:
    gc.collect()
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.empty_cache()


def _why(exc: BaseException) -> str:
    return " ".join(f"{type(exc).__name__}: {exc}".split())[:240]


# -- 1. models ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Config:
    backend: str
    device: str
    precision: str
    options: tuple[tuple[str, object], ...] = ()
    batch1_only: bool = False

    @property
    def options_text(self) -> str:
        return " ".join(f"{k}={v}" for k, v in self.options) or "defaults"


def model_configs(plan: Plan) -> list[Config]:
    dev = plan.device
    configs = [Config("torch", dev, p) for p in plan.precisions]  # the first is the fp32 reference
    if dev.startswith("cuda"):
        configs += [
            Config("torch", dev, "fp16", (("cuda_graphs", False),), batch1_only=True),
            Config("torch", dev, "fp16", (("channels_last", False),), batch1_only=True),
        ]
    else:
        configs += [Config("torch", dev, "fp32", (("channels_last", False),), batch1_only=True)]
    gpu = dev if dev.startswith("cuda") else "cuda"
    configs += [Config("onnxruntime", gpu, p) for p in ("fp32", "fp16")]
    # TensorRT's optimisation profile must cover every shape timed (its defaults fit the style's own mode)
    profile = (
        ("max_batch", max(plan.batches)),
        ("max_side", max(max(s.height, s.width) for s in plan.sizes)),
    )
    configs += [Config("tensorrt", gpu, "fp16", profile)]
    return configs


def chosen_generator(style: str | None, model: str | None) -> Path | None:
    """--style/--model's style file when it is a generator; None when neither is given. A look, or a style
    that is not there, is a ValueError with one line."""
    from portrait_style.engine.style_meta import GENERATOR_ARCH, read_meta
    from portrait_style.engine.styles import resolve_style
    from portrait_style.errors import ModelError

    if not (style or model):
        return None
    what = f"--style {style}" if style else f"--model {model}"
    try:
        path = resolve_style(style, model)
        arch = read_meta(path).arch
    except ModelError as exc:
        raise ValueError(f"{what}: {' '.join(str(exc).split())}") from None
    if arch != GENERATOR_ARCH:
        raise ValueError(
            f"{what} is a {arch} style, not a generator ({GENERATOR_ARCH}); leave --style/--model out to "
            "time Generator() with random weights, and pass a look as --look"
        )
    return path


def generator_model(folder: Path, chosen: Path | None) -> tuple[Path, str]:
    """The generator style file to time and its name: `chosen`, else `Generator()` (the shipped architecture
    at its defaults) with random weights, saved into `folder` as a 256x256 face style."""
    from portrait_style.engine.checkpoint import StyleMeta, save_style
    from portrait_style.engine.model import Generator

    if chosen is not None:
        return chosen, f"generator ({chosen.stem})"
    torch.manual_seed(0)  # PyTorch's default initialisation: not the identity, so precision shows
    meta = StyleMeta(name="generator", mode="face", resolution=256, description="Generator(), random")
    path = save_style(folder / "generator.safetensors", Generator(), meta)
    return path, "generator (Generator() defaults, random weights)"


def style_record(path: Path) -> dict:
    """What the report says about a model it timed: architecture, size, mode and file."""
    from portrait_style.engine.style_meta import read_meta

    meta = read_meta(path)
    return {
        "path": str(path),
        "name": meta.name,
        "arch": meta.arch,
        "arch_args": meta.arch_args,
        "mode": meta.mode,
        "resolution": meta.resolution,
    }


def look_model(folder: Path, look: str | None) -> tuple[Path, str]:
    """A look style file to time: --look, else the built-in `studio` (the default style), else another
    shipped look, else a default LookNet (random weights)."""
    from portrait_style.engine.checkpoint import StyleMeta, save_style
    from portrait_style.engine.style_meta import read_meta
    from portrait_style.engine.styles import builtin_styles
    from portrait_style.look.model import ARCH_NAME, LookNet

    if look:
        return Path(look), f"look ({Path(look).stem})"
    shipped = builtin_styles()
    for name in sorted(shipped, key=lambda name: name != "studio"):  # studio first
        if read_meta(shipped[name]).arch == ARCH_NAME:
            return shipped[name], f"look ({name})"
    torch.manual_seed(0)
    net = LookNet()
    with torch.no_grad():  # off the identity, so precision differences show in the output
        for name in ("grid_out", "adapt"):  # the zero-initialised output layers
            layer = getattr(net, name, None)
            if isinstance(layer, torch.nn.Module) and hasattr(layer, "weight"):
                layer.weight.normal_(0.0, 0.02)
    meta = StyleMeta(name="look-default", arch=ARCH_NAME, mode="frame", description="LookNet(), random")
    path = save_style(folder / "look-default.safetensors", net, meta)
    return path, "look (LookNet defaults, random weights)"


def bench_models(plan: Plan, models: dict[str, Path], clock: Clock, rows: list[dict]) -> None:
    from portrait_style.engine.backends import BackendSpec, load_backend
    from portrait_style.engine.style_meta import read_meta

    cuda = plan.device.startswith("cuda")
    rng = np.random.default_rng(0)
    for model_name, path in models.items():
        arch = read_meta(path).arch
        probe = {s: rng.integers(0, 256, (1, s.height, s.width, 3), dtype=np.uint8) for s in plan.sizes}
        reference: dict[Size, np.ndarray] = {}
        for cfg in model_configs(plan):
            base = {
                "model": model_name,
                "arch": arch,
                "backend": cfg.backend,
                "device": cfg.device,
                "precision": cfg.precision,
                "options": cfg.options_text,
            }
            if clock.left("models") <= 0:
                rows.append({**base, "status": "skipped: time budget"})
                continue
            try:
                spec = BackendSpec(cfg.backend, cfg.device, cfg.precision, dict(cfg.options))
                backend = load_backend(path, spec)
            except Exception as exc:  # noqa: BLE001 - a row the machine lacks is a finding, not a crash
                rows.append({**base, "status": f"not available: {_why(exc)}"})
                continue
            base["describe"] = backend.describe()
            print(f"  {model_name}: {backend.describe()}", flush=True)
            try:
                for size in plan.sizes:
                    for batch in (1,) if cfg.batch1_only else plan.batches:
                        row = {**base, "role": size.role, "size": size.label, "batch": batch}
                        if clock.left("models") <= 0:
                            rows.append({**row, "status": "skipped: time budget"})
                            continue
                        rows.extend(_model_rows(backend, row, size, batch, probe, reference, plan, rng))
            finally:
                del backend
                _cleanup(cuda)


def _model_rows(backend, row, size, batch, probe, reference, plan, rng) -> list[dict]:
    cuda = plan.device.startswith("cuda")
    try:
        if batch == 1:
            out = backend(probe[size]).astype(np.int16)
            if (row["backend"], row["precision"], row["options"]) == ("torch", "fp32", "defaults"):
                reference[size] = out
        if batch == 1 and size in reference:
            diff = np.abs(out - reference[size])
            row = {
                **row,
                "max_diff_vs_fp32": int(diff.max()),
                "mean_diff_vs_fp32": round(float(diff.mean()), 4),
            }
        host = [rng.integers(0, 256, (batch, size.height, size.width, 3), dtype=np.uint8) for _ in range(3)]
        out = []
        if hasattr(backend, "run_tensor"):
            on_device = [torch.from_numpy(x).to(plan.device) for x in host]
            stats = time_calls(backend.run_tensor, on_device, plan, events=cuda)
            out.append({**row, "path": "device", **_fps(stats, batch), "status": "ok"})
            del on_device
        stats = time_calls(backend, host, plan, events=False)
        out.append({**row, "path": "host", **_fps(stats, batch), "status": "ok"})
        return out
    except Exception as exc:  # noqa: BLE001 - out of memory, a runtime refusing a shape: recorded
        _cleanup(cuda)
        return [{**row, "status": f"failed: {_why(exc)}"}]


def _fps(stats: dict, batch: int) -> dict:
    return {
        **stats,
        "images_per_s": round(batch * 1000.0 / stats["median_ms"], 1) if stats["median_ms"] else None,
    }


# -- 2. peers -------------------------------------------------------------------------------------------
def bench_peers(plan: Plan, clock: Clock, rows: list[dict]) -> None:
    cuda = plan.device.startswith("cuda")
    for name, (build, _) in PEERS.items():
        for precision in plan.peer_precisions:
            base = {"model": name, "mode": "eager, NCHW (as shipped)", "precision": precision}
            torch.manual_seed(0)
            model = build().eval().to(plan.device, DTYPES[precision])
            for size in plan.sizes:
                for batch in plan.batches:
                    row = {**base, "role": size.role, "size": size.label, "batch": batch}
                    if clock.left("peers") <= 0:
                        rows.append({**row, "status": "skipped: time budget"})
                        continue
                    try:
                        inputs = [
                            peer_input(name, batch, size.height, size.width, device=plan.device).to(
                                DTYPES[precision]
                            )
                            for _ in range(2)
                        ]
                        with torch.inference_mode():
                            stats = time_calls(model, inputs, plan, events=cuda)
                        rows.append({**row, **_fps(stats, batch), "status": "ok"})
                        del inputs
                    except Exception as exc:  # noqa: BLE001
                        rows.append({**row, "status": f"failed: {_why(exc)}"})
                    _cleanup(cuda)
            print(f"  {name} {precision}: done", flush=True)
            del model
            _cleanup(cuda)


def peer_ratios(plan: Plan, model_rows: list[dict], peer_rows: list[dict], generator: str) -> list[dict]:
    """Per size and batch: our generator's best device-path throughput over each peer's."""
    ratios = []
    ok = [
        r for r in model_rows if r.get("status") == "ok" and r["model"] == generator and r["path"] == "device"
    ]
    for size in plan.sizes:
        for batch in plan.batches:
            ours = [r for r in ok if r["size"] == size.label and r["batch"] == batch]
            if not ours:
                continue
            best = max(ours, key=lambda r: r["images_per_s"])
            fp32 = next((r for r in ours if r["precision"] == "fp32" and r["options"] == "defaults"), None)
            for name in PEERS:
                theirs = {
                    r["precision"]: r
                    for r in peer_rows
                    if r["model"] == name and r["size"] == size.label and r["batch"] == batch
                    and r.get("status") == "ok"
                }  # fmt: skip
                if "fp32" not in theirs:
                    continue
                peer32 = theirs["fp32"]["images_per_s"]
                peer16 = theirs.get("fp16", {}).get("images_per_s")
                ratios.append(
                    {
                        "size": size.label,
                        "role": size.role,
                        "batch": batch,
                        "peer": name,
                        "ours_best": best["images_per_s"],
                        "ours_best_config": f"{best['precision']} {best['options']}",
                        "ours_fp32": fp32["images_per_s"] if fp32 else None,
                        "peer_fp32": peer32,
                        "peer_fp16": peer16,
                        "best_over_peer_fp32": round(best["images_per_s"] / peer32, 2),
                        "fp32_over_peer_fp32": round(fp32["images_per_s"] / peer32, 2) if fp32 else None,
                        "best_over_peer_fp16": round(best["images_per_s"] / peer16, 2) if peer16 else None,
                    }
                )
    return ratios


# -- 3. pipeline ----------------------------------------------------------------------------------------
def _write_clip(path: Path, frames, width: int, height: int, fps: int = 30) -> int:
    import av

    count = 0
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"crf": "18", "preset": "veryfast"}
        for image in frames:
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")
            container.mux(stream.encode(frame))
            count += 1
        container.mux(stream.encode())
    return count


def synthetic_frames(width: int, height: int, n: int):
    """The astronaut photo (a real face) drifting over a soft background, n frames of width x height."""
    import cv2
    from skimage import data

    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    background = np.stack(
        [80 + 60 * x / width, 90 + 40 * y / height, 120 + 30 * np.sin(x / 37.0) * np.cos(y / 53.0)], axis=-1
    ).astype(np.uint8)
    side = int(height * 0.8) // 2 * 2
    person = cv2.resize(data.astronaut(), (side, side), interpolation=cv2.INTER_AREA)
    top = (height - side) // 2
    for i in range(n):
        frame = background.copy()
        left = int((width - side) / 2 + (width - side) / 4 * np.sin(i / 20.0))
        frame[top : top + side, left : left + side] = person
        yield frame


def clip_frames(path: str, width: int, height: int, n: int):
    """The first n frames of a video, scaled to width x height where they differ."""
    import cv2

    from portrait_style.engine.video_io import VideoReader

    with VideoReader(path) as reader:
        for i, frame in enumerate(reader):
            if i >= n:
                break
            image = frame.image if hasattr(frame, "image") else frame
            if image.shape[:2] != (height, width):
                image = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
            yield image


def prepare_clip(plan: Plan, args: argparse.Namespace, folder: Path) -> tuple[Path | None, str]:
    width, height = plan.clip_size
    out = folder / f"clip-{width}x{height}.mp4"
    if args.clip:
        if not Path(args.clip).is_file():
            return None, f"--clip {args.clip} not found: pipeline rows skipped"
        n = _write_clip(out, clip_frames(args.clip, width, height, plan.clip_frames), width, height)
        return out, f"{Path(args.clip).name}: first {n} frames at {width}x{height}"
    try:
        n = _write_clip(out, synthetic_frames(width, height, plan.clip_frames), width, height)
    except ImportError as exc:
        return None, f"no --clip and no synthetic clip ({_why(exc)}): pipeline rows skipped"
    return out, f"synthetic (scikit-image astronaut drifting), {n} frames at {width}x{height}"


class _Counting:
    """Wraps the infer stage to count frames that had at least one face crop."""

    def __init__(self, stages):
        self.with_faces = 0
        self.crops = 0
        self.stages = [(name, self._wrap(fn) if name == "infer" else fn) for name, fn in stages]

    def _wrap(self, fn):
        def infer(packet):
            n = 0 if packet.crops is None else len(packet.crops)
            self.with_faces += n > 0
            self.crops += n
            return fn(packet)

        return infer


def bench_pipeline(
    plan: Plan,
    args: argparse.Namespace,
    generator_path: Path,
    look_path: Path,
    folder: Path,
    clock: Clock,
    report: dict,
) -> None:
    from portrait_style import jobs
    from portrait_style.api import Stylizer
    from portrait_style.config import EncodeConfig, PipelineConfig
    from portrait_style.engine.backends import BackendSpec

    if clock.left("pipeline") <= 0:
        report["notes"].append("pipeline rows skipped: time budget spent before them")
        return
    clip, note = prepare_clip(plan, args, folder)
    report["pipeline_clip"] = note
    rows = report["pipeline"]
    if clip is None:
        report["notes"].append(note)
        return
    encode, pipeline = EncodeConfig(), PipelineConfig()
    out = folder / "out.mp4"
    spec = BackendSpec("torch", plan.device)  # the table's default precision there (fp16 on CUDA)
    runs = [
        ("decode+encode only", None),
        ("face", lambda: Stylizer(model=str(generator_path), mode="face", backend=spec)),
        ("frame (look)", lambda: Stylizer(model=str(look_path), mode="frame", backend=spec)),
        ("decode+encode only", None),
    ]
    for mode, make in runs:
        row = {"clip": note, "mode": mode}
        if clock.left("pipeline") <= 0:
            rows.append({**row, "status": "skipped: time budget"})
            continue
        try:
            stages, counting = [], None
            if make is not None:
                stylizer = make()
                stylizer.warmup()
                row["backend"] = stylizer.backend.describe()
                counting = _Counting(stylizer.stages())
                stages = counting.stages
            result = jobs.process_video(clip, out, stages, encode, pipeline, progress=False)
            row.update(result.as_row(), status="ok")
            if counting is not None and mode == "face":
                row.update(frames_with_faces=counting.with_faces, face_crops=counting.crops)
        except Exception as exc:  # noqa: BLE001
            row["status"] = f"failed: {_why(exc)}"
        rows.append(row)
        print(f"  {mode}: {row.get('fps', row['status'])} fps", flush=True)
        _cleanup(plan.device.startswith("cuda"))
    ceilings = [r["fps"] for r in rows if r["mode"] == "decode+encode only" and r.get("status") == "ok"]
    if ceilings:
        ceiling = max(ceilings)  # the better of the two I/O runs: the ratio errs low, not high
        for r in rows:
            if r.get("status") == "ok":
                r["ratio_to_io"] = round(r["fps"] / ceiling, 3)


# -- aims and the report --------------------------------------------------------------------------------


def _aim_row(aim: str, row: dict | None, key: str, fmt: str, met) -> dict:
    """One aim against the best timed row for it (None: nothing was timed)."""
    if row is None:
        return {"aim": aim, "measured": "n/a", "met": None}
    measured = f"{fmt.format(row[key])} ({row['precision']} {row['options']})"
    return {"aim": aim, "measured": measured, "met": bool(met(row[key]))}


def aims(plan: Plan, report: dict, generator: str, look: str) -> list[dict]:
    crop = next(s for s in plan.sizes if s.role == "crop")
    frame = next(s for s in plan.sizes if s.role == "frame")
    ok = [r for r in report["models"] if r.get("status") == "ok"]

    def best(model: str, size: Size, path: str, key: str):
        rows = [r for r in ok if r["model"] == model and r["size"] == size.label and r["batch"] == 1]
        rows = [r for r in rows if r["path"] == path]
        if not rows:
            return None
        return (
            min(rows, key=lambda r: r["median_ms"])
            if key == "ms"
            else max(rows, key=lambda r: r["images_per_s"])
        )

    out = []
    for path, what in (("device", "on the device"), ("host", "numpy in and out (upload + download)")):
        r = best(generator, crop, path, "ms")
        aim = f"{crop.label} generator <= {AIM_CROP_MS:g} ms at batch 1, {what}"
        out.append(_aim_row(aim, r, "median_ms", "{:.3f} ms median", lambda v: v <= AIM_CROP_MS))
    for model in (look, generator):
        for path, what in (("device", "on the device"), ("host", "upload + download")):
            r = best(model, frame, path, "fps")
            aim = f"whole-frame {frame.label} >= {AIM_FRAME_FPS:g} fps: {model}, batch 1, {what}"
            out.append(_aim_row(aim, r, "images_per_s", "{:.1f} fps", lambda v: v >= AIM_FRAME_FPS))
    for r in report["pipeline"]:
        if r["mode"] == "frame (look)" and r.get("status") == "ok":
            out.append(
                {
                    "aim": f"whole-frame {frame.label} >= {AIM_FRAME_FPS:g} fps: stylize-video frame mode "
                    "(look), decode to encode",
                    "measured": f"{r['fps']:.1f} fps ({r['ratio_to_io']:.2f} of decode+encode alone)",
                    "met": r["fps"] >= AIM_FRAME_FPS,
                }
            )
    for r in report["peer_ratios"]:
        out.append(
            {
                "aim": f">= {AIM_PEER_RATIO:g}x {r['peer']} eager fp32 throughput, "
                f"{r['size']} batch {r['batch']}",
                "measured": f"{r['best_over_peer_fp32']:.1f}x "
                f"({r['ours_best']:.0f} vs {r['peer_fp32']:.1f} images/s)",
                "met": r["best_over_peer_fp32"] >= AIM_PEER_RATIO,
            }
        )
    return out


def _cell(value, digits: int = 2) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _timing_cells(r: dict) -> str:
    """median ms | p95 ms | images/s"""
    return f"{_cell(r.get('median_ms'), 3)} | {_cell(r.get('p95_ms'), 3)} | {_cell(r.get('images_per_s'), 1)}"


def _times(value) -> str:
    return "" if value is None else f"{value:.1f}x"


def markdown(report: dict) -> str:
    d = report["device_info"]
    lines = [f"# GPU figures: {d['device_name']}", ""]
    if report["smoke"]:
        lines += [
            "**Smoke run** (`--smoke`): tiny sizes on the CPU, 2 timed runs; proves the script, not speed.",
            "",
        ]
    gpu = (
        f"driver {d.get('driver')}, compute capability {d.get('capability')}, "
        f"{d.get('multiprocessors')} SMs, {d.get('memory_gib')} GiB; "
        if "driver" in d
        else ""
    )
    lines += [
        f"Device: **{d['device_name']}** ({gpu}machine: {d['machine']}).",
        f"Software: Python {d['python']}, torch {d['torch']} (CUDA {d['cuda_runtime']}, cuDNN {d['cudnn']}), "
        f"ONNX Runtime {d['onnxruntime']} (providers: {', '.join(d['onnxruntime_providers']) or 'none'}), "
        f"TensorRT {d['tensorrt']}, OpenCV {d['opencv']}, PyAV {d['av']}, NumPy {d['numpy']}.",
        f"Run: `{report['command']}`, {report['started']}, {report['wall_s']:.0f} s.",
    ]
    for name, style in report.get("styles", {}).items():
        lines.append(
            f"Timed as {name}: architecture `{style['arch']}` {style['arch_args']}, {style['mode']} mode, "
            f"resolution {style['resolution']}."
        )
    if d.get("clocks_before"):
        lines.append(f"nvidia-smi before: {d['clocks_before']}; after: {report.get('clocks_after', {})}.")
    if "cudnn_benchmark" in d:
        lines.append(
            f"cuDNN benchmark mode {d['cudnn_benchmark']}, TF32 convolutions {d['tf32_convolutions']} "
            "(PyTorch's defaults for fp32 convolutions; the same for the peers)."
        )
    lines += ["", "## Aims", "", "| aim | measured | met |", "|---|---|---|"]
    for a in report["aims"]:
        met = {True: "met", False: "not met", None: "not measured"}[a["met"]]
        lines.append(f"| {a['aim']} | {a['measured']} | {met} |")
    lines += [
        "",
        "## Generator and look latency",
        "",
        "`device`: `run_tensor` on tensors already on the device (CUDA events, back to back); `host`: numpy "
        "in and out, upload and download included (wall clock). Max diff: uint8 levels against the fp32 "
        "row on the same image (batch 1).",
        "",
        "| model | backend | precision | options | size | batch | path | median ms | p95 ms | images/s "
        "| max diff | runs | status |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in report["models"]:
        lines.append(
            f"| {r['model']} | {r['backend']} {r['device']} | {r['precision']} | {r['options']} | "
            f"{r.get('size', '')} | {r.get('batch', '')} | {r.get('path', '')} | "
            f"{_timing_cells(r)} | "
            f"{_cell(r.get('max_diff_vs_fp32'))} | {_cell(r.get('runs'))} | {r['status']} |"
        )
    lines += [
        "",
        "## Peers (random weights, eager as shipped)",
        "",
        "| model | precision | size | batch | median ms | p95 ms | images/s | runs | status |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in report["peers"]:
        lines.append(
            f"| {r['model']} | {r['precision']} | {r['size']} | {r['batch']} | "
            f"{_timing_cells(r)} | "
            f"{_cell(r.get('runs'))} | {r['status']} |"
        )
    lines += [
        "",
        "## Throughput: our generator over the peers (same run, device path)",
        "",
        "| size | batch | peer | ours best images/s (config) | ours fp32 | peer fp32 | peer fp16 "
        "| best / peer fp32 | ours fp32 / peer fp32 | best / peer fp16 |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in report["peer_ratios"]:
        lines.append(
            f"| {r['size']} | {r['batch']} | {r['peer']} | {r['ours_best']:.1f} ({r['ours_best_config']}) | "
            f"{_cell(r['ours_fp32'], 1)} | {r['peer_fp32']:.1f} | {_cell(r['peer_fp16'], 1)} | "
            f"**{r['best_over_peer_fp32']:.1f}x** | {_times(r['fp32_over_peer_fp32'])} | "
            f"{_times(r['best_over_peer_fp16'])} |"
        )
    lines += [
        "",
        "## stylize-video against decode + encode alone",
        "",
        f"Clip: {report.get('pipeline_clip', 'none')}. Default settings (MTCNN every 5 frames on the CPU, "
        "x264 veryfast CRF 18); ratio: fps over the better of the two decode+encode-only runs.",
        "",
        "| mode | backend | frames | frames with a face | fps | ratio to I/O | ms per frame by stage "
        "| status |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in report["pipeline"]:
        stages = ", ".join(f"{k} {v}" for k, v in r.get("ms_per_frame", {}).items())
        lines.append(
            f"| {r['mode']} | {r.get('backend', '')} | {_cell(r.get('frames'))} | "
            f"{_cell(r.get('frames_with_faces'))} | {_cell(r.get('fps'), 1)} | "
            f"{_cell(r.get('ratio_to_io'))} | {stages} | {r['status']} |"
        )
    if report["notes"]:
        lines += ["", "## Notes", "", *(f"- {n}" for n in report["notes"])]
    return "\n".join(lines) + "\n"


def write_report(report: dict, out: Path, t0: float) -> None:
    report["wall_s"] = round(time.perf_counter() - t0, 1)
    (out / "gpu_figures.json").write_text(json.dumps(report, indent=2, default=str))
    (out / "gpu_figures.md").write_text(markdown(report))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="folder for gpu_figures.json and gpu_figures.md")
    parser.add_argument("--clip", help="video for the pipeline rows (default: a synthetic 1080p clip)")
    parser.add_argument(
        "--clip-frames", type=int, default=240, help="frames of the clip to use (default 240)"
    )
    which = parser.add_mutually_exclusive_group()
    which.add_argument(
        "--style", help="a built-in generator style (default: Generator() with random weights)"
    )
    which.add_argument("--model", help="a generator style file (default: Generator() with random weights)")
    parser.add_argument("--look", help="a look style file (default: studio, else another shipped look)")
    parser.add_argument("--device", help="cuda, cuda:N or cpu (default: cuda when available)")
    parser.add_argument("--budget-s", type=float, default=360.0, help="whole run, seconds (default 360)")
    parser.add_argument("--row-s", type=float, default=1.0, help="timed seconds per row and path (default 1)")
    parser.add_argument("--runs", type=int, default=300, help="most timed calls per row and path")
    parser.add_argument("--sections", default=",".join(SECTIONS), help="which of models,peers,pipeline")
    parser.add_argument(
        "--smoke", action="store_true", help="tiny sizes on the CPU, 2 runs: proves the script"
    )
    args = parser.parse_args(argv)
    sections = [s for s in args.sections.split(",") if s]
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown section(s) {', '.join(sorted(unknown))}; choose from {', '.join(SECTIONS)}")

    try:
        chosen = chosen_generator(args.style, args.model)
    except ValueError as exc:  # a look, or no such style: one line, before anything is run
        print(f"gpu_figures.py: error: {exc}", file=sys.stderr)
        return 2

    t0 = time.perf_counter()
    plan = make_plan(args)
    cuda = plan.device.startswith("cuda")
    if cuda:
        torch.backends.cudnn.benchmark = True  # what TorchBackend sets; the peers get it too
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    clock = Clock(t0, args.budget_s)
    report: dict = {
        "command": " ".join(
            ["python", "benchmarks/gpu_figures.py", *(argv if argv is not None else sys.argv[1:])]
        ),
        "started": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "smoke": plan.smoke,
        "plan": {
            "device": plan.device,
            "sizes": [s.label for s in plan.sizes],
            "batches": list(plan.batches),
            "precisions": list(plan.precisions),
            "budget_s": args.budget_s,
        },
        "device_info": device_info(plan),
        "models": [],
        "peers": [],
        "peer_ratios": [],
        "pipeline": [],
        "aims": [],
        "notes": [],
    }
    print(f"device: {report['device_info']['device_name']} ({report['device_info']['machine']})", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        generator_path, generator = generator_model(folder, chosen)
        look_path, look = look_model(folder, args.look)
        report["styles"] = {
            name: style_record(path) for name, path in ((generator, generator_path), (look, look_path))
        }
        work = [
            (
                "models",
                lambda: bench_models(
                    plan, {generator: generator_path, look: look_path}, clock, report["models"]
                ),
            ),
            ("peers", lambda: bench_peers(plan, clock, report["peers"])),
            (
                "pipeline",
                lambda: bench_pipeline(plan, args, generator_path, look_path, folder, clock, report),
            ),
        ]
        for name, run in work:
            if name not in sections:
                report["notes"].append(f"section {name} not run (--sections)")
                continue
            print(f"[{name}] {time.perf_counter() - t0:.0f} s", flush=True)
            try:
                run()
            except Exception as exc:  # noqa: BLE001 - keep what the other sections measured
                report["notes"].append(f"section {name} failed: {_why(exc)}")
                traceback.print_exc()
            report["peer_ratios"] = peer_ratios(plan, report["models"], report["peers"], generator)
            report["aims"] = aims(plan, report, generator, look)
            write_report(report, out, t0)
    if cuda:
        report["clocks_after"] = _nvidia_smi()
    unavailable = sorted({f"{r['backend']} {r['device']} {r['precision']}" for r in report["models"]
                          if str(r.get("status", "")).startswith("not available")})  # fmt: skip
    if unavailable:
        report["notes"].append(f"not available on this machine: {', '.join(unavailable)}")
    write_report(report, out, t0)
    print(markdown(report))
    # the aims once more, last, where a terminal's (or a remote run's) tail shows them
    print(f"\nSummary on {report['device_info']['device_name']} ({report['wall_s']:.0f} s):")
    for a in report["aims"]:
        print(f"  [{ {True: 'met', False: 'NOT met', None: 'n/a'}[a['met']] }] {a['aim']}: {a['measured']}")
    for r in report["pipeline"]:
        print(
            f"  stylize-video {r['mode']}: {r.get('fps', '-')} fps, ratio to I/O {r.get('ratio_to_io', '-')}"
        )
    print(f"report: {out / 'gpu_figures.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
