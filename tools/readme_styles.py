"""Regenerate the README's style table from the metadata inside the built-in style files.

    python tools/readme_styles.py            # rewrite the table between the markers in README.md
    python tools/readme_styles.py --check    # exit 1 if the table is out of date

The table lives between `BEGIN` and `END` (HTML comments, invisible on GitHub); everything else in the
README is left alone. Each row says what `portrait-style styles` and the model card say, through the
same helpers (`portrait_style.engine.styles`). `python tools/model_card.py` runs this too.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from portrait_style.engine import styles

README = Path(__file__).resolve().parents[1] / "README.md"
BEGIN = (
    "<!-- styles-table: generated from the style files' metadata by `python tools/model_card.py`;"
    " change the metadata, not this table -->"
)
END = "<!-- /styles-table -->"


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def render_table() -> str:
    """The Markdown of the table region (without the markers)."""
    default = styles.default_style() if styles.builtin_styles() else None
    lines = ["| style | mode | what it is | trained | measured |", "|---|---|---|---|---|"]
    for name, meta in styles.describe_styles():
        label = f"`{name}` (default)" if name == default else f"`{name}`"
        cells = [
            label,
            styles.mode_summary(meta),
            styles.what_it_is(meta),
            styles.training_summary(meta),
            styles.metrics_summary(meta),
        ]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    lines += [
        "",
        "*trained*: steps at the training resolution, batch, hardware, wall time, images used.",
        "*measured* (`tools/style_metrics.py`): flicker = warping error of a stylized GRID clip over the"
        " input's own (1.00: none added); Lab distance = of held-out people's pooled CIE Lab mean/std to"
        " the style set's, before → after stylizing (lower after: moved toward the look).",
    ]
    return "\n".join(lines)


def updated_readme(text: str) -> str:
    """`text` with the region between the markers replaced by the current table."""
    if text.count(BEGIN) != 1 or text.count(END) != 1 or text.index(BEGIN) > text.index(END):
        raise SystemExit(f"README: expected one '{BEGIN}' ... '{END}' region")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n{render_table()}\n{END}{tail}"


def update_readme(path: Path | None = None, check: bool = False) -> bool:
    """Rewrite the table (or, with `check`, only compare). True when the file was already current."""
    path = path or README
    text = path.read_text()
    new = updated_readme(text)
    if new == text:
        return True
    if not check:
        path.write_text(new)
        print(f"wrote the style table in {path}")
    return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readme", type=Path, default=None, help="default: the repository's README.md")
    parser.add_argument("--check", action="store_true", help="exit 1 if the table is out of date")
    args = parser.parse_args(argv)
    current = update_readme(args.readme, check=args.check)
    if args.check and not current:
        print(
            f"{args.readme}: the style table is out of date; run python tools/model_card.py", file=sys.stderr
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
