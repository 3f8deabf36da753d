"""Command line: `portrait-style SUBCOMMAND ...` and the `stylize-video IN OUT` shortcut.

Every subcommand's work lives in a library function that takes dataclasses; this file only turns flags
into those and turns `PortraitStyleError`s into one line on stderr plus an exit code.

Exit codes: 0 done; 1 other error; 2 bad option value or unusable input (usage errors are one line too,
without argparse's usage dump); 3 cannot write the output; 4 model problem; 130 interrupted (Ctrl-C);
143 terminated (SIGTERM, handled like Ctrl-C: work stops, temporary files are removed).
"""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Sequence

from portrait_style import __version__, options
from portrait_style.cli_args import STYLE_HELP, add_face_arguments, add_model_arguments, int_in, make_stylizer
from portrait_style.config import EncodeConfig, PipelineConfig
from portrait_style.engine.graphs import EXPORT_GRAPHS
from portrait_style.errors import PortraitStyleError

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT
EXIT_TERMINATED = 143  # 128 + SIGTERM


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr ("error: argument --crf: ...") and exit code 2."""

    def error(self, message: str):
        self.exit(EXIT_USAGE, f"error: {message} (see {self.prog} --help)\n")


# -- stylize -----------------------------------------------------------------------------------------
def add_stylize_parser(sub) -> None:
    p = sub.add_parser(
        "stylize",
        help="stylize a video, an image or a folder of images",
        description="Stylize a video (audio and timestamps kept), an image, or a folder of images.",
    )
    configure_stylize_parser(p)


def configure_stylize_parser(p: argparse.ArgumentParser) -> None:
    e = EncodeConfig()
    p.add_argument("input", help="video file, image file, or folder of images")
    p.add_argument("output", help="output video (.mp4/.mkv/.mov), image, or folder")
    add_model_arguments(p)
    add_face_arguments(p)
    lo, hi = options.CRF_RANGE
    p.add_argument(
        "--crf",
        type=int_in(lo, hi),
        default=e.crf,
        metavar="N",
        help=f"H.264 quality, {lo}-{hi}, lower is better (default {e.crf})",
    )
    p.add_argument(
        "--preset",
        default=e.preset,
        choices=options.X264_PRESETS,
        metavar="PRESET",
        help=f"x264 speed preset: {', '.join(options.X264_PRESETS)} (default {e.preset})",
    )
    p.add_argument(
        "--audio",
        default=e.audio,
        choices=options.AUDIO_POLICIES,
        help="copy: keep the audio bytes; aac: re-encode as AAC; auto (default): copy when the output"
        " container's usual players decode the codec (e.g. AAC in .mp4), else AAC",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run_stylize)


def run_stylize(args: argparse.Namespace) -> int:
    from portrait_style import jobs

    jobs.check_input(args.input)
    jobs.check_output(args.input, args.output)
    stylizer = make_stylizer(args)
    result = jobs.stylize_path(
        args.input,
        args.output,
        stylizer,
        EncodeConfig(crf=args.crf, preset=args.preset, audio=args.audio),
        PipelineConfig(),
        progress=not args.no_progress,
    )
    print(result.summary(), file=sys.stderr)
    return 0


# -- styles ------------------------------------------------------------------------------------------
def add_styles_parser(sub) -> None:
    p = sub.add_parser("styles", help="list the built-in styles")
    p.set_defaults(func=run_styles)


def run_styles(args: argparse.Namespace) -> int:
    from portrait_style.engine import styles

    # the same facts, rendered by the same helpers, as the model cards and the README's style table;
    # one fact a line, unwrapped, so nothing is cut at any terminal width and the output can be grepped
    default = styles.default_style()
    for name, meta in styles.describe_styles():
        print(f"{name} (default)" if name == default else name)
        print(f"  mode:       {styles.mode_summary(meta)}")
        print(f"  what it is: {styles.what_it_is(meta)}")
        print(f"  trained:    {styles.training_summary(meta)}")
        print(f"  measured:   {styles.metrics_summary(meta)}")
        print(f"  licence:    {meta.license}")
        print(f"  card:       {styles.builtin_styles()[name].with_suffix('.md')}")
    return 0


# -- export ------------------------------------------------------------------------------------------
def add_export_parser(sub) -> None:
    p = sub.add_parser("export", help="export a style to ONNX")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--style", help=STYLE_HELP)
    group.add_argument("--model", help="path to a style checkpoint (.safetensors)")
    p.add_argument("output", help="output .onnx path")
    p.add_argument(
        "--graph",
        choices=list(EXPORT_GRAPHS),
        default="portable",
        help="; ".join(f"{name}: {what}" for name, what in EXPORT_GRAPHS.items()),
    )
    p.add_argument("--check", action="store_true", help="compare ONNX Runtime against PyTorch after export")
    p.set_defaults(func=run_export)


def run_export(args: argparse.Namespace) -> int:
    from portrait_style.engine import export, graphs
    from portrait_style.engine.checkpoint import load_style
    from portrait_style.engine.styles import resolve_style

    model, meta = load_style(resolve_style(args.style, args.model))
    path = graphs.export_graph(model, args.output, args.graph)
    print(f"exported {meta.name} ({args.graph} graph) -> {path}", file=sys.stderr)
    if args.check:
        diff = export.parity(model, path)
        print(f"max |onnxruntime - torch| = {diff} (uint8 levels)", file=sys.stderr)
    return 0


# -- bench -------------------------------------------------------------------------------------------
def add_bench_parser(sub) -> None:
    from portrait_style.bench import configure_parser

    configure_parser(sub.add_parser("bench", help="measure model latency and pipeline throughput"))


# -- entry points ------------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(
        prog="portrait-style",
        description="Learn a portrait photography style from examples and apply it to video in real time.",
    )
    parser.add_argument("--version", action="version", version=f"portrait-style {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_stylize_parser(sub)
    add_styles_parser(sub)
    add_export_parser(sub)
    add_bench_parser(sub)
    from portrait_style.calibrate import cli as calibrate_cli
    from portrait_style.evaluate import cli as evaluate_cli
    from portrait_style.live import cli as live_cli
    from portrait_style.trainer import cli as trainer_cli

    trainer_cli.register(sub)
    evaluate_cli.register(sub)
    live_cli.register(sub)
    calibrate_cli.register(sub)
    return parser


# Packages that only the `[train]` extra installs: a command that needs one says so instead of crashing.
EXTRA_MODULES = {"tensorboard": "train", "skimage": "train", "scipy": "train"}


def run(args: argparse.Namespace) -> int:
    _quiet_opencv()
    terminated = []
    previous = _on_sigterm(terminated)
    try:
        return int(args.func(args) or 0)
    except PortraitStyleError as exc:
        print(f"error: {_one_line(exc)}", file=sys.stderr)
        return exc.exit_code
    except ModuleNotFoundError as exc:
        root = (exc.name or "").split(".")[0]
        if root not in EXTRA_MODULES:
            raise
        print(
            f"error: this command needs '{root}': pip install 'portrait-style[{EXTRA_MODULES[root]}]'",
            file=sys.stderr,
        )
        return 1
    except KeyboardInterrupt:
        if terminated:
            print("terminated", file=sys.stderr)
            return EXIT_TERMINATED
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 400 else text[:397] + "..."


def _on_sigterm(terminated: list):
    """SIGTERM does what Ctrl-C does: whatever SIGINT handler is in force runs (KeyboardInterrupt by
    default, which stops the pipeline and removes temporary files; the trainer's saves a checkpoint)."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        return None

    def handler(signum, frame):
        terminated.append(signum)
        current = signal.getsignal(signal.SIGINT)
        if callable(current):
            current(signal.SIGINT, frame)
        else:
            raise KeyboardInterrupt

    return signal.signal(signal.SIGTERM, handler)


def _quiet_opencv() -> None:
    """OpenCV's own "[ WARN:0@...]" / "[ERROR:0@...]" lines (e.g. on a damaged image) would break the
    one-line contract; what goes wrong reaches us as a return value or a cv2.error and is reported."""
    import cv2

    try:
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
    except AttributeError:
        if hasattr(cv2, "setLogLevel"):
            cv2.setLogLevel(0)  # LOG_LEVEL_SILENT


def main(argv: Sequence[str] | None = None) -> int:
    return run(build_parser().parse_args(argv))


def stylize_video_main(argv: Sequence[str] | None = None) -> int:
    parser = ArgumentParser(
        prog="stylize-video",
        description="Stylize a video with a portrait style; audio and timestamps are kept.",
    )
    configure_stylize_parser(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
