"""Write the model card (Markdown) of a style checkpoint from the metadata stored inside it.

    python tools/model_card.py src/portrait_style/styles/*.safetensors

Writes NAME.md beside each checkpoint. Extra prose can follow the generated part: everything after the
line `<!-- end of generated card -->` in an existing card is kept.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from portrait_style.engine.checkpoint import read_meta
from portrait_style.engine.model import build, count_macs

MARKER = "<!-- end of generated card -->"


def render(path: Path) -> str:
    meta = read_meta(path)
    model = build(meta.arch, meta.arch_args)
    params = sum(p.numel() for p in model.parameters())
    lines = [
        f"# Style `{meta.name}`",
        "",
        meta.description,
        "",
        "| | |",
        "|---|---|",
        f"| default mode | {meta.mode} ({'aligned face crops' if meta.mode == 'face' else 'whole frames'}) |",
        f"| training resolution | {meta.resolution}² |",
        f"| frame mode works at | {f'{meta.frame_size} px short side' if meta.frame_size else 'full size'} |",
        f"| architecture | {meta.arch} {json.dumps(meta.arch_args)}: {params / 1e6:.2f} M parameters, "
        f"{count_macs(model) / 1e9:.2f} GMACs at 256² |",
        f"| licence | {meta.license} |",
        f"| attribution | {meta.attribution} |",
    ]
    lines += [
        f"| {key.replace('_', ' ')} | {_cell(value)} |"
        for key, value in meta.training.items()
        if key != "config"
    ]
    if "config" in meta.training:  # every training setting, for whoever wants to repeat the run
        lines += [
            "",
            "Full training configuration:",
            "",
            "```json",
            json.dumps(meta.training["config"], indent=1),
            "```",
        ]
    return "\n".join(lines) + "\n\n" + MARKER + "\n"


def _cell(value) -> str:
    if isinstance(value, dict):  # e.g. data counts per side: "content: files 192, used 192; style: ..."
        return "; ".join(f"{k}: {_cell(v)}" for k, v in value.items() if k != "source")
    return str(value)


def main(paths: list[str]) -> int:
    for name in paths:
        path = Path(name)
        card = path.with_suffix(".md")
        kept = card.read_text().split(MARKER, 1)[1] if card.is_file() and MARKER in card.read_text() else ""
        kept = kept.strip("\n")
        card.write_text(render(path) + (f"\n{kept}\n" if kept else ""))
        print(f"wrote {card}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
