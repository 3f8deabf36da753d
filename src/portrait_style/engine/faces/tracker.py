"""Faces followed through a video: detect every few frames, optical flow in between, smooth per track.

Each track carries a few corner features inside its face. Between detections, sparse Lucas-Kanade
flow (checked forwards and backwards) moves them, and the similarity transform they agree on moves the
face's box and landmarks. On detection frames, detections continue the track they overlap most (IoU),
so track ids stay stable; a One-Euro filter per track removes the jitter that would shake the crops.

False positives: a new track is shown at once only when its detection scores at least
`FaceConfig.confirm_score`. A less certain one is followed but not returned until detections have
confirmed it in every detection round for `confirm_frames` frames; a round that misses it ends it. A
patch of railing that MTCNN scores 0.82 in one frame of a film is then never painted, while a real face
(0.97 and up on the project's portraits and clips) shows from its first frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from portrait_style.config import FaceConfig
from portrait_style.engine.faces.detectors import Detector
from portrait_style.engine.faces.smoothing import OneEuroFilter
from portrait_style.engine.frame import Face

_LK = dict(winSize=(21, 21), maxLevel=3, criteria=(cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 20, 0.03))
_MAX_FEATURES = 40
_FORWARD_BACKWARD_PX = 1.0  # a feature whose backward flow misses its start by more is unreliable
_MIN_FEATURES = 4  # fewer surviving features and the track is lost
_MAX_SCALE_STEP = 1.25  # a face cannot grow or shrink faster than this per frame


@dataclass
class _Track:
    track_id: int
    face: Face  # raw estimate in the latest frame
    points: np.ndarray  # N x 2 float32 features followed by optical flow
    smoother: OneEuroFilter
    misses: int = 0  # detection rounds in a row without a matching detection
    confirmed: bool = True  # shown; False while a low-score new face waits for more detections
    age: int = 0  # frames since the track started


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Intersection over union of every box in a (N x 4) with every box in b (M x 4): N x M."""
    a, b = np.asarray(a, np.float64).reshape(-1, 4), np.asarray(b, np.float64).reshape(-1, 4)
    top_left = np.maximum(a[:, None, :2], b[None, :, :2])
    bottom_right = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(bottom_right - top_left, 0, None), axis=2)
    area_a, area_b = np.prod(a[:, 2:] - a[:, :2], axis=1), np.prod(b[:, 2:] - b[:, :2], axis=1)
    return inter / np.maximum(area_a[:, None] + area_b[None, :] - inter, 1e-9)


def _features(gray: np.ndarray, face: Face) -> np.ndarray:
    """Corners inside the middle of the face box (the box edges hold background), else the landmarks."""
    x1, y1, x2, y2 = face.box
    inset_x, inset_y = 0.15 * (x2 - x1), 0.1 * (y2 - y1)
    height, width = gray.shape
    left, top = int(max(x1 + inset_x, 0)), int(max(y1 + inset_y, 0))
    right, bottom = int(min(x2 - inset_x, width)), int(min(y2 - inset_y, height))
    corners = None
    if right - left >= 8 and bottom - top >= 8:
        mask = np.zeros_like(gray)
        mask[top:bottom, left:right] = 255
        spacing = max(3.0, (right - left) / 12)
        corners = cv2.goodFeaturesToTrack(gray, _MAX_FEATURES, 0.01, spacing, mask=mask, blockSize=5)
    if corners is not None and len(corners) >= _MIN_FEATURES:
        return corners.reshape(-1, 2).astype(np.float32)
    if face.landmarks is None:
        return np.empty((0, 2), np.float32)
    inside = np.all((face.landmarks >= 0) & (face.landmarks < [width, height]), axis=1)
    return face.landmarks[inside].astype(np.float32)


def _move_face(face: Face, transform: np.ndarray) -> Face:
    """The face moved by a 2 x 3 similarity: landmarks exactly, the box by its centre and scale."""
    scale = float(np.sqrt(abs(np.linalg.det(transform[:, :2]))))
    centre = (face.box[:2] + face.box[2:]) / 2
    half = (face.box[2:] - face.box[:2]) / 2 * scale
    new_centre = transform[:, :2] @ centre + transform[:, 2]
    box = np.concatenate([new_centre - half, new_centre + half]).astype(np.float32)
    landmarks = None
    if face.landmarks is not None:
        landmarks = (face.landmarks @ transform[:, :2].T + transform[:, 2]).astype(np.float32)
    return Face(box=box, score=face.score, landmarks=landmarks, track_id=face.track_id)


class FaceTracker:
    """`update(frame)` once per frame, in order; `reset()` at a cut or a new stream."""

    def __init__(self, detector: Detector, cfg: FaceConfig):
        self.detector, self.cfg = detector, cfg
        self.reset()

    def reset(self) -> None:
        self._tracks: list[_Track] = []
        self._prev_gray: np.ndarray | None = None
        self._frame = 0
        self._since_detection = 1 << 30  # the first frame is searched
        self._next_id = 0

    def update(self, image: np.ndarray, t: float | None = None) -> list[Face]:
        """Smoothed faces in this H x W x 3 uint8 RGB frame, by track id. t: seconds (default frame / fps)."""
        gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
        t = self._frame / self.cfg.smooth_fps if t is None else t
        if self._prev_gray is not None and self._prev_gray.shape != gray.shape:
            self.reset()
        if self._tracks and self._prev_gray is not None:
            self._follow(self._prev_gray, gray)
        self._since_detection += 1
        every = self.cfg.detect_every if self._tracks else self.cfg.search_every
        if self._since_detection >= every:
            self._associate(self.detector.detect(image), gray)
            self._since_detection = 0
        self._prev_gray = gray
        self._frame += 1
        for track in self._tracks:
            track.age += 1
        # tentative tracks are smoothed too (their filter state is warm when they are confirmed)
        smoothed = [(track, self._smoothed(track, t)) for track in self._tracks]
        return [face for track, face in smoothed if track.confirmed]

    def _follow(self, prev: np.ndarray, gray: np.ndarray) -> None:
        """Move every track by optical flow; drop the ones the flow loses."""
        counts = [len(track.points) for track in self._tracks]
        if sum(counts) == 0:
            self._tracks = []
            return
        start = np.concatenate([track.points for track in self._tracks]).reshape(-1, 1, 2)
        ahead, ok_ahead, _ = cv2.calcOpticalFlowPyrLK(prev, gray, start, None, **_LK)
        back, ok_back, _ = cv2.calcOpticalFlowPyrLK(gray, prev, ahead, None, **_LK)
        good = (ok_ahead.ravel() == 1) & (ok_back.ravel() == 1)
        good &= np.linalg.norm((back - start).reshape(-1, 2), axis=1) < _FORWARD_BACKWARD_PX
        kept = []
        offsets = np.cumsum([0, *counts])
        for track, count, lo, hi in zip(self._tracks, counts, offsets[:-1], offsets[1:], strict=True):
            ok = good[lo:hi]
            src, dst = start[lo:hi][ok].reshape(-1, 2), ahead[lo:hi][ok].reshape(-1, 2)
            if len(src) < _MIN_FEATURES:
                continue
            transform, inliers = cv2.estimateAffinePartial2D(
                src, dst, method=cv2.RANSAC, ransacReprojThreshold=2.0
            )
            if transform is None:
                continue
            scale = np.sqrt(abs(np.linalg.det(transform[:, :2])))
            if not 1 / _MAX_SCALE_STEP < scale < _MAX_SCALE_STEP:
                continue
            track.face = _move_face(track.face, transform)
            track.points = dst[inliers.ravel() == 1]
            if len(track.points) < max(_MIN_FEATURES, count // 2):
                track.points = _features(gray, track.face)  # replenish before too few are left
            kept.append(track)
        self._tracks = kept

    def _associate(self, detections: list[Face], gray: np.ndarray) -> None:
        """Detections continue the tracks they overlap most; the rest start tracks; stale tracks go."""
        iou = box_iou([track.face.box for track in self._tracks], [face.box for face in detections])
        unmatched_tracks, unmatched_faces = set(range(len(self._tracks))), set(range(len(detections)))
        for flat in np.argsort(-iou, axis=None):
            ti, di = np.unravel_index(flat, iou.shape)
            if iou[ti, di] < self.cfg.track_iou:
                break
            if ti in unmatched_tracks and di in unmatched_faces:
                unmatched_tracks.discard(ti)
                unmatched_faces.discard(di)
                track = self._tracks[ti]
                track.face, track.misses = detections[di], 0
                track.face.track_id = track.track_id
                track.points = _features(gray, track.face)
                if not track.confirmed:
                    track.confirmed = (
                        track.face.score >= self.cfg.confirm_score or track.age >= self.cfg.confirm_frames
                    )
        for ti in unmatched_tracks:
            self._tracks[ti].misses += 1
        self._tracks = [
            track
            for track in self._tracks
            if track.misses <= (self.cfg.track_max_misses if track.confirmed else 0)
        ]
        for di in sorted(unmatched_faces):
            if len(self._tracks) >= self.cfg.max_faces:
                break
            face = detections[di]
            face.track_id = self._next_id
            smoother = OneEuroFilter(self.cfg.smooth_min_cutoff, self.cfg.smooth_beta)
            confirmed = face.score >= self.cfg.confirm_score or self.cfg.confirm_frames == 0
            self._tracks.append(
                _Track(self._next_id, face, _features(gray, face), smoother, confirmed=confirmed)
            )
            self._next_id += 1
        self._tracks.sort(key=lambda track: track.track_id)

    def _smoothed(self, track: _Track, t: float) -> Face:
        face = track.face
        parts = [face.box] if face.landmarks is None else [face.box, face.landmarks.ravel()]
        values = track.smoother(np.concatenate(parts), t).astype(np.float32)
        landmarks = None if face.landmarks is None else values[4:].reshape(5, 2)
        return Face(box=values[:4], score=face.score, landmarks=landmarks, track_id=track.track_id)
