"""Issue 9: validation at the edge, outputs (modes, cleanup, SIGTERM), outputs that play everywhere
(faststart, audio policy), the self-healing ONNX cache, errors in the user's words, the false-face guard."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from portrait_style import options
from portrait_style.cli import main, stylize_video_main
from portrait_style.config import EncodeConfig, FaceConfig
from portrait_style.engine.audio_remux import PLAYABLE_AUDIO, audio_plan
from portrait_style.engine.frame import Face
from portrait_style.errors import ModelError, OutputError
from tests.media import audio_codec, audio_packets, make_video
from tests.models import make_style

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("PORTRAIT_STYLE_CACHE", str(tmp_path / "cache"))


@pytest.fixture
def frame_style(tmp_path):
    return str(make_style(tmp_path, "frame"))


# -- one vocabulary per concept ----------------------------------------------------------------------
def test_every_parser_takes_its_choices_from_the_options_module():
    from portrait_style.cli import build_parser
    from portrait_style.trainer.cli import CHOICES

    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command").choices
    stylize = {a.dest: a for a in sub["stylize"]._actions}
    assert tuple(stylize["mode"].choices) == options.MODES
    assert tuple(stylize["detector"].choices) == options.available_detectors()
    assert tuple(stylize["preset"].choices) == options.X264_PRESETS
    assert tuple(stylize["audio"].choices) == options.AUDIO_POLICIES
    evaluate = {a.dest: a for a in sub["evaluate"]._actions}
    assert tuple(evaluate["mode"].choices) == options.MODES
    assert CHOICES["mode"] == options.MODES and CHOICES["face_detector"] == options.available_detectors()


def test_haar_is_offered_only_where_opencv_has_it():
    import cv2

    assert ("haar" in options.available_detectors()) == hasattr(cv2, "CascadeClassifier")


@pytest.mark.parametrize(
    "check, args, message",
    [
        (options.check_int, ("--max-faces", -1, 1, 64), "--max-faces must be from 1 to 64; got -1"),
        (options.check_int, ("--detect-every", 0, 1), "--detect-every must be 1 or more; got 0"),
        (options.check_int, ("crf", "18", 0, 51), "crf must be a whole number from 0 to 51"),
        (options.check_float, ("score", float("nan"), 0, 1), "score must be from 0 to 1"),
        (options.check_choice, ("--preset", "fastest", options.X264_PRESETS), "--preset must be one of"),
    ],
)
def test_range_checks_name_the_option_and_the_range(check, args, message):
    with pytest.raises(options.OptionError, match=message):
        check(*args)


def test_config_checks_cover_face_and_encode_settings():
    options.check_face_config(FaceConfig())
    options.check_encode_config(EncodeConfig())
    with pytest.raises(options.OptionError, match="max_faces"):
        options.check_face_config(FaceConfig(max_faces=0))
    with pytest.raises(options.OptionError, match="light_rest must be"):
        options.check_face_config(FaceConfig(light_rest=(0.0, 0.0)))
    with pytest.raises(options.OptionError, match="light_rest size must be from 0 to 2; got -0.1"):
        options.check_face_config(FaceConfig(light_rest=(0.0, 0.0, -0.1)))
    with pytest.raises(options.OptionError, match="light_fade_s"):
        options.check_face_config(FaceConfig(light_fade_s=float("inf")))
    with pytest.raises(options.OptionError, match="cut_ratio must be from 1"):
        options.check_face_config(FaceConfig(cut_ratio=0.5))
    with pytest.raises(options.OptionError, match="cut_window must be a whole number"):
        options.check_face_config(FaceConfig(cut_window=2.5))
    with pytest.raises(options.OptionError, match="preset"):
        options.check_encode_config(EncodeConfig(preset="bogus"))


@pytest.mark.parametrize(
    "image, message",
    [
        (np.zeros((0, 0, 3), np.uint8), "empty frame"),
        (np.zeros((4, 4), np.uint8), "HxWx3 uint8"),
        (np.zeros((4, 4, 3), np.float32), "float32"),
        ([[1, 2, 3]], "numpy array"),
    ],
)
def test_check_frame_says_what_it_got(image, message):
    with pytest.raises(ValueError, match=message):
        options.check_frame(image)


# -- outputs -----------------------------------------------------------------------------------------
def test_final_file_gets_the_umask_mode_not_the_temp_file_0600(tmp_path):
    from portrait_style.fileutil import atomic_path

    old = os.umask(0o027)
    try:
        with atomic_path(tmp_path / "a.txt") as tmp:
            tmp.write_text("x")
    finally:
        os.umask(old)
    assert (tmp_path / "a.txt").stat().st_mode & 0o777 == 0o640
    os.chmod(tmp_path / "a.txt", 0o604)  # replacing a file keeps its mode, as open(..., "w") would
    with atomic_path(tmp_path / "a.txt") as tmp:
        tmp.write_text("y")
    assert (tmp_path / "a.txt").stat().st_mode & 0o777 == 0o604


def test_video_output_mode_follows_the_umask(tmp_path, capsys, frame_style):
    src = make_video(tmp_path / "in.mp4", audio=False).path
    old = os.umask(0o022)
    try:
        assert stylize_video_main([str(src), str(tmp_path / "out.mp4"), "--model", frame_style]) == 0
    finally:
        os.umask(old)
    assert (tmp_path / "out.mp4").stat().st_mode & 0o777 == 0o644


def test_folder_job_where_every_image_fails_leaves_no_folder(tmp_path, capsys, frame_style):
    src = tmp_path / "photos"
    src.mkdir()
    (src / "a.jpg").write_bytes(b"not a jpeg")
    (src / "b.png").write_bytes(b"")
    out = tmp_path / "styled" / "deeper"
    assert main(["stylize", str(src), str(out), "--model", frame_style]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "none of the 2 images" in err[0]
    assert not (tmp_path / "styled").exists()


def test_sigterm_is_handled_like_ctrl_c(tmp_path):
    src = make_video(tmp_path / "in.mp4", size=(320, 240), n_frames=400, audio=False).path
    style = make_style(tmp_path, "frame")
    out = tmp_path / "out.mp4"
    proc = subprocess.Popen(
        [sys.executable, "-m", "portrait_style.cli", "stylize", str(src), str(out), "--model", str(style)],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO / "src")},
    )
    deadline = time.time() + 60
    while time.time() < deadline and not any(p.name.startswith(".out.") for p in tmp_path.iterdir()):
        time.sleep(0.05)  # the temporary output exists: the job is under way
    time.sleep(0.3)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    assert err.strip().splitlines()[-1] == "terminated" and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["in.mp4", "test-frame.safetensors", "cache"])


def test_output_under_proc_says_it_cannot_write_there(tmp_path, capsys, frame_style):
    src = make_video(tmp_path / "in.mp4", audio=False).path
    code = stylize_video_main([str(src), "/proc/out.mp4", "--model", frame_style])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 3 and len(err) == 1 and "/proc is a system folder" in err[0]


# -- outputs that play everywhere ---------------------------------------------------------------------
def moov_before_mdat(path: Path) -> bool:
    data = path.read_bytes()
    return data.index(b"moov") < data.index(b"mdat")


@pytest.mark.parametrize("suffix", [".mp4", ".mov"])
def test_mp4_and_mov_are_written_faststart(tmp_path, capsys, frame_style, suffix):
    src = make_video(tmp_path / "in.mp4").path
    out = tmp_path / f"out{suffix}"
    assert stylize_video_main([str(src), str(out), "--model", frame_style]) == 0
    assert moov_before_mdat(out)


def test_audio_table():
    assert PLAYABLE_AUDIO[".mp4"] >= {"aac", "mp3"} and "mp2" not in PLAYABLE_AUDIO[".mp4"]
    assert audio_plan("aac", ".mp4") is False and audio_plan("mp2", ".mp4") is True
    assert audio_plan("mp2", ".mkv") is True and audio_plan("opus", ".mkv") is False
    assert audio_plan("mp2", ".mp4", "copy") is False and audio_plan("aac", ".mp4", "aac") is True


@pytest.mark.parametrize(
    "src_suffix, codec, dst_suffix, policy, expect",
    [
        (".mp4", "aac", ".mp4", "auto", "copied"),
        (".mkv", "mp2", ".mp4", "auto", "aac"),  # MPEG-1 files (GRID) carry MP2: Chromium plays none in MP4
        (".mkv", "mp2", ".mkv", "auto", "aac"),
        (".mkv", "mp2", ".mov", "auto", "aac"),
        (".mkv", "mp2", ".mkv", "copy", "copied"),
        (".mp4", "aac", ".mkv", "aac", "aac"),
        (".mov", "pcm_mulaw", ".mp4", "auto", "aac"),
        (".mov", "pcm_mulaw", ".mp4", "copy", "error"),
    ],
)
def test_audio_policy_on_real_generated_files(
    tmp_path, capsys, caplog, frame_style, src_suffix, codec, dst_suffix, policy, expect
):
    src = make_video(tmp_path / f"in{src_suffix}", audio_codec=codec).path
    out = tmp_path / f"out{dst_suffix}"
    with caplog.at_level(logging.WARNING):
        code = stylize_video_main([str(src), str(out), "--model", frame_style, "--audio", policy])
    err = capsys.readouterr().err
    if expect == "error":
        assert code == 3 and not out.exists() and "--audio copy" in err
        return
    assert code == 0, err
    if expect == "copied":
        assert audio_packets(out) == audio_packets(src)
        assert "re-encoded" not in caplog.text
    else:
        assert audio_codec(out) == "aac"
        assert len([r for r in caplog.records if "AAC" in r.getMessage()]) == 1  # one line says so


def test_an_encoder_problem_is_not_blamed_on_the_audio(tmp_path):
    from portrait_style.engine.video_io import VideoReader, VideoWriter

    src = make_video(tmp_path / "in.mkv", audio_codec="mp2").path
    with VideoReader(src) as reader, pytest.raises(OutputError) as info:
        VideoWriter(tmp_path / "out.mp4", reader, EncodeConfig(preset="bogus"), audio_source=src)
    assert "encoder refused its settings" in str(info.value) and "audio" not in str(info.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.mkv"]


# -- self-healing ONNX cache ---------------------------------------------------------------------------
@pytest.mark.parametrize("damage", ["truncate", "garbage", "foreign", "no-sidecar-garbage"])
def test_a_damaged_cache_entry_is_rebuilt_once_with_a_warning(tmp_path, caplog, damage):
    import onnx

    from portrait_style.engine import export

    style = make_style(tmp_path, "frame")
    entry = export.cached_onnx(style)
    good = entry.read_bytes()
    sidecar = entry.with_name(entry.name + ".sha256")
    assert sidecar.is_file()
    if damage == "truncate":
        entry.write_bytes(good[: len(good) // 2])
    elif damage == "garbage":
        entry.write_bytes(b"\0" * len(good))
    elif damage == "foreign":  # a valid ONNX model, but not ours
        sidecar.unlink()
        graph = onnx.helper.make_graph(
            [onnx.helper.make_node("Identity", ["x"], ["y"])],
            "g",
            [onnx.helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1])],
            [onnx.helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1])],
        )
        onnx.save(onnx.helper.make_model(graph), str(entry))
    else:
        sidecar.unlink()
        entry.write_bytes(b"junk")
    with caplog.at_level(logging.WARNING):
        again = export.cached_onnx(style)
    assert again == entry and entry.read_bytes() == good
    warnings = [r.getMessage() for r in caplog.records if "ONNX cache" in r.getMessage()]
    assert len(warnings) == 1 and "\n" not in warnings[0]
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        export.cached_onnx(style)  # healed: no second warning
    assert "ONNX cache" not in caplog.text


def test_an_entry_from_before_sidecars_is_checked_and_kept(tmp_path, caplog):
    from portrait_style.engine import export

    style = make_style(tmp_path, "frame")
    entry = export.cached_onnx(style)
    entry.with_name(entry.name + ".sha256").unlink()
    mtime = entry.stat().st_mtime_ns
    with caplog.at_level(logging.WARNING):
        assert export.cached_onnx(style) == entry
    assert entry.stat().st_mtime_ns == mtime and "ONNX cache" not in caplog.text
    assert entry.with_name(entry.name + ".sha256").is_file()


# -- errors in the user's words ------------------------------------------------------------------------
def test_metadata_that_does_not_match_the_weights_is_one_line(tmp_path):
    import json

    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    from portrait_style.engine.checkpoint import load_style

    path = make_style(tmp_path, "frame")
    with safe_open(str(path), framework="pt") as f:
        meta = json.loads(f.metadata()["portrait_style"])
    meta["arch_args"]["channels"] = [16, 32, 64]
    save_file(load_file(str(path)), str(path), metadata={"portrait_style": json.dumps(meta)})
    with pytest.raises(ModelError) as info:
        load_style(path)
    message = str(info.value)
    assert "\n" not in message and "do not match" in message and "of another shape" in message


def test_a_training_checkpoint_given_as_model_names_the_style_file(tmp_path, capsys):
    import torch

    run = tmp_path / "runs" / "mine"
    (run / "checkpoints").mkdir(parents=True)
    torch.save({"format": 1, "step": 3}, run / "checkpoints" / "last.pt")
    src = make_video(tmp_path / "in.mp4", audio=False).path
    code = stylize_video_main(
        [str(src), str(tmp_path / "out.mp4"), "--model", str(run / "checkpoints/last.pt")]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 4 and len(err) == 1
    assert "training checkpoint" in err[0] and f"{run}/<name>.safetensors" in err[0]
    make_style(run, "face")  # once training has written the style file, the message names it
    stylize_video_main([str(src), str(tmp_path / "out.mp4"), "--model", str(run / "checkpoints/last.pt")])
    assert str(run / "test-face.safetensors") in capsys.readouterr().err


def test_opencv_warnings_are_silenced_by_the_cli(tmp_path, frame_style):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "portrait_style.cli",
            "stylize",
            str(bad),
            str(tmp_path / "o.png"),
            "--model",
            frame_style,
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO / "src")},
    )
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1 and "WARN" not in result.stderr, result.stderr


# -- the false-face guard ----------------------------------------------------------------------------
class ScriptedDetector:
    """Returns the faces scripted for each call, in order (empty once the script runs out)."""

    def __init__(self, script):
        self.script = list(script)

    def detect(self, image):
        return [
            Face(box=f.box.copy(), score=f.score, landmarks=None)
            for f in (self.script.pop(0) if self.script else [])
        ]


def textured_frames(n):
    rng = np.random.default_rng(0)
    base = (rng.random((120, 160, 3)) * 255).astype(np.uint8)
    return [base.copy() for _ in range(n)]


def face(score):
    return Face(box=np.array([40, 30, 100, 100], np.float32), score=score)


def run_tracker(script, n, **cfg):
    from portrait_style.engine.faces.tracker import FaceTracker

    tracker = FaceTracker(ScriptedDetector(script), FaceConfig(detect_every=1, **cfg))
    return [len(tracker.update(frame)) for frame in textured_frames(n)]


def test_a_sure_face_is_painted_from_its_first_frame():
    assert run_tracker([[face(0.99)]] * 5, 5) == [1, 1, 1, 1, 1]


def test_a_one_frame_unsure_detection_is_never_painted():
    assert run_tracker([[face(0.85)], [], [], []], 4) == [0, 0, 0, 0]


def test_an_unsure_face_that_persists_is_painted_after_confirm_frames():
    shown = run_tracker([[face(0.85)]] * 12, 12, confirm_frames=8)
    assert shown[:8] == [0] * 8 and shown[8:] == [1] * 4


def test_the_guard_can_be_turned_off():
    assert run_tracker([[face(0.85)], [], []], 3, confirm_frames=0)[0] == 1
