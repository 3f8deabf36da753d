"""`portrait-style live`: a camera (or a video file played as one) through a style into a window, a
virtual camera, a web page or a video file, with the figures on screen and a summary at exit.

Exit codes as elsewhere: 0 (quit key/button, --seconds reached, a file camera ended), 2 camera missing,
busy or lost (after the reconnect attempts), 3 output unusable (no display, no loopback device, port
taken), 4 model problem, 130 Ctrl-C (the summary is printed first). Ctrl-C is how a live recording
(`--output FILE.mp4`) ends, so that file is finished and kept, unlike an interrupted `stylize`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from portrait_style.config import LiveConfig
from portrait_style.engine.video_io import OUTPUT_SUFFIXES
from portrait_style.errors import OutputError

OUTPUTS = ("window", "virtualcam", "web")


def register(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "live",
        help="stylize a camera live: window, virtual camera or web page",
        description="Stylize a camera live. Keys (window) and buttons (web page): n/p style, f face/frame"
        " mode, b before/after, m mirror, s snapshot, o overlay, q quit.",
    )
    configure_parser(p)
    p.set_defaults(func=run)
    return p


def configure_parser(p: argparse.ArgumentParser) -> None:
    from portrait_style.cli_args import add_face_arguments, add_model_arguments, int_in

    d = LiveConfig()
    p.add_argument(
        "--camera",
        default="0",
        help="camera index, /dev/videoN, stream URL (rtsp://, http://), or a video file played at its own"
        " frame rate like a camera (default: 0)",
    )
    p.add_argument(
        "--output",
        default="window",
        help="window (default), virtualcam (v4l2loopback, needs the [virtualcam] extra), web (MJPEG page),"
        f" or a video file ({', '.join(OUTPUT_SUFFIXES)}) to record",
    )
    add_model_arguments(p)
    add_face_arguments(p)
    p.add_argument(
        "--width", type=int_in(16, 7680), default=d.width, help=f"camera width asked for ({d.width})"
    )
    p.add_argument("--height", type=int_in(16, 4320), default=d.height, help=f"camera height ({d.height})")
    p.add_argument("--fps", type=int_in(1, 240), default=int(d.fps), help=f"camera frame rate ({d.fps:g})")
    p.add_argument(
        "--host", default=d.host, help=f"web: address to listen on (default {d.host}; others need a token)"
    )
    p.add_argument("--port", type=int_in(0, 65535), default=d.port, help=f"web: port (default {d.port})")
    p.add_argument("--token", help="web: the token to require (default: a random one when not on 127.0.0.1)")
    p.add_argument("--virtualcam-device", help="virtualcam: e.g. /dev/video10 (default: the first loopback)")
    p.add_argument("--seconds", type=positive_seconds, metavar="S", help="stop after this many seconds")
    p.add_argument("--once", action="store_true", help="a video file as camera: play it once, not in a loop")
    p.add_argument("--snapshot-dir", default=d.snapshot_dir, help="where snapshots go (default: here)")
    p.add_argument("--no-overlay", action="store_true", help="start without the figures on the picture")


def positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, got {text}")
    return value


def live_config(args: argparse.Namespace) -> LiveConfig:
    return LiveConfig(
        width=args.width,
        height=args.height,
        fps=float(args.fps),
        loop=not args.once,
        host=args.host,
        port=args.port,
        snapshot_dir=args.snapshot_dir,
        virtualcam_device=args.virtualcam_device,
        overlay=not args.no_overlay,
    )


def open_sink(output: str, info, controls, cfg: LiveConfig, token: str | None = None, stats=None):
    """The sink `--output` names."""
    if output == "window":
        from portrait_style.live.window import WindowSink

        return WindowSink(controls)
    if output == "virtualcam":
        from portrait_style.live.virtualcam import VirtualCamSink

        return VirtualCamSink(info.width, info.height, float(info.fps), device=cfg.virtualcam_device)
    if output == "web":
        from portrait_style.live.web import WebSink

        return WebSink(controls, cfg.host, cfg.port, token, stats, cfg.jpeg_quality)
    if Path(output).suffix.lower() in OUTPUT_SUFFIXES:
        from portrait_style.live.sinks import FileSink

        return FileSink(output, info)
    raise OutputError(
        f"--output {output}: expected {', '.join(OUTPUTS)} or a video file ({', '.join(OUTPUT_SUFFIXES)})"
    )


def style_list(args: argparse.Namespace) -> list[str]:
    """The styles n/p cycle through: the chosen one first, then the other built-in ones."""
    if args.model:
        return [args.model]
    from portrait_style.engine.styles import builtin_styles, default_style

    first = args.style or default_style()
    return [first, *(name for name in builtin_styles() if name != first)]


def run(args: argparse.Namespace) -> int:
    from portrait_style.api import Stylizer
    from portrait_style.calibrate.profile import run_settings
    from portrait_style.cli_args import backend_spec, check_face_options, face_config
    from portrait_style.engine.style_meta import read_meta
    from portrait_style.engine.styles import resolve_style
    from portrait_style.live.controls import LiveControls
    from portrait_style.live.session import StyleSwitcher, run_live
    from portrait_style.live.sources import open_source
    from portrait_style.live.stats import LiveStats

    cfg = live_config(args)
    styles = style_list(args)
    first = read_meta(resolve_style(args.style, args.model))
    check_face_options(args, args.mode or first.mode)
    backend_spec(args)  # a bad backend flag fails here, before the camera opens

    def make(style: str, mode: str) -> Stylizer:
        path = resolve_style(None, style) if args.model else resolve_style(style)
        # the flags, or this machine's calibration profile for them
        spec, frame_size = run_settings(backend_spec(args), args.frame_size, path, mode, not args.no_profile)
        return Stylizer(
            model=str(path),
            mode=mode,
            backend=spec,
            faces=face_config(args, crop_size=read_meta(path).resolution),
            frame_size=frame_size,
        )

    controls = LiveControls(styles, mode=args.mode or first.mode, overlay=cfg.overlay)
    switcher = StyleSwitcher(
        make, controls
    )  # the first style loads now: a model error comes before the camera
    source = open_source(args.camera, cfg)
    stats = LiveStats(cfg.stats_window)
    try:
        sink = open_sink(args.output, source.info(), controls, cfg, args.token, stats)
    except BaseException:
        source.close()
        raise
    info = source.info()
    print(
        f"live: {source.name} {info.width}x{info.height} at {float(info.fps):.1f} fps -> {args.output};"
        f" style {controls.style} ({controls.mode} mode); Ctrl-C to stop",
        file=sys.stderr,
    )
    if args.output == "web":
        print(f"live page: {sink.url}", file=sys.stderr)

    def notify(message: str) -> None:
        print(message, file=sys.stderr)

    try:
        run_live(source, switcher, sink, controls, cfg, args.seconds, stats, notify)
    finally:
        print(stats.summary_line(), file=sys.stderr)
    return 0
