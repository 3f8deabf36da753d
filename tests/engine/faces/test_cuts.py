"""Scene cuts: found where a shot changes and nowhere else; a face look drops the last shot's lights."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from skimage import data

from portrait_style.config import FaceConfig
from portrait_style.engine.faces.cuts import CutDetector


def _detector(**overrides) -> CutDetector:
    c = FaceConfig(**overrides)
    return CutDetector(c.cut_min_change, c.cut_ratio, c.cut_window, c.cut_min_shot)


def _scene(name: str, size=(480, 360)) -> np.ndarray:
    return cv2.resize(getattr(data, name)(), size, interpolation=cv2.INTER_AREA)


def _pan(image: np.ndarray, frames: int, step: float = 6.0) -> list[np.ndarray]:
    """A camera panning across the scene `step` pixels a frame (fast: a fifth of the width a second)."""
    h, w = image.shape[:2]
    moves = (np.float32([[1, 0, -step * k], [0, 1, 0]]) for k in range(frames))
    return [cv2.warpAffine(image, m, (w, h), borderMode=cv2.BORDER_REFLECT_101) for m in moves]


def _cuts(detector: CutDetector, frames) -> list[int]:
    return [i for i, frame in enumerate(frames) if detector(frame)]


def test_cuts_are_found_where_the_shot_changes_and_nowhere_else():
    frames = _pan(_scene("astronaut"), 20) + _pan(_scene("chelsea"), 20) + _pan(_scene("coffee"), 20)
    assert _cuts(_detector(), frames) == [20, 40]


def test_a_fade_a_pan_and_a_covered_face_are_not_cuts(astronaut):
    """Changes within a shot: light fading to half over 20 frames, a pan, a patch over the face."""
    fade = [(astronaut * (1.0 - 0.025 * k)).astype(np.uint8) for k in range(20)]
    covered = astronaut.copy()
    covered[40:200, 160:290] = 128
    for frames in (fade, _pan(astronaut, 20), [astronaut, covered, covered, astronaut]):
        assert _cuts(_detector(), frames) == []


def test_a_flickering_shot_is_cut_once():
    """A picture that flickers every other frame (Tears of Steel's hologram shot) changes every other
    frame by as much as a cut: only the shot's first frame is a cut."""
    scene = _scene("rocket")
    glitch = cv2.GaussianBlur(scene, (0, 0), 6) // 2 + 100
    frames = _pan(_scene("coffee"), 10) + [glitch if k % 2 else scene for k in range(60)]
    assert _cuts(_detector(), frames) == [10]


def test_the_first_frame_a_new_size_and_a_reset_are_not_cuts_and_shots_have_a_least_length():
    detector = _detector()
    scene, other = _scene("astronaut"), _scene("chelsea")
    assert not detector(scene)
    assert not detector(cv2.resize(other, (240, 180)))  # another stream: nothing to compare with
    detector.reset()
    assert not detector(other)
    shots = [scene] * 4 + [other] * 4 + [scene] * 4
    assert _cuts(_detector(cut_min_shot=4), shots) == [4, 8]
    assert _cuts(_detector(cut_min_shot=5), shots) == [4]  # a shot of 4 frames is too short


@pytest.mark.parametrize("cut_min_change", [15.0, 0.0])
def test_a_face_look_drops_the_last_shots_light_at_a_cut(astronaut, cut_min_change):
    """`studio` (its light follows the face, and a lost face's light is held for a second) on a shot of the
    astronaut, then a cut to a cat. With cuts found, the frame after the cut is what a fresh stylizer
    makes of it (nothing held from the last shot); with cuts off (cut_min_change 0) the astronaut's
    light stays where her face was and the rest of the cat gets the backdrop's function: measured
    2026-11-30, a mean level of 15.0 against 61.4, 50.8 levels from the fresh stylizer's frame."""
    from portrait_style.api import Stylizer

    cat = cv2.resize(data.chelsea(), astronaut.shape[1::-1], interpolation=cv2.INTER_AREA)
    faces = FaceConfig(cut_min_change=cut_min_change)
    look = Stylizer(style="studio", faces=faces)
    out = list(look.stream([astronaut] * 8 + [cat] * 2))
    fresh = Stylizer(style="studio", faces=faces).stylize(cat)
    difference = np.abs(out[8].astype(np.int16) - fresh).mean()
    if cut_min_change:
        assert difference == 0.0
    else:
        assert difference > 10.0
