"""Built-in styles: checkpoints shipped inside the package, found by name."""

from __future__ import annotations

import os
from pathlib import Path

from portrait_style.engine.checkpoint import StyleMeta, read_meta
from portrait_style.errors import ModelError

STYLES_DIR = Path(__file__).resolve().parent.parent / "styles"
# Preferred default, falling back to the first style shipped when it is absent.
DEFAULT_STYLES = ("studio", "look-teal-orange")


def builtin_styles() -> dict[str, Path]:
    return {p.stem: p for p in sorted(STYLES_DIR.glob("*.safetensors"))}


def default_style() -> str:
    styles = builtin_styles()
    for name in DEFAULT_STYLES:
        if name in styles:
            return name
    if not styles:
        raise ModelError("no built-in styles are installed; pass --model PATH")
    return next(iter(styles))


def resolve_style(style: str | None = None, model: str | os.PathLike | None = None) -> Path:
    """Path of the checkpoint to run: an explicit model file, else a built-in style by name."""
    if model is not None:
        read_meta(model)  # fails early, with a clear message, on a missing or foreign file
        return Path(model)
    name = style or default_style()
    styles = builtin_styles()
    if name not in styles:
        known = ", ".join(styles) or "none installed"
        raise ModelError(f"unknown style '{name}' (built-in styles: {known}); or pass --model PATH")
    return styles[name]


def describe_styles() -> list[tuple[str, StyleMeta]]:
    return [(name, read_meta(path)) for name, path in builtin_styles().items()]
