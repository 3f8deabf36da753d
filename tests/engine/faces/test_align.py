"""Alignment: the similarity fit is exact, crops put the eyes on the template, borders give full crops."""

from __future__ import annotations

import numpy as np

from portrait_style.config import FaceConfig
from portrait_style.engine.faces.align import (
    face_size,
    face_transform,
    invert_transform,
    similarity_transform,
    template,
    warp_crop,
)
from portrait_style.engine.frame import Face


def _apply(transform: np.ndarray, points: np.ndarray) -> np.ndarray:
    return points @ np.asarray(transform, np.float64)[:, :2].T + np.asarray(transform, np.float64)[:, 2]


def _similarity(angle: float, scale: float, shift) -> np.ndarray:
    c, s = scale * np.cos(angle), scale * np.sin(angle)
    return np.array([[c, -s, shift[0]], [s, c, shift[1]]])


def test_template_is_symmetric_with_eyes_level_and_face_centred():
    points = template(256, 2.2)
    assert abs(points[0, 1] - points[1, 1]) < 0.5  # eyes level
    assert abs((points[0, 0] + points[1, 0]) / 2 - 128) < 1.5  # centred left to right
    assert points[0, 1] < points[2, 1] < points[3, 1] < 256 * 0.8  # eyes, nose, mouth, room for a chin


def test_crop_scale_is_the_crop_side_over_ffhq_face_size():
    for crop_scale in (1.5, 2.0, 2.2, 3.0):
        assert np.isclose(256 / face_size(template(256, crop_scale)), crop_scale)


def test_similarity_transform_recovers_a_known_similarity():
    rng = np.random.default_rng(1)
    src = rng.uniform(0, 500, (5, 2))
    truth = _similarity(0.3, 1.7, (-40.0, 12.5))
    np.testing.assert_allclose(similarity_transform(src, _apply(truth, src)), truth, atol=1e-9)


def test_face_transform_maps_landmarks_onto_the_template_and_back():
    crop_size, crop_scale = 256, 2.2
    target = template(crop_size, crop_scale)
    frame_to_crop = _similarity(-0.2, 0.45, (30.0, -80.0))
    landmarks = _apply(invert_transform(frame_to_crop), target).astype(np.float32)
    face = Face(box=np.array([0, 0, 1, 1], np.float32), score=1.0, landmarks=landmarks)

    transform = face_transform(face, crop_size, crop_scale)
    assert transform.shape == (2, 3) and transform.dtype == np.float32
    np.testing.assert_allclose(_apply(transform, landmarks), target, atol=2e-3)
    np.testing.assert_allclose(_apply(invert_transform(transform), target), landmarks, atol=2e-3)


def test_crops_of_astronaut_have_the_eyes_on_the_template(mtcnn, astronaut):
    cfg = FaceConfig()
    face = mtcnn.detect(astronaut)[0]
    crop = warp_crop(astronaut, face_transform(face, cfg.crop_size, cfg.crop_scale), cfg.crop_size)
    assert crop.shape == (cfg.crop_size, cfg.crop_size, 3) and crop.dtype == np.uint8
    target = template(cfg.crop_size, cfg.crop_scale)
    again = mtcnn.detect(crop)
    assert len(again) == 1
    inter_ocular = np.linalg.norm(target[1] - target[0])
    assert np.linalg.norm(again[0].landmarks[:2] - target[:2], axis=1).max() < 0.08 * inter_ocular


def test_a_face_without_landmarks_is_aligned_from_its_box(mtcnn, astronaut):
    cfg = FaceConfig()
    face = mtcnn.detect(astronaut)[0]
    box_only = Face(box=face.box, score=face.score, landmarks=None)
    transform = face_transform(box_only, cfg.crop_size, cfg.crop_scale)
    target = template(cfg.crop_size, cfg.crop_scale)
    inter_ocular = np.linalg.norm(target[1] - target[0])
    # a box says less than landmarks: the eyes land near their place, the crop's scale is about right
    eyes = _apply(transform, face.landmarks[:2])
    assert np.linalg.norm(eyes - target[:2], axis=1).max() < 0.15 * inter_ocular
    assert 0.85 < np.linalg.norm(eyes[1] - eyes[0]) / inter_ocular < 1.15


def test_crops_reaching_past_the_frame_are_filled_not_black():
    image = np.full((100, 100, 3), 200, np.uint8)
    image[:, :50] = 60
    transform = _similarity(0.0, 1.0, (60.0, 60.0))  # crop's top-left 60 px lie beyond the frame
    crop = warp_crop(image, transform, 128)
    assert set(np.unique(crop)) <= {60, 200}
