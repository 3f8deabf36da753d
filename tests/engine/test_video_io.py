import logging
import os
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from portrait_style.config import EncodeConfig
from portrait_style.engine.frame import FramePacket
from portrait_style.engine.video_io import VideoInfo, VideoReader, VideoWriter
from portrait_style.errors import InputError, OutputError
from tests.media import (
    MARKER,
    audio_codec,
    audio_packets,
    audio_seconds,
    cut_after_header,
    frame_image,
    make_audio_only,
    make_empty_video,
    make_video,
    truncate,
    video_times,
)

GRID = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "video" / "grid_talking_heads"


def transcode(src: Path, dst: Path, **writer_kwargs) -> int:
    """Read `src` and write every frame unchanged to `dst`, with its audio; returns frames written."""
    with VideoReader(src) as reader, VideoWriter(dst, reader, audio_source=src, **writer_kwargs) as writer:
        for packet in reader:
            writer.write(packet)
    return writer.frames_written


def decoded_frames(path: Path) -> list[np.ndarray]:
    with VideoReader(path) as reader:
        return [packet.image for packet in reader]


def leftovers(folder: Path, keep: set[str]) -> list[str]:
    return sorted(name for name in os.listdir(folder) if name not in keep)


# --- reading -------------------------------------------------------------------------------------------


def test_reader_reports_the_stream_and_yields_every_frame_with_its_pts(tmp_path):
    made = make_video(tmp_path / "in.mp4", size=(64, 48), n_frames=12, fps=25)
    with VideoReader(made.path) as reader:
        assert (reader.width, reader.height, reader.rotation) == (64, 48, 0)
        assert reader.fps == 25 and reader.time_base == made.time_base
        assert reader.frame_count == 12 and reader.has_audio
        assert reader.duration == pytest.approx(12 / 25, abs=0.05)
        packets = list(reader)
    assert [p.index for p in packets] == list(range(12))
    assert [p.pts for p in packets] == made.pts
    assert all(p.time_base == made.time_base for p in packets)
    image = packets[5].image
    assert image.shape == (48, 64, 3) and image.dtype == np.uint8
    assert np.abs(image.astype(int) - frame_image(5, 64, 48)).mean() < 6  # colours survive the YUV trip


# Where the top-left marker of the stored pixels ends up once the frame is turned upright.
@pytest.mark.parametrize(
    "rotation, corner", [(90, "bottom-left"), (180, "bottom-right"), (270, "top-right"), (-90, "top-right")]
)
def test_reader_turns_frames_upright_from_the_display_matrix(tmp_path, rotation, corner):
    made = make_video(tmp_path / "rot.mp4", size=(64, 48), n_frames=2, rotation=rotation, audio=False)
    with VideoReader(made.path) as reader:
        assert reader.rotation == rotation % 360
        expected_size = (64, 48) if rotation % 180 == 0 else (48, 64)
        assert (reader.width, reader.height) == expected_size
        image = next(iter(reader)).image
    assert image.shape == (reader.height, reader.width, 3)
    h, w = image.shape[:2]
    m = MARKER // 2
    corners = {
        "top-left": image[:m, :m],
        "top-right": image[:m, w - m :],
        "bottom-left": image[h - m :, :m],
        "bottom-right": image[h - m :, w - m :],
    }
    white = [name for name, patch in corners.items() if patch.min() > 200]
    assert white == [corner]


def test_reader_reads_only_once(tmp_path):
    made = make_video(tmp_path / "in.mp4", n_frames=2, audio=False)
    reader = VideoReader(made.path)
    assert len(list(reader)) == 2
    with pytest.raises(RuntimeError):
        list(reader)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda d: d / "missing.mp4", "no such file"),
        (lambda d: d, "folder"),
        (lambda d: (d / "notes.mp4").write_text("not a video\n" * 50) and d / "notes.mp4", "as a video"),
        (lambda d: truncate(make_video(d / "cut.mp4", n_frames=20).path), "as a video"),  # index lost
        (lambda d: make_audio_only(d / "sound.m4a"), "no video stream"),
        (lambda d: make_empty_video(d / "empty.mp4"), "no video stream"),
        (lambda d: cut_after_header(make_video(d / "hdr.mp4", faststart=True).path), "no decodable"),
    ],
    ids=["missing", "folder", "text-file", "truncated", "audio-only", "zero-frames", "header-only"],
)
def test_bad_inputs_raise_one_clear_input_error(tmp_path, make, message):
    path = make(tmp_path)
    with pytest.raises(InputError, match=message) as info:
        VideoReader(path)
    assert "\n" not in str(info.value)


def test_truncated_streaming_file_is_read_up_to_its_last_good_frame(tmp_path, caplog):
    made = make_video(tmp_path / "cut.mp4", size=(128, 96), n_frames=30, faststart=True)
    truncate(made.path, 0.5)
    with caplog.at_level(logging.WARNING), VideoReader(made.path) as reader:
        packets = list(reader)
    assert 0 < len(packets) < 30
    assert [p.pts for p in packets] == made.pts[: len(packets)]
    assert "truncated" in caplog.text


# --- writing -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(),
        dict(vfr=True, n_frames=16),
        dict(vfr=True, time_base=Fraction(1, 90000)),
        dict(audio_codec="mp2"),
        dict(audio=False),
    ],
    ids=["cfr-aac", "vfr", "vfr-90kHz", "mp2", "no-audio"],
)
def test_round_trip_keeps_frames_timestamps_and_audio_bytes(tmp_path, kwargs):
    made = make_video(tmp_path / "in.mp4", **kwargs)
    out = tmp_path / "out.mp4"
    assert transcode(made.path, out) == len(made.pts)
    assert video_times(out) == pytest.approx(made.times, abs=1e-9)
    if kwargs.get("audio", True):
        assert audio_packets(out) == audio_packets(made.path)  # copied, not re-encoded
        assert audio_seconds(out) == pytest.approx(audio_seconds(made.path))
    else:
        assert audio_codec(out) is None
    # One more lossy generation: close to the input's pixels (a colour swap or shift would be far off).
    assert np.abs(decoded_frames(out)[3].astype(int) - decoded_frames(made.path)[3]).mean() < 6
    assert leftovers(tmp_path, {"in.mp4", "out.mp4"}) == []


@pytest.mark.parametrize("suffix", [".mkv", ".mov"])
def test_other_containers(tmp_path, suffix):
    made = make_video(tmp_path / "in.mp4", vfr=True)
    out = tmp_path / f"out{suffix}"
    transcode(made.path, out)
    # Matroska counts milliseconds and cannot start below zero: the AAC priming packet (at -21 ms) moves
    # every stream later by the same amount, so the spacing of frames, not their origin, is compared.
    times = video_times(out)
    assert np.diff(times) == pytest.approx(np.diff(made.times), abs=1e-3)
    assert times[0] == pytest.approx(0.0, abs=0.025)
    assert audio_packets(out) == audio_packets(made.path)


def test_rotated_input_is_written_upright_without_rotation_metadata(tmp_path):
    made = make_video(tmp_path / "in.mp4", size=(64, 48), rotation=90, n_frames=3)
    out = tmp_path / "out.mp4"
    transcode(made.path, out)
    with VideoReader(out) as reader:
        assert (reader.width, reader.height, reader.rotation) == (48, 64, 0)
        image = next(iter(reader)).image
    assert image[-2:, :2].min() > 200  # the marker sits bottom-left, as the reader showed it


def test_odd_size_is_padded_to_even_by_repeating_the_edge(tmp_path, caplog):
    made = make_video(tmp_path / "odd.mp4", size=(641, 479), n_frames=3, codec="libx264", pix_fmt="yuv444p")
    out = tmp_path / "out.mp4"
    with caplog.at_level(logging.WARNING):
        transcode(made.path, out)
    assert "642x480" in caplog.text
    frames = decoded_frames(out)
    assert len(frames) == 3 and frames[0].shape == (480, 642, 3)
    original = frame_image(1, 641, 479).astype(int)
    assert np.abs(frames[1][:479, :641].astype(int) - original).mean() < 4
    # The added column and row repeat their neighbours (up to coding noise), they are not black bars.
    assert np.abs(frames[1][:, 641].astype(int) - frames[1][:, 640]).mean() < 4
    assert np.abs(frames[1][479].astype(int) - frames[1][478]).mean() < 4


def test_audio_the_container_cannot_hold_is_reencoded_as_aac(tmp_path, caplog):
    made = make_video(tmp_path / "in.mov", audio_codec="pcm_mulaw")
    out = tmp_path / "out.mp4"
    with caplog.at_level(logging.WARNING):
        transcode(made.path, out)
    assert audio_codec(out) == "aac" and "AAC" in caplog.text
    assert audio_seconds(out) >= made.audio_seconds  # AAC pads to whole 1024-sample frames
    assert len(video_times(out)) == len(made.pts)


def test_packets_without_pts_are_timed_by_index(tmp_path):
    info = VideoInfo(width=32, height=24, fps=Fraction(10), time_base=Fraction(1, 1000))
    out = tmp_path / "camera.mp4"
    with VideoWriter(out, info) as writer:
        for i in range(5):
            writer.write(FramePacket(index=i, image=frame_image(i, 32, 24)))
    assert video_times(out) == pytest.approx([0.0, 0.1, 0.2, 0.3, 0.4])


def test_output_is_used_before_image(tmp_path):
    info = VideoInfo(width=32, height=24, fps=Fraction(10), time_base=Fraction(1, 1000))
    out = tmp_path / "out.mp4"
    white = np.full((24, 32, 3), 255, np.uint8)
    with VideoWriter(out, info) as writer:
        writer.write(FramePacket(index=0, image=np.zeros_like(white), output=white))
    assert decoded_frames(out)[0].min() > 240


def test_abort_and_errors_leave_no_output(tmp_path):
    made = make_video(tmp_path / "in.mp4", n_frames=6)
    out = tmp_path / "out.mp4"
    with VideoReader(made.path) as reader:
        writer = VideoWriter(out, reader, audio_source=made.path)
        for packet in reader:
            writer.write(packet)
        writer.abort()
    assert leftovers(tmp_path, {"in.mp4"}) == []

    out.write_bytes(b"previous result")
    with pytest.raises(KeyError), VideoReader(made.path) as reader:
        with VideoWriter(out, reader, audio_source=made.path) as writer:
            for packet in reader:
                writer.write(packet)
                raise KeyError("a stage failed")
    assert out.read_bytes() == b"previous result"  # the old file is untouched
    assert leftovers(tmp_path, {"in.mp4", "out.mp4"}) == []


def test_wrong_frame_size_is_refused(tmp_path):
    info = VideoInfo(width=32, height=24, fps=Fraction(10), time_base=Fraction(1, 1000))
    wrong = FramePacket(index=0, image=np.zeros((24, 30, 3), np.uint8))
    with VideoWriter(tmp_path / "o.mp4", info) as writer, pytest.raises(ValueError, match="expected 24x32x3"):
        writer.write(wrong)


@pytest.mark.parametrize(
    "target, message",
    [("missing/out.mp4", "does not exist"), ("out.avi", "must end in"), ("folder.mp4", "is a folder")],
)
def test_unwritable_output_fails_before_any_frame(tmp_path, target, message):
    (tmp_path / "folder.mp4").mkdir()
    info = VideoInfo(width=32, height=24, fps=Fraction(25), time_base=Fraction(1, 12800))
    with pytest.raises(OutputError, match=message):
        VideoWriter(tmp_path / target, info)
    assert leftovers(tmp_path, {"folder.mp4"}) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders anyway")
def test_read_only_folder_is_an_output_error(tmp_path):
    folder = tmp_path / "locked"
    folder.mkdir(mode=0o500)
    info = VideoInfo(width=32, height=24, fps=Fraction(25), time_base=Fraction(1, 12800))
    with pytest.raises(OutputError):
        VideoWriter(folder / "out.mp4", info)


def test_bad_encoder_settings_are_an_output_error(tmp_path):
    info = VideoInfo(width=32, height=24, fps=Fraction(25), time_base=Fraction(1, 12800))
    with pytest.raises(OutputError):
        VideoWriter(tmp_path / "out.mp4", info, EncodeConfig(preset="warp-speed"))
    assert leftovers(tmp_path, set()) == []


@pytest.mark.shared_data
@pytest.mark.skipif(not GRID.is_dir(), reason="shared data not present")
def test_real_mpeg1_clip_keeps_frames_and_mp2_audio(tmp_path):
    src = sorted(GRID.glob("*.mpg"))[0]
    out = tmp_path / "out.mp4"
    transcode(src, out, cfg=EncodeConfig(audio="copy"))  # asked for: the MP2 bytes as they were
    assert video_times(out) == pytest.approx(video_times(src), abs=1e-6)
    assert audio_packets(out) == audio_packets(src)
    transcode(src, out)  # the default ("auto"): Chromium plays no MP2 in MP4, so it becomes AAC
    assert audio_codec(out) == "aac"
    assert audio_seconds(out) == pytest.approx(audio_seconds(src), abs=0.05)
