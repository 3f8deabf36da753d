"""`portrait-style bench`: model latency per backend and size, and pipeline throughput against I/O.

Model rows time the backend alone on a warm batch of one (median and p95 over `runs`). Pipeline rows
stylize real clips in face and frame mode and, in the same run, pass the same clips through decode +
encode only: that I/O ceiling is what a perfect (zero-cost) style could reach, so `ratio` = fps / ceiling.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from portrait_style.calibrate.timing import model_latency as bench_models
from portrait_style.calibrate.timing import time_call  # noqa: F401 - bench's public name, kept
from portrait_style.config import EncodeConfig, FaceConfig, PipelineConfig
from portrait_style.hardware import machine_name


@dataclass
class BenchConfig:
    style: str | None = None
    model: str | None = None
    sizes: tuple[int, ...] = (256, 512)
    runs: int = 50
    clips: tuple[str, ...] = ()
    modes: tuple[str, ...] = ("face", "frame")
    faces: FaceConfig = field(default_factory=FaceConfig)
    use_profile: bool = True  # pipeline rows: this machine's calibration profile, when there is one


def bench_pipeline(cfg: BenchConfig, encode: EncodeConfig, pipeline: PipelineConfig) -> list[dict]:
    from portrait_style import jobs
    from portrait_style.api import Stylizer
    from portrait_style.calibrate.profile import stylizer_settings
    from portrait_style.engine.style_meta import read_meta
    from portrait_style.engine.styles import resolve_style

    # Face crops at the style's training resolution, as `stylize` does.
    style_path = resolve_style(cfg.style, cfg.model)
    faces = dataclasses.replace(cfg.faces, crop_size=read_meta(style_path).resolution)
    profiled = stylizer_settings if cfg.use_profile else (lambda path, mode: {})
    stylizers = {  # with this machine's calibration profile for the mode, when there is one
        mode: Stylizer(model=str(style_path), mode=mode, faces=faces, **profiled(style_path, mode))
        for mode in cfg.modes
    }
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for clip in cfg.clips:
            out = Path(tmp) / "out.mp4"
            io_only = jobs.process_video(clip, out, [], encode, pipeline, progress=False)
            rows.append({"clip": Path(clip).name, "mode": "decode+encode only", **io_only.as_row()})
            for mode, stylizer in stylizers.items():
                stylizer.reset()
                result = jobs.process_video(clip, out, stylizer.stages(), encode, pipeline, progress=False)
                rows.append({"clip": Path(clip).name, "mode": mode, **result.as_row()})
    return _add_ratios(rows)


def _add_ratios(rows: list[dict]) -> list[dict]:
    ceiling = {r["clip"]: r["fps"] for r in rows if r["mode"] == "decode+encode only"}
    for r in rows:
        r["ratio_to_io"] = round(r["fps"] / ceiling[r["clip"]], 3)
    return rows


def summarise(rows: list[dict]) -> list[dict]:
    """Per mode: total frames / total seconds over all clips, and its ratio to the I/O ceiling."""
    totals: dict[str, list[float]] = {}
    for r in rows:
        frames, seconds = totals.setdefault(r["mode"], [0, 0.0])
        totals[r["mode"]] = [frames + r["frames"], seconds + r["seconds"]]
    io_fps = totals["decode+encode only"][0] / totals["decode+encode only"][1]
    return [
        {"mode": m, "frames": int(f), "fps": round(f / s, 1), "ratio_to_io": round(f / s / io_fps, 3)}
        for m, (f, s) in totals.items()
    ]


def print_tables(report: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    console.print(f"machine: {report['machine']}   style: {report['style']}")
    if report["models"]:
        t = Table("backend", "device", "size", "median ms", "p95 ms", title="model latency (batch 1, warm)")
        errors = []
        for r in report["models"]:
            if "error" in r:  # a row that could not run: its reason below the table, each once
                t.add_row(r["backend"], r["device"], f"{r['size']}²", "failed", "-")
                line = f"{r['backend']} {r['device']}: {r['error']}"
                errors += [] if line in errors else [line]
                continue
            t.add_row(
                r["backend"], r["device"], f"{r['size']}²", f"{r['median_ms']:.2f}", f"{r['p95_ms']:.2f}"
            )
        console.print(t)
        for line in errors:
            console.print(f"failed: {line}", markup=False, highlight=False, soft_wrap=True)
    if report["pipeline"]:
        t = Table("clip", "mode", "frames", "fps", "ratio to I/O", title="stylize-video throughput")
        for r in report["pipeline"] + [dict(r, clip="ALL") for r in report["pipeline_total"]]:
            t.add_row(r["clip"], r["mode"], str(r["frames"]), f"{r['fps']:.1f}", f"{r['ratio_to_io']:.2f}")
        console.print(t)


def run_benchmark(cfg: BenchConfig, encode: EncodeConfig | None = None) -> dict:
    from portrait_style.engine.styles import resolve_style

    style_path = resolve_style(cfg.style, cfg.model)
    report = {"machine": machine_name(), "style": style_path.stem, "config": asdict(cfg)}
    report["models"] = bench_models(style_path, cfg.sizes, cfg.runs) if cfg.runs else []
    pipeline_rows = bench_pipeline(cfg, encode or EncodeConfig(), PipelineConfig()) if cfg.clips else []
    report["pipeline"] = pipeline_rows
    report["pipeline_total"] = summarise(pipeline_rows) if pipeline_rows else []
    return report


def configure_parser(p: argparse.ArgumentParser) -> None:
    group = p.add_mutually_exclusive_group()
    group.add_argument("--style", help="built-in style name")
    group.add_argument("--model", help="style checkpoint path")
    p.add_argument("--sizes", default="256,512", help="square model input sizes, comma-separated")
    p.add_argument("--runs", type=int, default=50, help="timed runs per backend and size (0: skip)")
    p.add_argument("--clip", action="append", default=[], help="video to run the pipeline on (repeatable)")
    p.add_argument("--modes", default="face,frame", help="pipeline modes to time")
    p.add_argument("--yunet-model", help="YuNet .onnx for the face detector")
    p.add_argument("--json", help="write the full report here")
    p.add_argument("--no-profile", action="store_true", help="pipeline rows: ignore the calibration profile")
    p.add_argument(
        "--live",
        action="store_true",
        help="instead: a paced camera (the first --clip, or a synthetic 640x480 clip) at --camera-fps through"
        " each mode for --seconds; prints fps, capture->sink latency p50/p95 and dropped frames as JSON",
    )
    p.add_argument("--seconds", type=float, default=10.0, help="--live: seconds per mode (default 10)")
    p.add_argument(
        "--camera-fps", type=float, default=30.0, help="--live: the paced camera's rate (default 30)"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from portrait_style.errors import InputError

    try:
        sizes = tuple(int(s) for s in args.sizes.split(",") if s)
    except ValueError:
        raise InputError(f"--sizes must be comma-separated integers, got '{args.sizes}'") from None
    for clip in args.clip:
        if not Path(clip).is_file():
            raise InputError(f"clip not found: {clip}")
    if args.live:
        return run_live_bench(args)
    cfg = BenchConfig(
        style=args.style,
        model=args.model,
        sizes=sizes,
        runs=args.runs,
        clips=tuple(args.clip),
        modes=tuple(m for m in args.modes.split(",") if m),
        faces=FaceConfig(yunet_model=args.yunet_model),
        use_profile=not args.no_profile,
    )
    report = run_benchmark(cfg)
    print_tables(report)
    if args.json:
        from portrait_style.fileutil import atomic_path

        with atomic_path(args.json) as tmp:
            tmp.write_text(json.dumps(report, indent=2, default=str))
        print(f"saved {args.json}", file=sys.stderr)
    return 0


def run_live_bench(args: argparse.Namespace) -> int:
    from portrait_style.errors import InputError
    from portrait_style.live.bench import bench_live

    if not (args.seconds > 0 and args.camera_fps > 0):
        raise InputError("--seconds and --camera-fps must be positive")
    report = bench_live(
        style=args.style,
        model=args.model,
        modes=tuple(m for m in args.modes.split(",") if m),
        seconds=args.seconds,
        clip=args.clip[0] if args.clip else None,
        fps=args.camera_fps,
        faces=FaceConfig(yunet_model=args.yunet_model) if args.yunet_model else None,
    )
    text = json.dumps(report, indent=2)
    print(text)
    if args.json:
        from portrait_style.fileutil import atomic_path

        with atomic_path(args.json) as tmp:
            tmp.write_text(text)
    return 0
