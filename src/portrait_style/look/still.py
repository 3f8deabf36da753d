"""Which look preset fits a single style still (the `auto` preset of trainer/config.py).

One picture says little on its own: fitting a look to it matches the content's colours to that one
picture's. That is right when the still is a graded frame of the content's own shot ("make my video look
like this frame": the same people, backdrop and framing), and wrong when it shows someone else:

    the content's own shot   'matched', every part (tone, place in the frame, local contrast)
    a portrait of another    'portraits', one colour function for the skin, one for the backdrop
    anything else            'grade', one colour function for the whole frame

"The content's own shot" is told by structure, not colour: a grade moves tones and colours but leaves the
edges where they are, so the still's fine detail (log luma minus a blur, at 64 x 64) correlates almost
fully with the frame it was graded from. Measured 2026-11-30 (the teal-orange-film look as the grade): a
GRID frame against 30 frames of its clip, the graded one among them or not (frames 30, 31, 61, 74 of four
clips), 0.970-0.995; a London portrait against 39 other aligned London portraits 0.62 (0.985 with its own
plain frame among them); a Congress portrait against London portraits 0.04. Learning from the GRID still
(300 steps, scored against the true grade on five later frames of the clip): 'matched' 34.9 dB,
'portraits' 26.9, 'grade' 23.7, untouched 19.7. From one graded London portrait of someone else,
'matched' copied that person's skin onto everyone (dark blotches around the eyes).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from portrait_style.look.data import has_face
from portrait_style.trainer.images import read_rgb

__all__ = ["WHY", "has_face", "preset_for_still"]

SAME_SHOT = 0.8  # detail correlation above which the still is taken as a frame of the content's shot
SIZE = 64  # side the pictures are compared at
MOST = 256  # content pictures compared at most (spread over the set)

WHY = {
    "matched": "a set of style photos, taken as the same kind of shot as the content, graded",
    "matched-still": "one style photo, a graded frame of the content's own shot (detail correlation {:.2f})",
    "portraits": "one style photo of other people (a face in it; detail correlation with the content"
    " {:.2f}): its light on the faces, its tone behind them; give --look-preset matched for every part",
    "grade": "one style photo of another scene (no face in it; detail correlation with the content {:.2f}):"
    " its colours as a grade; give --look-preset matched for every part",
}


def preset_for_still(still: Path, content: list[Path], has_face) -> tuple[str, str]:
    """(preset, why in words) for one style still and the content pictures; `has_face()` tells whether
    the still shows a face (asked only when the still is not of the content's shot). An unreadable still
    gives ('grade', ''): loading it says what is wrong."""
    if read_rgb(still) is None:
        return "grade", ""
    match = detail_match(still, content)
    if match >= SAME_SHOT:
        return "matched", WHY["matched-still"].format(match)
    preset = "portraits" if has_face() else "grade"
    return preset, WHY[preset].format(match)


def detail_match(still: Path, content: list[Path]) -> float:
    """The highest correlation of the still's fine detail with a content picture's (-1..1; 0 when either
    cannot be read)."""
    mine = _detail(still)
    if mine is None:
        return 0.0
    picks = np.linspace(0, len(content) - 1, min(MOST, len(content))).round().astype(int)
    scores = [
        float((mine * theirs).sum())
        for theirs in map(_detail, (content[i] for i in picks))
        if theirs is not None
    ]
    return max(scores, default=0.0)


def _detail(path: Path) -> np.ndarray | None:
    """Log luma minus its blur at SIZE x SIZE, unit length (None for an unreadable or flat picture)."""
    image = read_rgb(path)
    if image is None:
        return None
    grey = cv2.cvtColor(cv2.resize(image, (SIZE, SIZE), interpolation=cv2.INTER_AREA), cv2.COLOR_RGB2GRAY)
    # in log: a gain (white balance, a vignette) becomes an offset the blur takes away, a gamma a factor
    grey = np.log(grey.astype(np.float32) + 12.0)
    detail = grey - cv2.GaussianBlur(grey, (0, 0), 2.0)
    detail -= detail.mean()
    norm = float(np.linalg.norm(detail))
    return detail / norm if norm > 1e-2 else None
