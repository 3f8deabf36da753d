"""End to end on generated media: frame counts, timestamps and audio survive stylization."""

from fractions import Fraction

import numpy as np
import pytest
import skimage.data

from portrait_style import jobs
from portrait_style.api import Stylizer
from portrait_style.engine.frame import FramePacket
from portrait_style.engine.image_io import read_image, write_image
from portrait_style.engine.video_io import VideoInfo, VideoReader, VideoWriter
from portrait_style.errors import InputError, OutputError
from tests.media import audio_seconds, make_video, video_times
from tests.models import make_style


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("PORTRAIT_STYLE_CACHE", str(tmp_path / "cache"))


def frame_stylizer(tmp_path):
    return Stylizer(model=str(make_style(tmp_path, "frame")), mode="frame")


@pytest.mark.parametrize(
    "size, vfr", [((64, 48), False), ((641, 479), False), ((96, 64), True)], ids=["plain", "odd-size", "vfr"]
)
def test_video_keeps_frames_timestamps_and_audio(tmp_path, size, vfr):
    odd = size[0] % 2 or size[1] % 2
    codec = {"codec": "libx264rgb", "pix_fmt": "rgb24"} if odd else {}
    made = make_video(tmp_path / "in.mp4", size=size, n_frames=12, audio=True, vfr=vfr, **codec)
    out = tmp_path / "out.mp4"
    result = jobs.stylize_path(made.path, out, frame_stylizer(tmp_path), progress=False)
    assert result.frames == 12
    assert np.allclose(video_times(out), made.times, atol=1e-3)
    assert audio_seconds(out) == pytest.approx(audio_seconds(made.path), abs=0.03)
    with VideoReader(out) as reader:
        first = next(iter(reader)).image
    assert first.shape[:2] == (size[1] + size[1] % 2, size[0] + size[0] % 2)


def face_video(path, n_frames=6):
    """The astronaut portrait drifting right a few pixels per frame, on a wide flat-grey canvas."""
    face = skimage.data.astronaut()[:320, 100:420]  # 320x320, face in the upper middle
    info = VideoInfo(width=640, height=320, fps=Fraction(25), time_base=Fraction(1, 25))
    with VideoWriter(path, info) as writer:
        for i in range(n_frames):
            canvas = np.full((320, 640, 3), 128, np.uint8)
            canvas[:, 40 + 2 * i : 360 + 2 * i] = face
            writer.write(FramePacket(index=i, image=canvas, pts=i, time_base=info.time_base))
    return path


def test_face_mode_changes_the_face_and_not_the_background(tmp_path):
    src = face_video(tmp_path / "face.mp4")
    out = tmp_path / "styled.mp4"
    stylizer = Stylizer(model=str(make_style(tmp_path, "face")), mode="face")
    jobs.stylize_path(src, out, stylizer, progress=False)
    with VideoReader(src) as a, VideoReader(out) as b:
        pairs = list(zip(a, b, strict=True))
    assert len(pairs) == 6
    for before, after in pairs:
        diff = np.abs(before.image.astype(int) - after.image.astype(int)).mean(axis=2)
        face_region = diff[60:200, 150:300].mean()
        background = diff[:, 560:].mean()  # far right: flat grey, no face
        assert face_region > 10, face_region
        assert background < 1.5, background  # only codec noise


def test_image_and_folder(tmp_path):
    stylizer = frame_stylizer(tmp_path)
    folder = tmp_path / "in"
    folder.mkdir()
    write_image(folder / "a.png", skimage.data.astronaut()[:101, :77])
    (folder / "broken.jpg").write_bytes(b"not a jpeg")
    result = jobs.stylize_path(folder, tmp_path / "out", stylizer, progress=False)
    assert result.frames == 1
    styled = read_image(tmp_path / "out" / "a.png")
    assert styled.shape == (101, 77, 3)
    assert not (tmp_path / "out" / "broken.jpg").exists()
    single = jobs.stylize_path(folder / "a.png", tmp_path / "single.jpg", stylizer, progress=False)
    assert single.output.is_file()


def test_mismatched_output_kinds(tmp_path):
    made = make_video(tmp_path / "in.mp4")
    stylizer = frame_stylizer(tmp_path)
    with pytest.raises(OutputError, match="must be a video"):
        jobs.stylize_path(made.path, tmp_path / "out.png", stylizer, progress=False)
    with pytest.raises(OutputError, match="overwrite the input"):
        jobs.stylize_path(made.path, made.path, stylizer, progress=False)
    with pytest.raises(InputError, match="not found"):
        jobs.stylize_path(tmp_path / "missing.mp4", tmp_path / "o.mp4", stylizer, progress=False)
