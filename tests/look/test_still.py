"""Which preset fits one style still: a graded frame of the content's own shot, or another picture."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from test_look import _blobs

from portrait_style.look import still


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
    own = _write(tmp_path / "own.png", _graded(frames[7]))
    other = _write(tmp_path / "other.png", _graded(_photos(1, 4)[0]))
    assert still.detail_match(own, content) > 0.95  # measured 0.99
    assert still.detail_match(other, content) < 0.3  # measured 0.06

    asked = []

    def face(answer: bool):
        return lambda: asked.append(answer) or answer

    assert still.preset_for_still(own, content, face(True))[0] == "matched" and not asked
    preset, why = still.preset_for_still(other, content, face(True))
    assert preset == "portraits" and "other people" in why
    assert still.preset_for_still(other, content, face(False))[0] == "grade"


def test_unreadable_pictures_match_nothing(tmp_path: Path):
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a picture")
    flat = _write(tmp_path / "flat.png", np.full((32, 32, 3), 90, np.uint8))
    good = _write(tmp_path / "good.png", _blobs(1, 64, 0)[0])
    assert still.detail_match(broken, [good]) == 0.0
    assert still.detail_match(good, [broken, flat]) == 0.0
    assert still.preset_for_still(broken, [good], lambda: True) == ("grade", "")  # loading it will say why
