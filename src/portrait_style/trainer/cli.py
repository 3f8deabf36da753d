"""`portrait-style train`: flags (one per TrainConfig field), a TOML file, or both.

Precedence: TrainConfig defaults < --config FILE.toml < flags. With --resume and no --config, the run
folder's own config.toml is the base, so `train --name NAME --resume --steps 40000` continues a run.
"""

from __future__ import annotations

import argparse
import logging
import os
from dataclasses import MISSING, fields
from pathlib import Path

from portrait_style import options
from portrait_style.trainer.config import FAMILIES, PRESET_NAMES, TrainConfig, from_dict, load_toml

CHOICES = {
    "family": FAMILIES,
    "look_preset": PRESET_NAMES,
    "mode": options.MODES,
    "method": ("cut", "fastcut"),
    "gan_loss": ("lsgan", "hinge"),
    "amp": ("auto", "bf16", "fp16", "off"),
    "face_detector": options.available_detectors(),
}
_TYPES = {"int": int, "float": float, "str": str}


def register(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "train",
        help="learn a style from example images",
        description="Learn a style from examples (CUT: contrastive unpaired translation) and write a"
        " style file <out-dir>/<name>.safetensors. Multi-GPU: torchrun --nproc_per_node N -m"
        " portrait_style.trainer ARGS.",
    )
    configure_parser(p)
    p.set_defaults(func=run)
    return p


def configure_parser(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", metavar="FILE.toml", help="settings file (flags given here override it)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out-dir from its checkpoint")
    group = p.add_argument_group("settings (TrainConfig fields)")
    for f in fields(TrainConfig):
        _add_flag(group, f)


def _add_flag(group, f) -> None:
    kind = f.type.replace(" | None", "")
    default = None if f.default is MISSING else f.default
    text = f.metadata["help"]
    if "(default" not in text:  # a default that depends on other settings is said in the help itself
        preset = default is None and f.name.startswith("look_")
        text += " (default: the look preset's)" if preset else f" (default: {default})"
    kwargs = {"dest": f.name, "default": argparse.SUPPRESS, "help": text}
    flag = "--" + f.name.replace("_", "-")
    if kind == "bool":
        group.add_argument(flag, action=argparse.BooleanOptionalAction, **kwargs)
    elif kind.startswith("tuple"):
        group.add_argument(flag, nargs="+", type=int, metavar="N", **kwargs)
    else:
        group.add_argument(flag, type=_TYPES[kind], choices=CHOICES.get(f.name), **kwargs)


def to_config(args: argparse.Namespace) -> TrainConfig:
    values: dict = {}
    flags = {f.name: getattr(args, f.name) for f in fields(TrainConfig) if hasattr(args, f.name)}
    if args.config:
        values.update(load_toml(args.config))
    elif args.resume:
        probe = from_dict(flags, "command line")
        saved = probe.run_dir() / "config.toml"
        if saved.is_file():
            values.update(load_toml(saved))
    values.update(flags)
    return from_dict(values, "command line")


def run(args: argparse.Namespace) -> int:
    from portrait_style.trainer.train import train

    _setup_logging()
    from tqdm.contrib.logging import logging_redirect_tqdm

    with logging_redirect_tqdm():
        path = train(to_config(args), resume=args.resume)
    if int(os.environ.get("RANK", "0")) == 0:
        print(Path(path))
    return 0


def _setup_logging() -> None:
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(format="%(message)s")
    # one voice: in a torchrun job only rank 0 reports progress and warnings
    level = logging.INFO if int(os.environ.get("RANK", "0")) == 0 else logging.ERROR
    logging.getLogger("portrait_style").setLevel(level)
