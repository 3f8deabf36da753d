"""Before/after gallery of the built-in styles on held-out portraits, for the README.

    python tools/gallery.py --data ../shared/data --out docs/gallery.jpg

Columns are held-out people (London ids >= 120, CC BY 4.0; the CC0 webcam set); the first row is the
input, then one row per style, each run in its own default mode through the real engine.
pixabay_aligned_eval is evaluation-only with an unverified licence, so it is looked at (--extra) but
never written into the committed gallery.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from portrait_style.api import Stylizer
from portrait_style.engine.image_io import read_image, write_image
from portrait_style.engine.styles import builtin_styles

HELD_OUT = (
    "portraits/london_neutral/120_03.jpg",
    "portraits/london_smiling/131_08.jpg",
    "portraits/london_neutral/14*_03.jpg",
    "portraits/london_smiling/17*_08.jpg",
    "portraits/webcam_cc0/30cm.jpg",
    "portraits/webcam_cc0/lisa2.jpg",
)


def square(image: np.ndarray, side: int) -> np.ndarray:
    h, w = image.shape[:2]
    s = min(h, w)
    top, left = (h - s) // 3, (w - s) // 2  # a little above centre: portraits have the face high
    return cv2.resize(image[top : top + s, left : left + s], (side, side), interpolation=cv2.INTER_AREA)


def label(tile: np.ndarray, text: str) -> np.ndarray:
    out = tile.copy()
    cv2.rectangle(out, (0, 0), (tile.shape[1], 22), (0, 0, 0), -1)
    cv2.putText(out, text, (5, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1, cv2.LINE_AA)
    return out


def resolve(data: Path, patterns) -> list[Path]:
    found = []
    for pattern in patterns:
        matches = sorted(data.glob(pattern))
        if matches:
            found.append(matches[0])
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="../shared/data")
    parser.add_argument("--out", default="docs/gallery.jpg")
    parser.add_argument("--side", type=int, default=192)
    parser.add_argument(
        "--extra", help="also write a gallery of pixabay_aligned_eval here (not for committing)"
    )
    args = parser.parse_args()
    data = Path(args.data)
    styles = {name: Stylizer(style=name) for name in builtin_styles()}
    jobs = [(resolve(data, HELD_OUT), args.out)]
    if args.extra:
        jobs.append((sorted((data / "portraits" / "pixabay_aligned_eval").glob("*"))[:6], args.extra))
    for paths, out in jobs:
        images = [read_image(path) for path in paths]
        rows = [np.concatenate([label(square(image, args.side), "input") for image in images], axis=1)]
        for name, stylizer in styles.items():
            tiles = []
            for image in images:
                stylizer.reset()  # unrelated people: detect afresh
                tiles.append(label(square(stylizer.stylize(image), args.side), f"{name} ({stylizer.mode})"))
            rows.append(np.concatenate(tiles, axis=1))
        write_image(out, np.concatenate(rows, axis=0))
        print(f"wrote {out}: {len(images)} people x {len(styles)} styles")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
