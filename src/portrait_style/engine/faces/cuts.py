"""Scene cuts, found as they happen, so what was known about the last shot's faces is dropped at once.

At a cut the tracker's faces and a face look's lights belong to a picture that is gone: a light held for
a lost face (FaceConfig.light_hold_s) stayed a second and a half where the last shot's face had been
(Tears of Steel, `studio`: a lit patch on the robot after the cut from a close-up at frame 185), and the
next face was searched for only on the tracker's schedule. The rule is PySceneDetect's adaptive content
detector (its AdaptiveDetector: HSV content change, a ratio to the average change of the frames around,
a minimum change), run online: a frame is compared with the frames before it only, as a live stream
must. PySceneDetect itself is not a dependency: its detectors are two-pass or report cuts frames later,
and it requires `opencv-python`, which would install a second OpenCV next to the project's headless one.

Measured 2026-11-30 (these thumbnails, the change as the mean of |dH| |dS| |dV| in OpenCV's units):
Tears of Steel's three cuts 42.4, 62.6 and 66.1, 9.5-39 times the mean change of the 8 frames before;
its hologram shot, where the robot's picture flickers every other frame, 29.6-33.4 at 1.7-2.5 times;
the other frames under 12; the eleven GRID clips at most 1.6 (no cut).
"""

from __future__ import annotations

from collections import deque

import cv2
import numpy as np

THUMBNAIL = (64, 36)  # width, height: enough to see a new shot, cheap at any frame size
_HUE_RANGE = 180  # OpenCV's hue for uint8 images: 0..179, a circle


def _thumbnail(image: np.ndarray) -> np.ndarray:
    """HSV float32 thumbnail of an RGB uint8 frame: about 4 x 4 pixels picked for each thumbnail pixel (every
    7th pixel at 1080p), then area averaging: 0.3 ms at 1080p (area averaging of the whole frame: 3 ms)."""
    step = max(1, min(image.shape[0] // THUMBNAIL[1], image.shape[1] // THUMBNAIL[0]) // 4)
    small = cv2.resize(np.ascontiguousarray(image[::step, ::step]), THUMBNAIL, interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(small, cv2.COLOR_RGB2HSV).astype(np.float32)


def content_change(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute change of hue (around its circle), saturation and value between two thumbnails."""
    d = np.abs(a - b)
    d[..., 0] = np.minimum(d[..., 0], _HUE_RANGE - d[..., 0])
    return float(d.mean())


class CutDetector:
    """`__call__(frame)` once per frame, in order: True when the frame starts a new shot.

    A cut is a change of at least `min_change` that is also `ratio` times the mean change of the last
    `window` frames (a fast pan or a flickering picture changes every frame, a cut once), at least
    `min_shot` frames after the last cut (PySceneDetect's min_scene_len). The first frame of a stream,
    or one of another size, is not a cut: there is nothing to drop."""

    def __init__(self, min_change: float, ratio: float, window: int, min_shot: int):
        """FaceConfig's cut_* fields hold the engine's values."""
        self.min_change, self.ratio, self.min_shot = min_change, ratio, min_shot
        self._recent: deque[float] = deque(maxlen=window)
        self.reset()

    def reset(self) -> None:
        self._recent.clear()
        self._last: tuple[tuple, np.ndarray] | None = None  # the last frame's shape and thumbnail
        self._since_cut = self.min_shot

    def __call__(self, image: np.ndarray) -> bool:
        thumb = _thumbnail(image)
        last, self._last = self._last, (image.shape, thumb)
        if last is None or last[0] != image.shape:
            self._recent.clear()
            return False
        last = last[1]
        change = content_change(thumb, last)
        usual = float(np.mean(self._recent)) if self._recent else 0.0
        self._recent.append(change)
        self._since_cut += 1
        cut = self._since_cut >= self.min_shot and change >= max(self.min_change, self.ratio * usual)
        if cut:
            self._since_cut = 0
        return cut
