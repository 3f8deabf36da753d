"""Tuning's candidate lists and its choice, without timing anything real."""

from __future__ import annotations

import time

import pytest

from portrait_style.calibrate.timing import time_budgeted, time_call
from portrait_style.calibrate.tuning import (
    Candidate,
    choose,
    frame_sizes,
    profile_frame_size,
    thread_counts,
)
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


def test_a_zero_in_the_configured_sizes_is_the_full_size():
    assert frame_sizes(CalibrateConfig(frame_sizes=(0, 360)), 720, 1280) == [720, 360]
    assert frame_sizes(CalibrateConfig(frame_sizes=(540, 360)), 720, 1280) == [540, 360]  # no full size
    # nothing configured fits: the full size
    assert frame_sizes(CalibrateConfig(frame_sizes=(1080,)), 720, 1280) == [720]


@pytest.mark.parametrize(
    "size, height, width, style_size, recorded",
    [
        (720, 720, 1280, 0, 0),  # the full size: frames as they come, not brought down to 720 later
        (1080, 2160, 1080, 0, 0),  # portrait orientation
        (540, 720, 1280, 0, 540),  # a smaller size: as it is
        (256, 720, 1280, 256, 256),  # the style's own frame size was the cap: it stays the cap
        # the full size, below the style's own: the style's own, as a run without a profile uses
        (720, 720, 1280, 1080, 1080),
    ],
)
def test_the_full_size_is_recorded_as_the_styles_own(size, height, width, style_size, recorded):
    assert profile_frame_size(size, height, width, style_size) == recorded


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


def test_candidates_that_could_not_run_are_never_chosen():
    skipped = Candidate("torch", "cuda", "bf16", {}, 720, skipped="cannot run: RuntimeError: no kernel")
    ran = cand("fp32", 360, 90.0)
    assert choose([skipped, ran]) is ran
    assert choose([skipped]) is None and choose([]) is None


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


class Failing:
    """A backend that raises RuntimeError for batches taller than `above` (out of memory at that size)."""

    def __init__(self, real, above: int = 0):
        self.real, self.above, self.spec = real, above, real.spec

    def __call__(self, batch, faces=None):
        if batch.shape[1] > self.above:
            raise RuntimeError("CUDA out of memory.\nTried to allocate 2.00 GiB")
        return self.real(batch, faces)


def test_a_failing_candidate_is_skipped_and_the_others_still_timed(tmp_path, monkeypatch):
    import numpy as np

    from portrait_style import api
    from portrait_style.calibrate.tuning import tune
    from portrait_style.engine.backends import BackendSpec
    from tests.models import make_style

    monkeypatch.setenv("PORTRAIT_STYLE_CACHE", str(tmp_path / "cache"))
    real_load = api.load_backend

    def load_backend(style_path, spec):
        if spec.options.get("threads") == 1:
            raise RuntimeError("onnxruntime: no kernel for this node")
        return Failing(real_load(style_path, spec), above=100)  # fails at the full size (120), not at 96

    monkeypatch.setattr(api, "load_backend", load_backend)
    style = make_style(tmp_path, "frame")
    frame = np.full((120, 160, 3), 128, np.uint8)
    specs = [BackendSpec("onnxruntime", "cpu", "fp32", {"threads": t}) for t in (1, 2)]
    cfg = CalibrateConfig(fps=1.0, frame_sizes=(0, 96), runs=1, warmup=0)
    candidates = tune(style, "frame", frame, specs, cfg)
    rows = {(c.options["threads"], c.size): c for c in candidates}
    assert set(rows) == {(1, 120), (1, 96), (2, 120), (2, 96)}
    assert rows[1, 120].skipped == "cannot run: RuntimeError: onnxruntime: no kernel for this node"
    assert rows[1, 96].skipped == rows[1, 120].skipped
    assert rows[2, 120].skipped.startswith("cannot run: RuntimeError: CUDA out of memory. Tried")
    assert not rows[2, 96].skipped and rows[2, 96].runs == 1 and rows[2, 96].median_ms > 0
    assert choose(candidates) is rows[2, 96]


def test_check_inputs_cut_to_the_engines_size_multiple(monkeypatch):
    import numpy as np

    from portrait_style.calibrate import frames
    from portrait_style.engine import style_meta

    assert frames.SIZE_MULTIPLE is style_meta.SIZE_MULTIPLE  # the engine's, not a copy
    image = np.zeros((103, 150, 3), np.uint8)
    assert frames.check_inputs([image], "frame", 128, 200)[0].shape == (100, 148, 3)
    monkeypatch.setattr(frames, "SIZE_MULTIPLE", 16)
    assert frames.check_inputs([image], "frame", 128, 200)[0].shape == (96, 144, 3)
