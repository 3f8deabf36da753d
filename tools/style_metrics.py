"""Measure a built-in style and store the figures in its metadata (`training["metrics"]`).

    python tools/style_metrics.py --data ../shared/data --style mono [--style-set LIST.txt]

The figures go into the style file's metadata (weights byte-identical), and the model card and the
README's style table are regenerated from it (`tools/model_card.py`), so all three show them.

- Colour statistics: distance between the pooled CIE Lab mean/std of held-out people (London ids >= 120,
  neutral) and those of the style set, before and after stylization (lower after = moved toward the look).
- Flicker: warping-error ratio on a GRID clip (stylized over the input's own; 1.0 = none added).
"""

from __future__ import annotations

import argparse
import sys
from itertools import islice
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import model_card  # noqa: E402

from portrait_style.api import Stylizer  # noqa: E402
from portrait_style.engine.image_io import read_image  # noqa: E402
from portrait_style.engine.styles import update_meta  # noqa: E402
from portrait_style.evaluate.baselines import lab_stats  # noqa: E402
from portrait_style.evaluate.flicker import measure_flicker  # noqa: E402
from portrait_style.evaluate.runner import video_frames  # noqa: E402


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
    command = f"python tools/style_metrics.py --style {args.style}"
    metrics: dict = {"measured_with": command, "mode": stylizer.mode}
    if args.style_set:
        listed = Path(args.style_set).read_text().split()
        style_images = [read_image(p) for p in listed[:200]]
        metrics["measured_with"] += f" --style-set {Path(args.style_set).name}"
        reference = lab_stats(style_images)
        outputs = []
        for image in held_out:
            stylizer.reset()
            outputs.append(stylizer.stylize(image))
        metrics["lab_distance"] = {
            "before": round(lab_distance(held_out, reference), 1),
            "after": round(lab_distance(outputs, reference), 1),
            "images": len(held_out),
            "style_images": len(style_images),
        }
    stylizer.reset()
    inputs = list(islice(video_frames(data / args.clip), args.frames))
    result = measure_flicker(inputs, stylizer.stream(inputs))
    metrics["flicker"] = {
        "ratio": round(result.ratio, 2),
        "clip": Path(args.clip).name,
        "pairs": result.pairs,
    }

    def store(meta: dict) -> None:
        meta.setdefault("training", {})["metrics"] = metrics

    path = Path(stylizer.style_path)
    update_meta(path, store)
    model_card.main([str(path)])  # the card, and the README table for a built-in style
    print(metrics)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
