"""Command line: `portrait-style SUBCOMMAND ...` and the `stylize-video IN OUT` shortcut.

Every subcommand's work lives in a library function that takes dataclasses; this file only turns flags
into those and turns `PortraitStyleError`s into one line on stderr plus an exit code.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from portrait_style import __version__
from portrait_style.config import EncodeConfig, FaceConfig, PipelineConfig
from portrait_style.errors import PortraitStyleError

STYLE_HELP = (
    "built-in style name (list them with `portrait-style styles`); "
    "`look-teal-orange` is a placeholder: a generator distilled from a fixed colour grade, "
    "not learned from example photographs"
)


def add_model_arguments(p: argparse.ArgumentParser) -> None:
    from portrait_style.engine.backends import BACKEND_NAMES, DEVICES

    group = p.add_mutually_exclusive_group()
    group.add_argument("--style", help=STYLE_HELP)
    group.add_argument("--model", help="path to a style checkpoint (.safetensors) made by `train`")
    p.add_argument(
        "--backend", default="auto", choices=BACKEND_NAMES, help="inference runtime (default: auto)"
    )
    p.add_argument("--device", default="auto", choices=DEVICES, help="default: auto (CUDA when present)")


def add_face_arguments(p: argparse.ArgumentParser) -> None:
    d = FaceConfig()
    p.add_argument(
        "--mode", choices=["face", "frame"], help="stylize faces or whole frames (default: the style's)"
    )
    p.add_argument(
        "--frame-size",
        type=_non_negative_int,
        metavar="N",
        help="frame mode: stylize at this shorter side, then scale back (0: full size; default: the style's)",
    )
    p.add_argument("--detector", default=d.detector, choices=["auto", "mtcnn", "yunet", "haar"])
    p.add_argument(
        "--yunet-model", help="YuNet .onnx file (or set PORTRAIT_STYLE_YUNET); enables the YuNet detector"
    )
    p.add_argument("--detect-every", type=int, default=d.detect_every, help="full detection every K frames")
    p.add_argument("--max-faces", type=int, default=d.max_faces)


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more: {value}")
    return value


def face_config(args: argparse.Namespace, crop_size: int | None = None) -> FaceConfig:
    fields = dict(
        detector=args.detector,
        yunet_model=args.yunet_model,
        detect_every=max(1, args.detect_every),
        max_faces=args.max_faces,
    )
    return FaceConfig(**fields, **({"crop_size": crop_size} if crop_size else {}))


def make_stylizer(args: argparse.Namespace):
    from portrait_style.api import Stylizer
    from portrait_style.engine.checkpoint import read_meta
    from portrait_style.engine.styles import resolve_style

    meta = read_meta(resolve_style(args.style, args.model))
    return Stylizer(
        style=args.style,
        model=args.model,
        mode=args.mode,
        backend=args.backend,
        device=args.device,
        faces=face_config(args, crop_size=meta.resolution),
        frame_size=args.frame_size,
    )


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
    p.add_argument("--crf", type=int, default=e.crf, help=f"H.264 quality, lower is better (default {e.crf})")
    p.add_argument("--preset", default=e.preset, help=f"x264 speed preset (default {e.preset})")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run_stylize)


def run_stylize(args: argparse.Namespace) -> int:
    from portrait_style import jobs

    if not 0 <= args.crf <= 51:
        raise PortraitStyleError(f"--crf must be between 0 and 51, got {args.crf}")
    jobs.check_input(args.input)
    stylizer = make_stylizer(args)
    result = jobs.stylize_path(
        args.input,
        args.output,
        stylizer,
        EncodeConfig(crf=args.crf, preset=args.preset),
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
    from rich.console import Console
    from rich.table import Table

    from portrait_style.engine.styles import default_style, describe_styles

    table = Table("style", "mode", "res", "description", "training data licence")
    default = default_style()
    for name, meta in describe_styles():
        label = f"{name} (default)" if name == default else name
        table.add_row(label, meta.mode, str(meta.resolution), meta.description, meta.license)
    Console().print(table)
    return 0


# -- export ------------------------------------------------------------------------------------------
def add_export_parser(sub) -> None:
    p = sub.add_parser("export", help="export a style to ONNX")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--style", help=STYLE_HELP)
    group.add_argument("--model", help="path to a style checkpoint (.safetensors)")
    p.add_argument("output", help="output .onnx path")
    p.add_argument("--check", action="store_true", help="compare ONNX Runtime against PyTorch after export")
    p.set_defaults(func=run_export)


def run_export(args: argparse.Namespace) -> int:
    from portrait_style.engine import export
    from portrait_style.engine.checkpoint import load_style
    from portrait_style.engine.styles import resolve_style

    model, meta = load_style(resolve_style(args.style, args.model))
    path = export.export_onnx(model, args.output)
    print(f"exported {meta.name} -> {path}", file=sys.stderr)
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
    parser = argparse.ArgumentParser(
        prog="portrait-style",
        description="Learn a portrait photography style from examples and apply it to video in real time.",
    )
    parser.add_argument("--version", action="version", version=f"portrait-style {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_stylize_parser(sub)
    add_styles_parser(sub)
    add_export_parser(sub)
    add_bench_parser(sub)
    from portrait_style.evaluate import cli as evaluate_cli
    from portrait_style.trainer import cli as trainer_cli

    trainer_cli.register(sub)
    evaluate_cli.register(sub)
    return parser


# Packages that only the `[train]` extra installs: a command that needs one says so instead of crashing.
EXTRA_MODULES = {"tensorboard": "train", "skimage": "train", "scipy": "train"}


def run(args: argparse.Namespace) -> int:
    try:
        return int(args.func(args) or 0)
    except PortraitStyleError as exc:
        print(f"error: {exc}", file=sys.stderr)
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
        print("interrupted", file=sys.stderr)
        return 130


def main(argv: Sequence[str] | None = None) -> int:
    return run(build_parser().parse_args(argv))


def stylize_video_main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="stylize-video",
        description="Stylize a video with a portrait style; audio and timestamps are kept.",
    )
    configure_stylize_parser(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
