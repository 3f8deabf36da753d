"""Measure a built-in style for its model card, and append the figures to the card.

    python tools/style_metrics.py --data ../shared/data --style mono [--style-set LIST.txt]

- Colour statistics: distance between the pooled CIE Lab mean/std of held-out people (London ids >= 120,
  neutral) and those of the style set, before and after stylization (lower after = moved toward the look).
- Flicker: warping-error ratio on a GRID clip (stylized over the input's own; 1.0 = none added).
"""

from __future__ import annotations

import argparse
from itertools import islice
from pathlib import Path

import numpy as np

from portrait_style.api import Stylizer
from portrait_style.engine.image_io import read_image
from portrait_style.evaluate.baselines import lab_stats
from portrait_style.evaluate.flicker import measure_flicker
from portrait_style.evaluate.runner import video_frames

MARKER = "<!-- end of generated card -->"


def lab_distance(images, reference) -> float:
    (m1, s1), (m2, s2) = lab_stats(images), reference
    return float(np.linalg.norm(np.concatenate([m1 - m2, s1 - s2])))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="../shared/data")
    parser.add_argument("--style", required=True)
    parser.add_argument(
        "--style-set", help="text file listing the style images (as written by train_builtin_styles)"
    )
    parser.add_argument("--clip", default="video/grid_talking_heads/bbaf2n.mpg")
    parser.add_argument("--frames", type=int, default=50)
    args = parser.parse_args()
    data = Path(args.data)
    stylizer = Stylizer(style=args.style)
    held_out = [read_image(p) for p in sorted((data / "portraits" / "london_neutral").glob("1[2-9]?_03.jpg"))]
    lines = [
        "",
        f"Measured with `python tools/style_metrics.py --style {args.style}` ({stylizer.mode} mode):",
        "",
    ]
    if args.style_set:
        style_images = [read_image(p) for p in Path(args.style_set).read_text().split()[:200]]
        reference = lab_stats(style_images)
        outputs = []
        for image in held_out:
            stylizer.reset()
            outputs.append(stylizer.stylize(image))
        before, after = lab_distance(held_out, reference), lab_distance(outputs, reference)
        lines.append(
            f"- Lab mean/std distance to the style set, {len(held_out)} held-out people: "
            f"{before:.1f} before, {after:.1f} after."
        )
    stylizer.reset()
    inputs = list(islice(video_frames(data / args.clip), args.frames))
    result = measure_flicker(inputs, stylizer.stream(inputs))
    lines.append(
        f"- Flicker ratio on {Path(args.clip).name} ({result.pairs} frame pairs): {result.ratio:.2f}."
    )
    card = Path(stylizer.style_path).with_suffix(".md")
    text = card.read_text()
    head, _, tail = text.partition(MARKER)
    card.write_text(head + MARKER + "\n" + "\n".join(lines) + "\n" + tail.lstrip("\n"))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
