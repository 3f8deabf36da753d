"""Which look preset fits the style photos (the default preset, `auto`, of trainer/config.py).

Fitting a look matches the content's colours, place by place, to the style photos'. That is right when
both show the same kind of shot (the same framing and backdrops, people of the same kind: the preset
'matched', every part) and wrong when they do not, where it copies the style photos' backdrops, clothes
and people onto the content (halos, blotches). Then the looks that cannot do that fit:

    the content's kind of shot             'matched', every part (tone, place in the frame, local contrast)
    portraits of other people or backdrops  'portraits', a colour function for the skin, one for the
    (faces in the content too)              backdrop
    one picture of anything else           'grade', one colour function for the whole frame
    a set of anything else                 'matched' (what a set of photos is cannot be told from this:
                                           textures, scenes or the same kind of shot framed otherwise)

"The same kind of shot" is told by structure, not colour: a grade moves tones and colours but leaves the
edges where they are. Each style photo's fine detail (log luma minus a blur, at 64 x 64, moved by up to
2 pixels) is correlated with every content picture's and the best kept. Measured 2026-11-30, median
over the style photos (one-off scripts on the shared data):

    the look benchmark's sets (aligned London portraits and Canada portraits, other people)   0.57
    London smiling against London neutral (the same people, aligned alike)                     0.77
    Congress colour / black-and-white, Canada, pixabay, paintings, webcam stills, London      0.08-0.17
    London portraits against GRID video frames                                                 0.04

One still needs more: a single portrait of someone else, even aligned alike (0.66 against 39 London
portraits), gave 'matched' that one person's skin to copy onto everyone (dark blotches around the eyes),
while a graded frame of the content's own shot ("make my video look like this frame") correlates almost
fully with a frame near it (GRID frames against 30 frames of their clip, teal-orange-film grade:
0.970-0.995 unmoved, also for frames not among the 30). Learning from such a GRID still (300 steps,
scored against the true grade on five later frames): 'matched' 34.9 dB, 'portraits' 26.9, 'grade' 23.7,
untouched 19.7 (before the statistics start's tone curve kept its slope beyond the content's tones,
look/init.py, which lifted 'portraits' from one still of another person by about 7 dB).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from portrait_style.trainer.images import read_rgb

SAME_KIND = 0.25  # median detail correlation from which a set of style photos is the content's kind of shot
SAME_SHOT = 0.8  # the same for one still: a graded frame of the content's own shot
SIZE = 64  # side the pictures are compared at
# each style photo is also compared moved by up to SHIFT pixels each way (at SIZE): a hand-held camera or
# a moving speaker shifts a shot's frames. A teal-graded GRID frame moved 5 / 10 / 20 pixels (of 360)
# against its plain self: 0.52 / 0.08 / -0.19 unmoved, 0.955 / 0.926 / 0.17 with SHIFT 2; the other
# pictures' correlations rose by 0.01-0.06 (webcam stills against London 0.11 -> 0.17; 4 pixels: 0.21)
SHIFT = 2
MOST_STYLE, MOST_CONTENT = 32, 128  # pictures compared at most (spread over each set)
FACE_CHECKS = 8  # pictures of each set looked at for faces at most: 'portraits' needs faces in half
# of the style photos and in one of the content pictures (its statistics are taken on and around faces)

WHY = {
    "matched": "style photos of the content's kind of shot (detail correlation {:.2f})",
    "matched-set": "style photos not lined up with the content and not portraits of other people"
    " (detail correlation {:.2f}): every part, as for a set of the content's kind; give --look-preset grade"
    " for their colours alone",
    "portraits": "portraits of other people or before other backdrops (detail correlation with the content"
    " {:.2f}): their light on the faces, their tone behind them; give --look-preset matched for every part",
    "grade": "one picture of another scene, or no faces on one side (detail correlation with the content"
    " {:.2f}): its colours as a grade; give --look-preset matched for every part",
}


def choose(style: list[Path], content: list[Path], has_face: Callable[[Path], bool]) -> tuple[str, str]:
    """(preset, why in words) for the style photos and the content pictures; `has_face(path)` tells
    whether a picture shows a face (asked only when they are not of the content's kind of shot). An
    unreadable single still gives ('grade', ''): loading it says what is wrong."""
    if len(style) == 1 and read_rgb(style[0]) is None:
        return "grade", ""
    match = detail_match(style, content)
    if match >= (SAME_SHOT if len(style) == 1 else SAME_KIND):
        return "matched", WHY["matched"].format(match)
    looked = _spread(style, FACE_CHECKS)
    portraits = 2 * sum(map(has_face, looked)) >= len(looked) and any(
        map(has_face, _spread(content, FACE_CHECKS))
    )
    if portraits:
        return "portraits", WHY["portraits"].format(match)
    if len(style) > 1:  # a set whose kind its pictures do not tell: every part, as before 'auto'
        return "matched", WHY["matched-set"].format(match)
    return "grade", WHY["grade"].format(match)


def detail_match(style: list[Path], content: list[Path]) -> float:
    """The median over the style pictures of the highest correlation of one's fine detail, moved by up
    to SHIFT pixels, with a content picture's (-1..1; 0 when none can be read)."""
    ours = _details(_spread(style, MOST_STYLE)).reshape(-1, SIZE, SIZE)
    theirs = _details(_spread(content, MOST_CONTENT)).T
    if not len(ours) or not theirs.shape[1]:
        return 0.0
    best = np.full(len(ours), -1.0, np.float32)
    for dy in range(-SHIFT, SHIFT + 1):
        for dx in range(-SHIFT, SHIFT + 1):
            moved = np.roll(ours, (dy, dx), axis=(1, 2)).reshape(len(ours), -1)
            best = np.maximum(best, (moved @ theirs).max(1))
    return float(np.median(best))


def _spread(paths: list[Path], most: int) -> list[Path]:
    """At most `most` of `paths`, evenly spread over them."""
    picks = np.linspace(0, len(paths) - 1, min(most, len(paths))).round().astype(int)
    return [paths[i] for i in picks]


def _details(paths: list[Path]) -> np.ndarray:
    """[n, SIZE * SIZE]: `_detail` of each readable, not flat picture."""
    rows = [d for d in map(_detail, paths) if d is not None]
    return np.stack(rows) if rows else np.zeros((0, SIZE * SIZE), np.float32)


def _detail(path: Path) -> np.ndarray | None:
    """Log luma minus its blur at SIZE x SIZE, flattened, unit length (None for an unreadable or flat
    picture)."""
    image = read_rgb(path)
    if image is None:
        return None
    grey = cv2.cvtColor(cv2.resize(image, (SIZE, SIZE), interpolation=cv2.INTER_AREA), cv2.COLOR_RGB2GRAY)
    # in log: a gain (white balance, a vignette) becomes an offset the blur takes away, a gamma a factor
    grey = np.log(grey.astype(np.float32) + 12.0)
    detail = grey - cv2.GaussianBlur(grey, (0, 0), 2.0)
    detail -= detail.mean()
    norm = float(np.linalg.norm(detail))
    return (detail / norm).ravel() if norm > 1e-2 else None
