"""Detectors: faces found where they are, landmarks in image order, config filters, clear errors."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from portrait_style.config import FaceConfig
from portrait_style.engine.faces.detectors import (
    YUNET_ENV,
    HaarDetector,
    MTCNNDetector,
    YuNetDetector,
    make_detector,
    min_face_px,
    select_faces,
)
from portrait_style.errors import InputError, ModelError


def _assert_plausible_face(face, image_shape):
    eye_left, eye_right, nose, mouth_left, mouth_right = face.landmarks
    x1, y1, x2, y2 = face.box
    assert 0 <= x1 < x2 <= image_shape[1] and 0 <= y1 < y2 <= image_shape[0]
    assert np.all((face.landmarks >= [x1, y1]) & (face.landmarks <= [x2, y2]))
    assert eye_left[0] < eye_right[0] and mouth_left[0] < mouth_right[0]  # image order
    assert max(eye_left[1], eye_right[1]) < nose[1] < min(mouth_left[1], mouth_right[1])
    inter_ocular = np.linalg.norm(eye_right - eye_left)
    assert 0.3 < inter_ocular / (x2 - x1) < 0.7


def _read_pupils(tem: Path) -> np.ndarray:
    """Points 0 and 1 of a 189-point webmorph .tem file: the pupils, image-left first."""
    lines = tem.read_text().split("\n")
    return np.array([[float(v) for v in lines[k].split()] for k in (1, 2)])


def _rgb(path: Path) -> np.ndarray:
    return cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)


def test_mtcnn_finds_the_one_face_in_astronaut(mtcnn, astronaut):
    faces = mtcnn.detect(astronaut)
    assert len(faces) == 1
    assert faces[0].score > 0.95
    assert faces[0].box.dtype == np.float32 and faces[0].landmarks.dtype == np.float32
    _assert_plausible_face(faces[0], astronaut.shape)


def test_mtcnn_landmarks_mirror_with_the_image(mtcnn, astronaut):
    # image order means: on the mirrored image, the image-left eye is the mirror of the image-right eye
    face = mtcnn.detect(astronaut)[0]
    mirrored = mtcnn.detect(np.ascontiguousarray(astronaut[:, ::-1]))[0]
    width = astronaut.shape[1]
    expected = face.landmarks[[1, 0, 2, 4, 3]] * [-1, 1] + [width - 1, 0]
    inter_ocular = np.linalg.norm(face.landmarks[1] - face.landmarks[0])
    assert np.abs(mirrored.landmarks - expected).max() < 0.1 * inter_ocular


def test_mtcnn_finds_nothing_in_a_flat_image(mtcnn):
    assert mtcnn.detect(np.full((240, 320, 3), 128, np.uint8)) == []


def test_detectors_reject_images_that_are_not_rgb_uint8(mtcnn):
    with pytest.raises(ValueError, match="RGB"):
        mtcnn.detect(np.zeros((64, 64), np.uint8))
    with pytest.raises(ValueError, match="uint8"):
        mtcnn.detect(np.zeros((64, 64, 3), np.float32))


def test_select_faces_sorts_by_score_and_applies_the_config_limits():
    boxes = np.array([[0, 0, 50, 50], [100, 0, 200, 100], [0, 100, 30, 130], [200, 200, 260, 260]], float)
    scores = np.array([0.85, 0.99, 0.97, 0.5])
    shape = np.array([[0.3, 0.4], [0.7, 0.4], [0.5, 0.6], [0.35, 0.8], [0.65, 0.8]])  # eyes, nose, mouth
    landmarks = np.stack([box[:2] + shape * (box[2:] - box[:2]) for box in boxes])
    faces = select_faces(boxes, scores, landmarks, FaceConfig(score_threshold=0.8, min_face_size=40))
    assert [f.score for f in faces] == [0.99, 0.85]  # 0.97 is too small, 0.5 too unsure
    np.testing.assert_array_equal(faces[0].landmarks, landmarks[1])
    capped = select_faces(boxes, scores, None, FaceConfig(score_threshold=0.0, min_face_size=0, max_faces=2))
    assert [f.score for f in capped] == [0.99, 0.97] and capped[0].landmarks is None


def test_mtcnn_respects_the_minimum_face_size(astronaut):
    # astronaut's face box is under 120 px wide; a fraction of 1 leaves the pixel limit alone
    assert MTCNNDetector(FaceConfig(min_face_size=120, min_face_fraction=1.0)).detect(astronaut) == []


def test_a_face_filling_a_small_frame_is_kept_below_the_pixel_minimum(astronaut):
    # astronaut's head and shoulders at 128 px: the face box is 36 px wide, under min_face_size, but
    # more than a fifth of the frame
    small = cv2.resize(astronaut[0:300, 75:375], (128, 128), interpolation=cv2.INTER_AREA)
    [face] = MTCNNDetector(FaceConfig(min_face_size=40)).detect(small)
    assert 128 * 0.2 <= min(face.box[2:] - face.box[:2]) < 40
    assert MTCNNDetector(FaceConfig(min_face_size=40, min_face_fraction=1.0)).detect(small) == []
    # a large frame keeps the pixel limit: the fraction only ever lowers it in small frames
    assert min_face_px(FaceConfig(min_face_size=40), 1080, 1920) == 40
    assert min_face_px(FaceConfig(min_face_size=40), 128, 160) == 0.2 * 128
    assert min_face_px(FaceConfig(min_face_size=40), 40, 40) == 12  # MTCNN's smallest cell


def test_make_detector_auto_is_mtcnn_without_a_yunet_model(monkeypatch):
    monkeypatch.delenv(YUNET_ENV, raising=False)
    assert isinstance(make_detector(FaceConfig()), MTCNNDetector)


def test_make_detector_auto_uses_the_yunet_path_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(YUNET_ENV, str(tmp_path / "missing.onnx"))
    with pytest.raises(InputError, match="YuNet model not found"):
        make_detector(FaceConfig())


def test_make_detector_rejects_an_unknown_name():
    with pytest.raises(ModelError, match="unknown face detector"):
        make_detector(FaceConfig(detector="dlib"))


def test_yunet_without_a_configured_model_says_how_to_configure_one(monkeypatch):
    monkeypatch.delenv(YUNET_ENV, raising=False)
    with pytest.raises(InputError, match=YUNET_ENV):
        YuNetDetector(FaceConfig())


def test_yunet_with_an_unreadable_model_raises_input_error(tmp_path):
    junk = tmp_path / "yunet.onnx"
    junk.write_bytes(b"not an onnx model")
    with pytest.raises(InputError, match="cannot read YuNet model"):
        YuNetDetector(FaceConfig(yunet_model=str(junk)))


def test_haar_detector_works_or_says_opencv_lacks_it(mtcnn, astronaut):
    try:
        haar = HaarDetector(FaceConfig())
    except ModelError as exc:
        assert not hasattr(cv2, "CascadeClassifier") or "Haar" in str(exc)
        return
    faces = haar.detect(astronaut)
    assert len(faces) >= 1 and faces[0].landmarks is None
    eyes = mtcnn.detect(astronaut)[0].landmarks[:2]
    x1, y1, x2, y2 = faces[0].box
    assert np.all((eyes >= [x1, y1]) & (eyes <= [x2, y2]))


def test_yunet_agrees_with_mtcnn_on_astronaut(yunet_path, mtcnn, astronaut):
    faces = YuNetDetector(FaceConfig(yunet_model=str(yunet_path))).detect(astronaut)
    assert len(faces) == 1
    _assert_plausible_face(faces[0], astronaut.shape)
    reference = mtcnn.detect(astronaut)[0].landmarks
    inter_ocular = np.linalg.norm(reference[1] - reference[0])
    assert np.abs(faces[0].landmarks[:2] - reference[:2]).max() < 0.15 * inter_ocular


def test_yunet_follows_the_input_size_between_frames(yunet_path, astronaut):
    detector = YuNetDetector(FaceConfig(yunet_model=str(yunet_path)))
    small = detector.detect(cv2.resize(astronaut, (256, 256)))[0].landmarks
    full = detector.detect(astronaut)[0].landmarks
    assert np.abs(small * 2 - full).max() < 6


@pytest.mark.parametrize("name", ["mtcnn", "yunet"])
def test_eyes_land_on_the_annotated_pupils(name, london_portraits, mtcnn, request):
    if name == "mtcnn":
        detector = mtcnn
    else:
        detector = YuNetDetector(FaceConfig(yunet_model=str(request.getfixturevalue("yunet_path"))))
    for path in london_portraits:
        pupils = _read_pupils(path.with_suffix(".tem"))
        faces = detector.detect(_rgb(path))
        assert len(faces) == 1, path.name
        error = np.linalg.norm(faces[0].landmarks[:2] - pupils, axis=1).max()
        assert error < 0.12 * np.linalg.norm(pupils[1] - pupils[0]), path.name


def test_select_faces_drops_landmarks_that_are_not_face_shaped():
    box = np.array([[0, 0, 100, 100]], float)
    face = np.array([[[30, 40], [70, 40], [50, 60], [35, 80], [65, 80]]], float)
    mouth_above_eyes = face.copy()
    mouth_above_eyes[0, :, 1] = 100 - mouth_above_eyes[0, :, 1]  # a mirror image: no face looks like that
    collinear = np.arange(10, dtype=float).reshape(1, 5, 2)
    cfg = FaceConfig(score_threshold=0.5, min_face_size=10)
    assert len(select_faces(box, np.array([0.99]), face, cfg)) == 1
    assert select_faces(box, np.array([0.99]), mouth_above_eyes, cfg) == []
    assert select_faces(box, np.array([0.99]), collinear, cfg) == []
    assert len(select_faces(box, np.array([0.99]), None, cfg)) == 1  # no landmarks (Haar): box only
