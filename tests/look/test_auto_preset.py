"""Which preset fits the style photos: the content's kind of shot (one still: its own), or other pictures."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from test_look import _blobs

from portrait_style.look import auto_preset


def _write(path: Path, rgb: np.ndarray) -> Path:
    cv2.imwrite(str(path), rgb[..., ::-1])
    return path


def _photos(n: int, seed: int) -> list[np.ndarray]:
    """Smooth colour fields with a fine texture on them, as photographs have (skin, hair, fabric)."""
    rng = np.random.default_rng(seed)
    out = []
    for image in _blobs(n, 96, seed):
        grain = cv2.GaussianBlur(rng.normal(0, 1, (96, 96)).astype(np.float32), (0, 0), 1.0)
        out.append(np.clip(image * (1 + 0.25 * grain[..., None] / grain.std()), 0, 255).astype(np.uint8))
    return out


def _graded(image: np.ndarray) -> np.ndarray:
    """A strong grade: a steep tone curve, a cast and a vignette (tones and colours move, edges stay)."""
    x = image.astype(np.float32) / 255.0
    x = (x * np.array([1.1, 0.95, 0.8], np.float32)).clip(0, 1) ** 1.6
    h, w = x.shape[:2]
    y, xx = np.mgrid[0:h, 0:w] / np.array([h, w]).reshape(2, 1, 1) - 0.5
    x = x * (1.0 - 0.8 * (xx**2 + y**2))[..., None]
    return (x * 255 + 0.5).astype(np.uint8)


def test_a_graded_frame_of_the_content_is_told_from_another_picture(tmp_path: Path):
    frames = _photos(12, 3)
    content = [_write(tmp_path / f"c{i}.png", f) for i, f in enumerate(frames)]
    own = [_write(tmp_path / "own.png", _graded(frames[7]))]
    other = [_write(tmp_path / "other.png", _graded(_photos(1, 4)[0]))]
    assert auto_preset.detail_match(own, content) > 0.95  # measured 0.99
    assert auto_preset.detail_match(other, content) < 0.3  # measured 0.07

    asked = []

    def face(answer: bool):
        return lambda path: asked.append(path) or answer

    assert auto_preset.choose(own, content, face(True))[0] == "matched" and not asked
    preset, why = auto_preset.choose(other, content, face(True))
    assert preset == "portraits" and "other people" in why
    assert auto_preset.choose(other, content, face(False))[0] == "grade"


def _framed(n: int, seed: int) -> list[np.ndarray]:
    """Pictures of one kind of shot: the same backdrop (a fixed pattern of edges) with a different
    textured subject in the middle of each, at its own exposure."""
    rng = np.random.default_rng(seed)
    backdrop = _photos(1, 99)[0].astype(np.float32)
    out = []
    for subject in _photos(n, seed):
        image = backdrop * rng.uniform(0.7, 1.2)
        image[32:80, 28:68] = subject[32:80, 28:68]
        out.append(np.clip(image, 0, 255).astype(np.uint8))
    return out


def test_a_set_of_the_content_kind_of_shot_is_matched_and_other_sets_are_not(tmp_path: Path):
    content = [_write(tmp_path / f"c{i}.png", f) for i, f in enumerate(_framed(16, 1))]
    same_kind = [_write(tmp_path / f"s{i}.png", _graded(f)) for i, f in enumerate(_framed(16, 2))]
    others = [_write(tmp_path / f"o{i}.png", _graded(f)) for i, f in enumerate(_photos(16, 3))]
    assert auto_preset.detail_match(same_kind, content) > 0.5  # measured 0.80: the backdrop lines up
    assert auto_preset.detail_match(others, content) < 0.15  # measured 0.06
    looked = []
    assert auto_preset.choose(same_kind, content, lambda p: looked.append(p) or True)[0] == "matched"
    assert not looked
    faces = {p: i % 2 == 0 for i, p in enumerate(others)} | {p: p == content[0] for p in content}
    assert auto_preset.choose(others, content, faces.__getitem__)[0] == "portraits"  # half, and one
    faces[content[0]] = False  # no face in the content: its skin has no statistics to start from
    preset, why = auto_preset.choose(others, content, faces.__getitem__)
    assert preset == "matched" and "not portraits of other people" in why  # a set: its kind untold
    assert auto_preset.choose(others, content, lambda p: False)[0] == "matched"
    assert auto_preset.choose(others[:1], content, lambda p: False)[0] == "grade"  # one picture of it


def test_unreadable_pictures_match_nothing(tmp_path: Path):
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a picture")
    flat = _write(tmp_path / "flat.png", np.full((32, 32, 3), 90, np.uint8))
    good = _write(tmp_path / "good.png", _blobs(1, 64, 0)[0])
    assert auto_preset.detail_match([broken], [good]) == 0.0
    assert auto_preset.detail_match([good], [broken, flat]) == 0.0
    assert auto_preset.choose([broken], [good], lambda p: True) == ("grade", "")  # loading it will say why


def test_a_frame_of_the_shot_moved_a_little_still_lines_up(tmp_path: Path):
    """A moving speaker or camera shifts a shot's frames: moved by up to 2 pixels at the compared size (3 %
    of the frame), a graded frame still matches its plain self; moved by a tenth of the frame, not."""
    scene = _photos(1, 6)[0]
    plain = [_write(tmp_path / "plain.png", scene)]
    for shift, same in ((1, True), (3, True), (10, False)):  # pixels of 96 (measured 0.90, 0.95, 0.09)
        moved = [_write(tmp_path / f"moved{shift}.png", _graded(np.roll(scene, shift, axis=1)))]
        assert (auto_preset.detail_match(moved, plain) >= auto_preset.SAME_SHOT) == same, shift
