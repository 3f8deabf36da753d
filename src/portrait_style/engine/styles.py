"""Built-in styles: checkpoints shipped inside the package, found by name.

Everything said about a style (`portrait-style styles`, its model card, the README's style table) is
rendered from the metadata inside its file by the helpers at the end of this module, so the three
cannot disagree: description, training facts (`training`: steps, hardware, wall time, method, data),
measured figures (`training["metrics"]`, written by tools/style_metrics.py) and a judgement by eye
(`training["notes"]`, Markdown whose first paragraph is the summary; written by tools/model_card.py
--notes). `update_meta` rewrites that metadata and copies the weights' bytes unchanged.
"""

from __future__ import annotations

import json
import os
import struct
from collections.abc import Callable
from pathlib import Path

from portrait_style.engine.style_meta import METADATA_KEY, StyleMeta, read_meta
from portrait_style.errors import ModelError
from portrait_style.fileutil import atomic_path

STYLES_DIR = Path(__file__).resolve().parent.parent / "styles"
# Preferred default, falling back to the first style shipped when it is absent.
DEFAULT_STYLES = ("studio", "mono")


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
    """(name, metadata) of every built-in style, the default first, then by name."""
    styles = builtin_styles()
    first = default_style() if styles else None
    names = sorted(styles, key=lambda name: (name != first, name))
    return [(name, read_meta(styles[name])) for name in names]


# -- metadata rewrite ----------------------------------------------------------------------------------
def _split_safetensors(path: Path) -> tuple[dict, bytes]:
    """(header JSON, data section) of a safetensors file: 8-byte little-endian header size, header, data."""
    blob = path.read_bytes()
    (size,) = struct.unpack("<Q", blob[:8])
    return json.loads(blob[8 : 8 + size]), blob[8 + size :]


def weights_bytes(path: str | os.PathLike) -> bytes:
    """The data section of a style file: every tensor's bytes, exactly as stored."""
    return _split_safetensors(Path(path))[1]


def update_meta(path: str | os.PathLike, update: Callable[[dict], None]) -> StyleMeta:
    """Rewrite a style file's metadata JSON in place through `update(data)` (which edits the dict).

    Only the header is rewritten: the tensor table (names, dtypes, shapes, offsets) and the data
    section are copied byte for byte, so the weights stay exactly what they were. Fields this version
    does not know are kept. The file is replaced atomically.
    """
    path = Path(path)
    read_meta(path)  # a portrait-style file, readable: else the usual one-line error
    header, data = _split_safetensors(path)
    extra = header.setdefault("__metadata__", {})
    meta = json.loads(extra[METADATA_KEY])
    update(meta)
    extra[METADATA_KEY] = json.dumps(meta)
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)  # keep the data section 8-byte aligned, as safetensors writes it
    with atomic_path(path) as tmp:
        Path(tmp).write_bytes(struct.pack("<Q", len(raw)) + raw + data)
    return read_meta(path)


# -- what is said about a style, from its metadata -----------------------------------------------------
def notes_summary(meta: StyleMeta) -> str:
    """First paragraph of the judgement by eye (`training["notes"]`), on one line; "" when none."""
    notes = str(meta.training.get("notes", "")).strip()
    return " ".join(notes.split("\n\n", 1)[0].split()) if notes else ""


def what_it_is(meta: StyleMeta) -> str:
    """Description, then the notes' summary: the aim and how far the model got."""
    parts = [meta.description.strip().rstrip(".")]
    if summary := notes_summary(meta):
        parts.append(summary)
    return ". ".join(p for p in parts if p)


def mode_summary(meta: StyleMeta) -> str:
    if meta.mode == "frame" and meta.frame_size:
        return f"frame ({meta.frame_size} px short side)"
    return meta.mode


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _images(data: dict) -> str:
    counts = {
        side: info.get("used", info.get("files"))
        for side, info in data.items()
        if isinstance(info, dict) and isinstance(info.get("used", info.get("files")), int)
    }
    if set(counts) >= {"style", "content"}:
        return f"{counts['style']} style + {counts['content']} content images"
    return ", ".join(f"{n} {side} images" for side, n in counts.items())


def training_summary(meta: StyleMeta) -> str:
    """E.g. "1800 steps at 128², batch 4; 1 x CPU process (...); 16 min; 491 style + 192 content images"."""
    t = meta.training
    steps = t.get("steps")
    parts = []
    if steps is not None:
        head = f"{steps} steps"
        if t.get("target_steps") not in (None, steps):
            head += f" of {t['target_steps']}"
        head += f" at {meta.resolution}²"
        batch = t.get("batch_size", t.get("batch"))
        parts.append(head + (f", batch {batch}" if batch else ""))
    if t.get("hardware"):
        parts.append(str(t["hardware"]))
    wall = t.get("wall_time_s", t.get("wall_seconds"))
    if isinstance(wall, int | float):
        parts.append(_duration(float(wall)))
    if isinstance(t.get("data"), dict) and (images := _images(t["data"])):
        parts.append(images)
    elif isinstance(t.get("images"), int):
        parts.append(f"{t['images']} images")
    return "; ".join(parts) or "not recorded"


def _fmt(value) -> str:
    return f"{value:.2f}" if isinstance(value, float) else str(value)


def metrics_summary(meta: StyleMeta) -> str:
    """Short form of `training["metrics"]`; "not measured" when there are none."""
    m = meta.training.get("metrics") or {}
    parts = []
    if isinstance(m.get("flicker"), dict):
        parts.append(f"flicker {_fmt(m['flicker']['ratio'])}")
    if isinstance(m.get("lab_distance"), dict):
        lab = m["lab_distance"]
        parts.append(f"Lab distance to style {lab['before']:.1f} → {lab['after']:.1f}")
    parts += [f"{k.replace('_', ' ')} {_fmt(v)}" for k, v in m.items() if k not in _METRIC_KEYS]
    return "; ".join(parts) or "not measured"


_METRIC_KEYS = {"flicker", "lab_distance", "measured_with", "mode"}


def metric_lines(meta: StyleMeta) -> list[str]:
    """`training["metrics"]` as Markdown bullet lines for the model card."""
    m = meta.training.get("metrics") or {}
    lines = []
    if isinstance(m.get("lab_distance"), dict):
        lab = m["lab_distance"]
        lines.append(
            f"- Lab mean/std distance to the style set ({lab.get('style_images', '?')} images),"
            f" {lab['images']} held-out people: "
            f"{lab['before']:.1f} before, {lab['after']:.1f} after (lower after: moved toward the look)."
        )
    if isinstance(m.get("flicker"), dict):
        f = m["flicker"]
        lines.append(
            f"- Flicker ratio on {f['clip']} ({f['pairs']} frame pairs): {_fmt(f['ratio'])}"
            " (warping error of the stylized clip over the input's; 1.00: none added)."
        )
    lines += [f"- {k.replace('_', ' ')}: {_fmt(v)}" for k, v in m.items() if k not in _METRIC_KEYS]
    return lines
