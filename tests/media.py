"""Synthetic test media: small videos (with a sine audio track) and images, made on the fly with PyAV.

Tests must run anywhere, so they never depend on real footage. Every frame is deterministic: a colour
gradient that shifts with the frame index plus a white marker square in the top-left corner, so a test can
tell which way up a frame is (`frame_image`). Also here: readers that turn a file back into plain numbers
(`video_times`, `audio_packets`) so tests compare files without re-implementing PyAV loops.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

MARKER = 8  # side of the white square drawn in each frame's top-left corner


@dataclass(frozen=True)
class MadeVideo:
    """What `make_video` wrote, for tests to compare against."""

    path: Path
    width: int  # stored size, before any rotation metadata is applied
    height: int
    pts: list[int]  # video presentation timestamps, in `time_base` units
    time_base: Fraction
    audio_seconds: float  # 0.0 when there is no audio track

    @property
    def times(self) -> list[float]:
        return [float(p * self.time_base) for p in self.pts]


def frame_image(index: int, width: int, height: int) -> np.ndarray:
    """Frame `index` of every synthetic video: H x W x 3 uint8 RGB, white marker square top-left."""
    y, x = np.mgrid[0:height, 0:width]
    image = np.empty((height, width, 3), np.uint8)
    image[..., 0] = (x * 255 // max(width - 1, 1) + 7 * index) % 256
    image[..., 1] = (y * 255 // max(height - 1, 1)) % 256
    image[..., 2] = (40 + 11 * index) % 256
    image[:MARKER, :MARKER] = 255
    return image


def vfr_pts(n_frames: int, fps: float, time_base: Fraction) -> list[int]:
    """Irregular timestamps: frame gaps cycle through 1x, 2x, 0.5x and 3x the nominal frame duration."""
    step = 1 / (fps * time_base)
    pts, t = [], 0.0
    for i in range(n_frames):
        pts.append(round(t))
        t += step * (1.0, 2.0, 0.5, 3.0)[i % 4]
    return pts


def make_video(
    path: str | Path,
    size: tuple[int, int] = (64, 48),
    n_frames: int = 10,
    fps: int = 25,
    audio: bool = True,
    vfr: bool = False,
    rotation: int | None = None,
    codec: str = "libx264",
    pix_fmt: str = "yuv420p",
    audio_codec: str = "aac",
    faststart: bool = False,
    time_base: Fraction = Fraction(1, 12800),
) -> MadeVideo:
    """Write a small video with `n_frames` of `frame_image` and, if `audio`, a 440 Hz mono sine track.

    size: (width, height) as stored. libx264 with yuv420p needs even sizes; for odd ones use
        codec="mpeg4" or pix_fmt="yuv444p".
    vfr: irregular pts from `vfr_pts` instead of one frame every 1/fps s.
    rotation: display-matrix rotation in degrees counter-clockwise (PyAV's convention, the value
        `VideoFrame.rotation` reads back); the pixels themselves are stored unrotated.
    audio_codec: any audio encoder FFmpeg has ("aac", "mp2", "pcm_mulaw", ...); the track lasts as long as
        the video.
    faststart: put the MP4 index (moov) before the data, as streaming files do.
    time_base: of the video stream; the default is FFmpeg's own for 25 fps MP4 (MPEG-4 part 2 allows no
        denominator over 65535, so 1/90000 only works with libx264).
    """
    path = Path(path)
    width, height = size
    step = 1 / (fps * time_base)
    pts = vfr_pts(n_frames, fps, time_base) if vfr else [round(i * step) for i in range(n_frames)]
    options = {"movflags": "faststart"} if faststart else {}
    with av.open(str(path), "w", options=options) as container:
        video = container.add_stream(codec, rate=fps)
        video.width, video.height, video.pix_fmt = width, height, pix_fmt
        video.time_base = video.codec_context.time_base = time_base
        if rotation is not None:
            video.set_display_rotation(rotation)
        audio_seconds = 0.0
        if audio:
            end = pts[-1] * time_base + Fraction(1, fps) if pts else 0
            audio_seconds = _write_sine(container, audio_codec, float(end))
        for i, p in enumerate(pts):
            frame = av.VideoFrame.from_ndarray(frame_image(i, width, height), format="rgb24")
            frame.pts, frame.time_base = p, time_base
            container.mux(video.encode(frame))
        container.mux(video.encode())
    return MadeVideo(path, width, height, pts, time_base, audio_seconds)


def _write_sine(container: av.container.OutputContainer, codec: str, seconds: float) -> float:
    """Encode a 440 Hz sine of `seconds` into a new audio stream; all of it is muxed before the video."""
    rate = 8000 if codec in ("pcm_mulaw", "pcm_alaw") else 48000
    stream = container.add_stream(codec, rate=rate, layout="mono")
    n = round(seconds * rate)
    samples = (0.3 * np.sin(2 * np.pi * 440 * np.arange(n) / rate) * 32767).astype(np.int16)[None]
    frame = av.AudioFrame.from_ndarray(samples, format="s16", layout="mono")
    frame.sample_rate, frame.pts = rate, 0
    container.mux(stream.encode(frame))
    container.mux(stream.encode())
    return n / rate


def make_audio_only(path: str | Path, seconds: float = 1.0) -> Path:
    """An .m4a/.mp4 file with an AAC sine track and no video stream at all."""
    path = Path(path)
    with av.open(str(path), "w") as container:
        _write_sine(container, "aac", seconds)
    return path


def make_empty_video(path: str | Path, size: tuple[int, int] = (64, 48)) -> Path:
    """An MP4 whose video track holds no frames (header only); FFmpeg then lists no video stream at all."""
    path = Path(path)
    with av.open(str(path), "w") as container:
        video = container.add_stream("libx264", rate=25)
        video.width, video.height, video.pix_fmt = size[0], size[1], "yuv420p"
        container.start_encoding()
    return path


def truncate(path: str | Path, fraction: float = 0.5) -> Path:
    """Cut the file to its first `fraction` of bytes, in place, as an interrupted download would."""
    path = Path(path)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * fraction)])
    return path


def cut_after_header(path: str | Path) -> Path:
    """Keep a faststart MP4's index but drop all its media data: every stream is listed, no packet reads."""
    path = Path(path)
    data = path.read_bytes()
    path.write_bytes(data[: data.index(b"mdat") + 4])
    return path


def video_times(path: str | Path) -> list[float]:
    """Presentation time in seconds of every decoded video frame, in decode order."""
    with av.open(str(path)) as container:
        return [float(f.pts * f.time_base) for f in container.decode(video=0)]


def audio_packets(path: str | Path) -> list[bytes]:
    """The raw payload of every packet of the first audio stream, in file order."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        return [bytes(p) for p in container.demux(stream) if p.size]


def audio_seconds(path: str | Path) -> float:
    """Decoded length of the first audio stream, in seconds (samples / rate)."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        return sum(f.samples for f in container.decode(stream)) / stream.rate


def audio_codec(path: str | Path) -> str | None:
    """Codec name of the first audio stream, or None without one."""
    with av.open(str(path)) as container:
        return container.streams.audio[0].codec_context.name if container.streams.audio else None


def jpeg_with_orientation(rgb: np.ndarray, orientation: int) -> bytes:
    """JPEG bytes of `rgb` (stored as given) carrying an EXIF Orientation tag (1-8), as cameras write it.

    6 means "rotate 90 degrees clockwise to view", 3 "rotate 180", 8 "rotate 90 counter-clockwise".
    """
    import cv2

    ok, encoded = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 98])
    assert ok
    # A big-endian TIFF header and one IFD entry: tag 0x0112 (Orientation), type SHORT, count 1.
    tiff = b"MM\x00\x2a\x00\x00\x00\x08" + b"\x00\x01" + b"\x01\x12\x00\x03\x00\x00\x00\x01"
    tiff += orientation.to_bytes(2, "big") + b"\x00\x00" + b"\x00\x00\x00\x00"
    app1 = b"Exif\x00\x00" + tiff
    segment = b"\xff\xe1" + (len(app1) + 2).to_bytes(2, "big") + app1
    data = encoded.tobytes()
    return data[:2] + segment + data[2:]  # right after the SOI marker
