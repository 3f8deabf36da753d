"""`portrait-style calibrate`: check a style's reduced precisions and tune this machine for a frame rate.

    portrait-style calibrate --style mono --quick
    portrait-style calibrate --model my.safetensors --mode frame --fps 25 --frames clip.mp4 --json out.json

Prints a table of the precision checks and one of the timed candidates, saves the profile that
`stylize`, `stylize-video`, `live` and `bench` then use (see calibrate/profile.py), and says where.
A precision or a candidate that fails on this machine (a missing kernel, out of memory, a runtime error)
is listed as "cannot run: <why>" and skipped; the rest go on. Exit codes as elsewhere: 0 when something
usable was found (the precision check: a row that runs; tuning: a timed candidate, saved as the
profile), 2 bad option or unusable --frames, 3 --json or the profile cannot be written, 4 model problem,
or nothing could run the style on this machine (one line saying why, after the tables and --json).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from portrait_style.config import CalibrateConfig
from portrait_style.options import MODES


def register(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "calibrate",
        help="check a style's reduced precisions and tune this machine for a frame rate",
        description="Check which reduced precisions run the style without visible loss (against FP32), then"
        " time backend x precision x threads x working size on this machine and save the best setting"
        " that reaches --fps as a profile that stylize, stylize-video, live and bench use.",
    )
    configure_parser(p)
    p.set_defaults(func=run)
    return p


def positive_fps(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 < value <= 1000:
        raise argparse.ArgumentTypeError(f"must be more than 0 and at most 1000 frames per second: {text}")
    return value


def configure_parser(p: argparse.ArgumentParser) -> None:
    from portrait_style.cli_args import STYLE_HELP

    d = CalibrateConfig()
    group = p.add_mutually_exclusive_group()
    group.add_argument("--style", help=STYLE_HELP)
    group.add_argument("--model", help="path to a style checkpoint (.safetensors)")
    p.add_argument("--mode", choices=MODES, help="calibrate face or frame mode (default: the style's)")
    p.add_argument(
        "--fps", type=positive_fps, default=d.fps, metavar="N", help=f"target frame rate (default {d.fps:g})"
    )
    p.add_argument(
        "--frames",
        metavar="PATH",
        help="real frames to measure on: a folder of images, an image or a video (default: synthetic"
        f" {d.synthetic_size[0]}x{d.synthetic_size[1]} portraits); frame mode times the first at its size",
    )
    p.add_argument("--precision-only", action="store_true", help="only check precisions; save no profile")
    p.add_argument(
        "--quick",
        action="store_true",
        help=f"{d.quick_runs} timed runs per candidate instead of {d.runs}, and no smaller size once one"
        " reaches --fps",
    )
    p.add_argument("--json", metavar="FILE", help="also write the whole report here")


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from portrait_style.calibrate.frames import load_frames, synthetic_portraits
    from portrait_style.calibrate.tuning import calibrate
    from portrait_style.engine.style_meta import read_meta
    from portrait_style.engine.styles import resolve_style
    from portrait_style.errors import ModelError, OutputError
    from portrait_style.fileutil import atomic_path, check_writable_dir

    cfg = CalibrateConfig(fps=args.fps)
    if args.json:  # before any work: a report that cannot be written is known now
        if Path(args.json).is_dir():
            raise OutputError(f"--json {args.json} is a folder; give a file name")
        check_writable_dir(Path(args.json).parent)
    style_path = resolve_style(args.style, args.model)
    mode = args.mode or read_meta(style_path).mode
    if args.frames:
        frames, source = load_frames(args.frames, cfg.check_frames), str(args.frames)
    else:
        frames, source = synthetic_portraits(cfg.check_frames, *cfg.synthetic_size), "synthetic portraits"
    if not args.precision_only:
        ensure_profiles_dir()
    status = Console(stderr=True)
    with status.status("calibrating") as spinner:
        report = calibrate(
            style_path, mode, frames, cfg, args.quick, args.precision_only, source,
            progress=lambda text: spinner.update(text),
        )  # fmt: skip
    print_report(report)
    if args.json:
        with atomic_path(args.json) as tmp:
            tmp.write_text(json.dumps(report, indent=1) + "\n")
        print(f"saved {args.json}", file=sys.stderr)
    if "error" in report:
        raise ModelError(report["error"])
    if "profile" in report:
        print(f"saved calibration profile {report['profile']}", file=sys.stderr)
    return 0


def ensure_profiles_dir() -> None:
    """Before any work: the folder the profile goes to exists, or can be made, and takes files."""
    from portrait_style.calibrate.profile import profiles_dir
    from portrait_style.errors import OutputError
    from portrait_style.fileutil import check_writable_dir

    folder = profiles_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot save calibration profiles in {folder}: {exc.strerror or exc}") from None
    check_writable_dir(folder)


def print_report(report: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    from portrait_style.engine.backends.spec import BackendSpec

    console = Console()
    frames = report["frames"]
    width, height = frames["input_size"]
    console.print(
        f"machine: {report['identity']['machine']}   style: {report['style']} ({report['mode']} mode)"
        f"   frames: {frames['source']} ({frames['count']}, {width}x{height})"
    )
    limits = report["limits"]
    t = Table(
        "runtime", "precision", "PSNR dB", "max err", "NaN/Inf", "FP32 nodes", "verdict",
        title=f"precision against FP32 (refused below {limits['min_psnr_db']:g} dB, above"
        f" {limits['max_abs_error']} levels, or on NaN/Inf)",
    )  # fmt: skip
    for c in report["precisions"]:
        verdict = "reference" if c["reason"] == "reference" else "accepted"
        t.add_row(
            f"{c['backend']} {c['device']}", c["precision"],
            "-" if c["psnr_db"] is None else f"{c['psnr_db']:.1f}",
            "-" if c["max_abs_error"] is None else str(c["max_abs_error"]),
            "none" if c["finite"] else "yes", str(len(c["keep_fp32"])) if c["keep_fp32"] else "-",
            verdict if c["accepted"] else f"REFUSED: {c['reason']}",
        )  # fmt: skip
    console.print(t)
    if "candidates" not in report:
        return
    choice, face = report.get("choice"), report["mode"] == "face"
    t = Table(
        "runtime", "precision", "threads", "faces" if face else "size", "median ms", "p95 ms", "fps", "",
        title=f"{'one batch of face crops, model only' if face else 'one frame'}, target"
        f" {report['fps_target']:g} fps",
    )  # fmt: skip
    for c in report["candidates"]:
        head = (f"{c['backend']} {c['device']}", c["precision"], str(c["options"].get("threads", "-")))
        if c.get("skipped"):
            t.add_row(*head, str(c["size"]), "-", "-", "-", c["skipped"])
            continue
        same = choice is not None and all(
            c[k] == choice[k] for k in ("backend", "device", "precision", "options")
        )
        chosen = same and c["size"] == (choice["faces"] if face else choice["working_size"])
        t.add_row(
            *head, str(c["size"]), f"{c['median_ms']:.1f}", f"{c['p95_ms']:.1f}", f"{c['fps']:.1f}",
            "chosen" if chosen else ("ok" if c["meets"] else ""),
        )  # fmt: skip
    console.print(t)
    if choice is None:
        return
    label = BackendSpec(choice["backend"], choice["device"], choice["precision"], choice["options"]).label()
    if face:
        where = f"{choice['faces']} face(s) per frame"
    elif choice["frame_size"] == choice["working_size"]:
        where = f"frame size {choice['frame_size']}"
    else:  # the full size: recorded as the style's own (0: frames as they come)
        shown = f"{choice['frame_size']}" + (" (as it comes)" if choice["frame_size"] == 0 else "")
        where = f"frame size {shown}, timed at {choice['working_size']}"
    verdict = "reaches" if choice["meets_target"] else "the fastest; nothing reaches"
    console.print(
        f"chosen: {label}, {where}: {choice['fps']:.1f} fps ({verdict} {report['fps_target']:g} fps)"
    )
