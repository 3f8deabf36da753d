"""Tuning's candidate lists and its choice, without timing anything real."""

from __future__ import annotations

import time

import pytest

from portrait_style.calibrate.timing import time_budgeted, time_call
from portrait_style.calibrate.tuning import Candidate, choose, frame_sizes, thread_counts
from portrait_style.config import CalibrateConfig


@pytest.mark.parametrize(
    "cores, counts", [(1, [1]), (2, [1, 2]), (6, [1, 2, 4, 6]), (8, [1, 2, 4, 8]), (16, [1, 2, 4, 8, 16])]
)
def test_thread_counts(cores, counts):
    assert thread_counts(cores) == counts


@pytest.mark.parametrize(
    "height, width, style_size, sizes",
    [
        (720, 1280, 0, [720, 540, 360]),  # the input's own side is "full size"
        (1080, 1920, 0, [1080, 720, 540, 360]),
        (2160, 3840, 0, [2160, 1080, 720, 540, 360]),
        (288, 360, 0, [288]),  # smaller than every configured size: only itself
        (720, 1280, 256, [256]),  # never above the style's own frame size (brush strokes keep their scale)
        (1080, 1920, 600, [600, 540, 360]),
        (1280, 720, 0, [720, 540, 360]),  # portrait orientation: the shorter side
    ],
)
def test_frame_sizes(height, width, style_size, sizes):
    assert frame_sizes(CalibrateConfig(), height, width, style_size) == sizes


def cand(precision, size, ms, threads=1, backend="onnxruntime", target=30.0):
    fps = 1000 / ms
    return Candidate(backend, "cpu", precision, {"threads": threads}, size, ms, ms, 3, fps, fps >= target)


def test_choice_prefers_size_then_precision_then_speed_among_those_that_reach_the_rate():
    candidates = [
        cand("fp32", 720, 50.0),  # too slow
        cand("fp16", 540, 30.0),  # reaches it, lower precision
        cand("fp32", 540, 32.0, threads=1),  # reaches it: same size, higher precision
        cand("fp32", 540, 31.0, threads=2),  # ... and faster: chosen
        cand("fp32", 360, 10.0),  # fastest, but smaller
    ]
    best = choose(candidates)
    assert (best.precision, best.size, best.options) == ("fp32", 540, {"threads": 2})


def test_choice_is_the_fastest_when_nothing_reaches_the_rate():
    candidates = [cand("fp32", 720, 90.0), cand("fp16", 360, 40.0), cand("fp32", 360, 41.0)]
    assert not any(c.meets for c in candidates)
    assert choose(candidates) is candidates[1]


def test_face_batches_count_as_the_working_size():
    candidates = [cand("fp32", 4, 40.0), cand("fp32", 2, 25.0), cand("bf16", 4, 30.0, backend="torch")]
    best = choose(candidates)
    assert (best.backend, best.size) == ("torch", 4)  # 4 faces at the rate beats 2 faces in fp32


def test_time_call_and_its_budgeted_form():
    calls = []
    stats = time_call(lambda: calls.append(1), runs=4, warmup=2)
    assert len(calls) == 6 and stats["runs"] == 4 and stats["p95_ms"] >= stats["median_ms"] >= 0
    slow = []
    stats = time_budgeted(lambda: (slow.append(1), time.sleep(0.02)), runs=5, warmup=2, give_up_ms=5.0)
    assert len(slow) == 1 and stats["runs"] == 1 and stats["median_ms"] >= 20
    fast = []
    stats = time_budgeted(lambda: fast.append(1), runs=5, warmup=2, give_up_ms=1000.0)
    assert len(fast) == 7 and stats["runs"] == 5  # the first call counts as one of the warm-up calls


def test_frames_from_a_video_a_folder_an_image_and_synthetic(tmp_path):
    import cv2
    import numpy as np

    from portrait_style.calibrate.frames import check_inputs, load_frames, synthetic_portraits
    from tests.media import frame_image, make_video

    clip = make_video(tmp_path / "clip.mp4", size=(96, 64), n_frames=12, audio=False).path
    frames = load_frames(clip, 4)
    assert len(frames) == 4 and frames[0].shape == (64, 96, 3)
    # evenly spaced: frames 0, 3, 6, 9 (the blue channel encodes the index, through H.264)
    assert [int(np.median(f[32:, 48:, 2])) for f in frames] == pytest.approx([40, 73, 106, 139], abs=3)
    for i in range(5):
        cv2.imwrite(str(tmp_path / f"{i}.png"), frame_image(i, 40, 30)[..., ::-1])
    assert [f.shape for f in load_frames(tmp_path, 3)] == [(30, 40, 3)] * 3
    assert len(load_frames(tmp_path / "0.png", 3)) == 1
    portraits = synthetic_portraits(2, 320, 240)
    assert portraits[0].shape == (240, 320, 3) and not np.array_equal(portraits[0], portraits[1])
    assert np.array_equal(portraits[0], synthetic_portraits(2, 320, 240)[0])  # deterministic
    inputs = check_inputs(portraits, "frame", 128, 100)
    assert inputs[0].shape == (100, 132, 3)  # shorter side 100, cut to multiples of 4
    assert check_inputs(portraits, "face", 128, 100)[0].shape == (128, 128, 3)
