"""`portrait-style evaluate`: score a style against ground truth, or measure the flicker it adds to video.

Images: every input in --inputs is paired with the file of the same name (any image extension) in
--targets; the model's output (and, with --baselines, classical colour transfers fitted on a style
folder) is scored against the target with PSNR, SSIM and mean CIEDE2000.
Video: the warping-error flicker of --stylized (or of the model run on --video) relative to --video.
The model is --model FILE or a built-in --style NAME.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from portrait_style import options
from portrait_style.errors import InputError

# baselines, flicker, metrics and runner are imported inside the functions that use them: they pull in
# torch and scikit-image, which `portrait-style --help` and the other subcommands do not need.
from portrait_style.fileutil import atomic_path


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "evaluate",
        help="score a style against paired targets, or measure video flicker",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    which = p.add_mutually_exclusive_group()
    which.add_argument("--model", help="style checkpoint (.safetensors) to evaluate")
    which.add_argument("--style", help="a built-in style to evaluate (see `portrait-style styles`)")
    p.add_argument("--mode", choices=options.MODES, help="how to run the model (default: the style's)")
    images = p.add_argument_group("image metrics")
    images.add_argument("--inputs", help="folder of input images")
    images.add_argument("--targets", help="folder of target images, paired with the inputs by file name")
    images.add_argument(
        "--baselines",
        metavar="STYLE_DIR",
        help="also score identity, Reinhard and histogram-matching baselines fitted on these style images",
    )
    video = p.add_argument_group("video flicker")
    video.add_argument("--video", help="input video")
    video.add_argument("--stylized", help="stylized version of --video (else --model is run on it)")
    video.add_argument(
        "--max-frames", type=_at_least_two, metavar="N", help="only the first N frames (2 or more)"
    )
    p.add_argument("--json", help="also write the results to this JSON file")
    p.set_defaults(func=run)


def _at_least_two(text: str) -> int:
    try:
        return options.check_int("value", int(text), 2)
    except (ValueError, options.OptionError):
        raise argparse.ArgumentTypeError(f"must be a whole number, 2 or more; got {text!r}") from None


def run(args: argparse.Namespace) -> int:
    if args.video or args.stylized:
        if args.inputs or args.targets or args.baselines:
            raise InputError("give either --video (flicker) or --inputs/--targets (image metrics), not both")
        result = _evaluate_video(args)
    elif args.inputs or args.targets:
        result = _evaluate_images(args)
    else:
        raise InputError("nothing to evaluate: give --inputs and --targets, or --video")
    if args.json:
        _write_json(args.json, result)
    return 0


def _model_path(args: argparse.Namespace) -> Path | None:
    if not (args.model or args.style):
        return None
    from portrait_style.engine.styles import resolve_style

    return resolve_style(args.style, args.model)


# -- images ------------------------------------------------------------------------------------------
def pair_by_name(inputs_dir: str, targets_dir: str) -> list[tuple[Path, Path]]:
    """(input, target) paths whose file names match up to the extension, in input name order."""
    from portrait_style.evaluate import runner

    inputs = runner.list_images(inputs_dir)
    if not inputs:
        raise InputError(f"no images in {inputs_dir}")
    targets: dict[str, Path] = {}
    for t in runner.list_images(targets_dir):
        if t.stem in targets:
            raise InputError(f"two targets named {t.stem} in {targets_dir}: {targets[t.stem].name}, {t.name}")
        targets[t.stem] = t
    pairs = [(i, targets[i.stem]) for i in inputs if i.stem in targets]
    if not pairs:
        raise InputError(f"no image in {inputs_dir} has a target of the same name in {targets_dir}")
    if len(pairs) < len(inputs):
        print(f"note: {len(inputs) - len(pairs)} input(s) have no target and are skipped", file=sys.stderr)
    return pairs


def _evaluate_images(args: argparse.Namespace) -> dict:
    from portrait_style.evaluate import baselines, metrics, runner

    if not (args.inputs and args.targets):
        raise InputError("image metrics need both --inputs and --targets")
    pairs = pair_by_name(args.inputs, args.targets)
    methods: dict[str, baselines.Transform] = {}
    meta, model_path = None, _model_path(args)
    if model_path:
        methods["model"], meta = runner.load_stylizer(model_path, args.mode)
    if args.baselines:
        style = [runner.read_rgb(p) for p in runner.list_images(args.baselines)]
        if not style:
            raise InputError(f"no images in {args.baselines}")
        methods.update({name: fit(style) for name, fit in baselines.BASELINES.items()})
    if not methods:
        raise InputError("nothing to score: give --model (or --style) and/or --baselines STYLE_DIR")

    rows: dict[str, list[metrics.Scores]] = {name: [] for name in methods}
    for src, tgt in pairs:
        image, target = runner.read_rgb(src), runner.read_rgb(tgt)
        if image.shape != target.shape:
            raise InputError(
                f"target {tgt} is {target.shape[1]}x{target.shape[0]} but input {src} is "
                f"{image.shape[1]}x{image.shape[0]}; inputs and targets must have the same size"
            )
        for name, fn in methods.items():
            rows[name].append(metrics.score_pair(fn(image), target))
    scores = {name: metrics.average(r) for name, r in rows.items()}
    _print_scores(scores)
    return {
        "inputs": str(args.inputs),
        "targets": str(args.targets),
        "model": str(model_path) if model_path else None,
        "style": meta.name if meta else None,
        "mode": (args.mode or meta.mode) if meta else None,
        "baselines_fitted_on": str(args.baselines) if args.baselines else None,
        "results": {name: s.as_dict() for name, s in scores.items()},
    }


def _print_scores(scores: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table("method", "PSNR (dB)", "SSIM", "ΔE2000", "pairs")
    for name, s in scores.items():
        table.add_row(name, f"{s.psnr:.2f}", f"{s.ssim:.4f}", f"{s.ciede2000:.2f}", str(s.n))
    Console().print(table)


# -- video -------------------------------------------------------------------------------------------
def _evaluate_video(args: argparse.Namespace) -> dict:
    from portrait_style.evaluate import flicker, runner

    if not args.video:
        raise InputError("--stylized needs the original --video it was made from")
    if args.max_frames is not None and args.max_frames < 2:
        raise InputError("--max-frames must be at least 2")
    model_path = None if args.stylized else _model_path(args)
    if args.stylized:
        stylized = runner.video_frames(args.stylized, args.max_frames)
    elif model_path:
        fn, _ = runner.load_stylizer(model_path, args.mode, video=True)
        stylized = (fn(f) for f in runner.video_frames(args.video, args.max_frames))
    else:
        raise InputError("flicker needs --stylized VIDEO, or a --model (or --style) to run on --video")
    try:
        result = flicker.measure_flicker(runner.video_frames(args.video, args.max_frames), stylized)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    print(
        f"warping error: input {result.input_error:.3f}, stylized {result.stylized_error:.3f} "
        f"(0-255, over {result.pairs} frame pairs, {100 * result.valid_fraction:.0f}% of pixels unoccluded)\n"
        f"flicker ratio stylized/input: {result.ratio:.3f} (1.0 = no flicker added)"
    )
    return {
        "video": str(args.video),
        "stylized": str(args.stylized) if args.stylized else None,
        "model": str(model_path) if model_path else None,
        "flicker": result.as_dict(),
    }


def _write_json(path: str, result: dict) -> None:
    def clean(x):  # JSON has no inf/nan
        if isinstance(x, float) and not math.isfinite(x):
            return str(x)
        if isinstance(x, dict):
            return {k: clean(v) for k, v in x.items()}
        return x

    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(clean(result), indent=2) + "\n")
    print(f"wrote {path}", file=sys.stderr)
