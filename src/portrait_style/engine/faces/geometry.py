"""Where the faces are, in the frame-relative form a look model takes.

A look whose light follows the face gets, per image, a fixed-size table of faces: one row per face,
(cx, cy, size, valid), with the centre in frame coordinates from -1 (left/top edge) to 1 (right/bottom
edge), the size as the face box's height over the frame's height, and valid 1 for a face, 0 for an
empty row. A fixed number of rows keeps the model's input shape static (ONNX, TensorRT).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from portrait_style.engine.frame import Face

MAX_FACES = 4  # rows of the table; the largest faces win when a frame has more
FACE_COLUMNS = 4  # cx, cy, size, valid


def face_table(faces: Sequence[Face], height: int, width: int, max_faces: int = MAX_FACES) -> np.ndarray:
    """(max_faces, 4) float32 table of the largest faces, empty rows all zero."""
    table = np.zeros((max_faces, FACE_COLUMNS), np.float32)
    boxes = sorted((np.asarray(f.box, np.float32) for f in faces), key=lambda b: -(b[3] - b[1]))
    for row, (x1, y1, x2, y2) in zip(table, boxes[:max_faces], strict=False):
        row[0] = (x1 + x2) / width - 1.0
        row[1] = (y1 + y2) / height - 1.0
        row[2] = (y2 - y1) / height
        row[3] = 1.0
    return table


def no_faces(batch: int, max_faces: int = MAX_FACES) -> np.ndarray:
    return np.zeros((batch, max_faces, FACE_COLUMNS), np.float32)


class SteadyFaceTables:
    """Face tables for a look whose light follows the faces, steadier than the tracker's boxes and without
    the light snapping on or off when a face comes or goes.

    The tracker's boxes are smoothed for pasting crops back, where a pixel of jitter is invisible; light
    spread over a whole face is not: the same few-pixel wobble of box size and centre makes the lit
    region breathe. Measured 2026-11-29 on GRID swiz3n with the face-aware `studio` look: flicker ratio
    1.14 with the tracker's boxes, 1.03 with one fixed table, 1.055 with this filter at 0.3 Hz / beta 2,
    1.04 at 0.1 Hz / beta 1 (FaceConfig's light_* defaults). So each track's (cx, cy, size) gets a
    second, slower One-Euro filter (still faces: hard smoothing; moving faces: the cutoff rises with
    speed, so the light keeps up, about a quarter of a second behind at half a frame width per second).
    The size rises its cutoff less with its speed (FaceConfig.light_size_beta): its jitter is what made the
    light breathe most, and real changes of a face's size are slow.

    A row's `valid` is how much of its light is on (the look weighs each face's field by it). A face the
    detector loses keeps its light where it last was for `hold_s`, then the light fades out over
    `fade_s`; a face found later fades in over `fade_s` (one in the first frame is on at once); while no
    face is lit, the light rests on `rest` (cx, cy, size; a size of 0: none): it has what the faces'
    lights leave of 1, so it crossfades with a face's light going or coming (eased, they sum to 1). A
    face look's backdrop function alone is not a picture: `studio` turned frames whose face the
    detector missed almost black, and back in one frame (FaceConfig's light_hold_s).
    """

    def __init__(
        self,
        min_cutoff: float,
        beta: float,
        fps: float,
        size_beta: float | None = None,
        hold_s: float = 0.0,
        fade_s: float = 0.0,
        rest: Sequence[float] = (0.0, 0.0, 0.0),
    ):
        """size_beta: the size's own beta (default: beta); the place (cx, cy) takes beta. The defaults of
        hold_s, fade_s and rest keep no light that has no face (FaceConfig has the engine's)."""
        self.min_cutoff, self.fps, self.hold_s, self.fade_s = min_cutoff, fps, hold_s, fade_s
        self.beta = np.array([beta, beta, beta if size_beta is None else size_beta])
        self.rest = np.asarray(rest, np.float32)
        self.reset()

    def reset(self) -> None:
        self._lights: dict[int, _Light] = {}
        self._frame, self._last_t = 0, None

    def __call__(self, faces: Sequence[Face], height: int, width: int, t: float | None = None) -> np.ndarray:
        from portrait_style.engine.faces.smoothing import OneEuroFilter

        t = self._frame / self.fps if t is None else t
        self._frame += 1
        first = self._last_t is None
        dt, self._last_t = (0.0 if first else max(0.0, t - self._last_t)), t
        fade = dt / self.fade_s if self.fade_s > 0 else 1.0  # presence gained or lost this frame
        table = face_table(faces, height, width)
        ids = [f.track_id for f in sorted(faces, key=lambda f: -(f.box[3] - f.box[1]))][: len(table)]
        for row, track in zip(table, ids, strict=False):
            light = self._lights.get(track)
            if light is None:  # on at once in the first frame, else fading in
                light = _Light(OneEuroFilter(self.min_cutoff, self.beta), 1.0 if first else 0.0)
                self._lights[track] = light
            light.row, light.seen = light.steady(row[:3], t), t
            light.presence = min(1.0, light.presence + fade)
        for track, light in list(self._lights.items()):
            if track in ids or t - light.seen <= self.hold_s:
                continue
            light.presence -= fade  # lost and held long enough: fading out
            if light.presence <= 0.0:
                del self._lights[track]  # a track that ended leaves no state behind
        return self._table(len(table), t)

    def _table(self, rows: int, t: float) -> np.ndarray:
        """The lights as a face table, `valid` their presence, eased: the faces seen in this frame first
        (the largest first), then the held and fading lights, then the resting light, which has what the
        faces' lights leave of 1 (a face fading in or out crossfades with it, and a false detection's faint
        light does not put the rest out). With more lights than rows the last ones are left out: a big
        face's held light never takes the row of a face in view."""
        lights = sorted(self._lights.values(), key=lambda light: (light.seen != t, -light.row[2]))
        lights = [(light.row, light.presence) for light in lights]
        resting = 1.0 - sum(presence for _, presence in lights)
        if resting > 0.0 and self.rest[2] > 0.0:
            lights.append((self.rest, resting))
        table = np.zeros((rows, FACE_COLUMNS), np.float32)
        for out, (row, presence) in zip(table, lights, strict=False):
            out[:3], out[3] = row, presence * presence * (3.0 - 2.0 * presence)  # smoothstep
        return table


class _Light:
    """One track's light: its steadied (cx, cy, size), how much of it is on, when its face was last seen."""

    def __init__(self, steady, presence: float):
        self.steady, self.presence = steady, presence
        self.row, self.seen = np.zeros(3, np.float32), 0.0
