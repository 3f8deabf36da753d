"""The command-line arguments every command that runs a style shares (stylize, live, calibrate, bench):
the style, the backend spec, the face options, and the Stylizer they make.

Library code never sees an argparse namespace: these helpers turn one into BackendSpec, FaceConfig and
a Stylizer.
"""

from __future__ import annotations

import argparse
import os

from portrait_style import options
from portrait_style.config import FaceConfig
from portrait_style.errors import InputError


def int_in(lo: int | None = None, hi: int | None = None, metavar: str = "N"):
    """An argparse `type` for a whole number in [lo, hi]; argparse names the flag in the error."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
        try:
            return options.check_int("value", value, lo, hi)
        except options.OptionError as exc:
            raise argparse.ArgumentTypeError(str(exc).replace("value must", "must")) from None

    parse.__name__ = metavar  # argparse shows this name in "invalid N value"
    return parse


STYLE_HELP = "built-in style name (list them with `portrait-style styles`)"


def add_model_arguments(p: argparse.ArgumentParser) -> None:
    from portrait_style.engine.backends import BACKEND_NAMES, DEVICES, OPTIONS, PRECISIONS

    group = p.add_mutually_exclusive_group()
    group.add_argument("--style", help=STYLE_HELP)
    group.add_argument("--model", help="path to a style checkpoint (.safetensors) made by `train`")
    p.add_argument(
        "--backend", default="auto", choices=BACKEND_NAMES, help="inference runtime (default: auto)"
    )
    p.add_argument(
        "--device",
        default="auto",
        metavar="DEVICE",
        help=f"{', '.join(DEVICES)} (default: auto, CUDA when present)",
    )
    p.add_argument(
        "--precision",
        default="auto",
        choices=("auto", *PRECISIONS),
        help="arithmetic precision (default: auto, the backend's own: fp16 on CUDA, fp32 on CPU)",
    )
    p.add_argument(
        "--backend-option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help=f"repeatable; one of {', '.join(OPTIONS)} (each backend takes some: see README)",
    )
    p.add_argument(
        "--no-profile",
        action="store_true",
        help="ignore this machine's calibration profile (`portrait-style calibrate`) for the style",
    )


def backend_spec(args: argparse.Namespace):
    """The BackendSpec the model arguments ask for (checked here, so a typo fails before any work)."""
    from portrait_style.engine.backends import BackendSpec, resolve

    spec = BackendSpec.parse(args.backend, args.device, args.precision, args.backend_option)
    resolve(spec)
    return spec


def add_face_arguments(p: argparse.ArgumentParser) -> None:
    d = FaceConfig()
    p.add_argument(
        "--mode", choices=options.MODES, help="stylize faces or whole frames (default: the style's)"
    )
    p.add_argument(
        "--frame-size",
        type=int_in(0),
        metavar="N",
        help="frame mode: stylize at this shorter side, then scale back (0: full size; default: the style's)",
    )
    p.add_argument(
        "--detector",
        default=d.detector,
        choices=options.available_detectors(),
        help=f"face detector (default: {d.detector}: YuNet when a model is given, else MTCNN)",
    )
    p.add_argument(
        "--yunet-model", help="YuNet .onnx file (or set PORTRAIT_STYLE_YUNET); enables the YuNet detector"
    )
    p.add_argument(
        "--detect-every",
        type=int_in(1, 10_000),
        default=d.detect_every,
        metavar="K",
        help=f"full detection every K frames, tracking in between (1 or more; default {d.detect_every})",
    )
    p.add_argument(
        "--max-faces",
        type=int_in(1, 64),
        default=d.max_faces,
        metavar="N",
        help=f"most faces stylized per frame (1 to 64; default {d.max_faces})",
    )


def face_config(args: argparse.Namespace, crop_size: int | None = None) -> FaceConfig:
    fields = dict(
        detector=args.detector,
        yunet_model=args.yunet_model,
        detect_every=args.detect_every,
        max_faces=args.max_faces,
    )
    return FaceConfig(**fields, **({"crop_size": crop_size} if crop_size else {}))


def check_face_options(args: argparse.Namespace, mode: str) -> None:
    """What argparse cannot see alone: options that depend on each other or on the style."""
    hint = " (add --mode frame to stylize whole frames)"
    options.check_frame_size(args.frame_size, mode, "--frame-size", hint)
    if mode != "face":
        return
    from portrait_style.engine.faces.detectors import YUNET_ENV, yunet_model_path

    model = yunet_model_path(face_config(args))
    if args.detector == "yunet" and not model:
        raise options.OptionError(
            f"--detector yunet needs --yunet-model FILE (or ${YUNET_ENV}): the path of"
            " face_detection_yunet_2023mar.onnx from the OpenCV model zoo"
        )
    if args.yunet_model and not os.path.isfile(args.yunet_model):
        raise InputError(f"--yunet-model: file not found: {args.yunet_model}")


def make_stylizer(args: argparse.Namespace):
    from portrait_style.api import Stylizer
    from portrait_style.calibrate.profile import run_settings
    from portrait_style.engine.style_meta import read_meta
    from portrait_style.engine.styles import resolve_style

    style_path = resolve_style(args.style, args.model)
    meta = read_meta(style_path)
    check_face_options(args, args.mode or meta.mode)
    mode = args.mode or meta.mode  # the flags, or this machine's calibration profile for them
    spec, frame_size = run_settings(
        backend_spec(args), args.frame_size, style_path, mode, not args.no_profile
    )
    return Stylizer(
        style=args.style,
        model=args.model,
        mode=args.mode,
        backend=spec,
        faces=face_config(args, crop_size=meta.resolution),
        frame_size=frame_size,
    )
