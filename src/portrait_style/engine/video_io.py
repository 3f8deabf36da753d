"""Video files in and out with PyAV: decode to upright RGB `FramePacket`s, encode them back with the
input's own timestamps and its audio copied untouched.

Reading: any format FFmpeg opens. The first frame is decoded on open, so a file that is not a video, has
no video stream or holds no decodable frame fails there with an `InputError`. A file damaged or cut short
further on is read up to its last good frame, with a warning: a half-downloaded clip still gives output.

Writing: H.264 (libx264, yuv420p) into .mp4/.mkv/.mov through a temporary file that is renamed over the
target only when complete; MP4/MOV are written "faststart" (index before the data, so a browser starts
playing before the download ends) and the audio follows `EncodeConfig.audio` (see `audio_remux`).
See `VideoWriter`.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
from av.video.reformatter import ColorRange, Colorspace

from portrait_style.config import EncodeConfig
from portrait_style.engine.audio_remux import AudioRemuxer
from portrait_style.engine.frame import FramePacket
from portrait_style.errors import InputError, OutputError
from portrait_style.fileutil import atomic_path

log = logging.getLogger(__name__)

OUTPUT_SUFFIXES = (".mp4", ".m4v", ".mov", ".mkv")
_FASTSTART_SUFFIXES = (".mp4", ".m4v", ".mov")  # the ISO BMFF family: moov may come first
_BT601_OR_UNTAGGED = (2, 5, 6)  # AVColorSpace: unspecified, BT470BG, SMPTE170M
_UPRIGHT = {90: cv2.ROTATE_90_COUNTERCLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_CLOCKWISE}


@dataclass(frozen=True)
class VideoInfo:
    """What a writer needs to know about a stream; `VideoReader.info` gives it for a file."""

    width: int  # upright, after rotation metadata is applied
    height: int
    fps: Fraction  # average frame rate; a hint only, timing comes from each frame's pts
    time_base: Fraction  # unit of FramePacket.pts
    frame_count: int = 0  # estimate for progress bars; 0 when unknown
    duration: float | None = None  # seconds, when the container says
    rotation: int = 0  # degrees counter-clockwise the stored pixels were turned to be upright
    has_audio: bool = False


class VideoReader:
    """Decode a video file into upright RGB `FramePacket`s, once, front to back.

    >>> with VideoReader("in.mp4") as reader:
    ...     for packet in reader: ...
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        if not self.path.exists():
            raise InputError(f"no such file: {self.path}")
        if self.path.is_dir():
            raise InputError(f"expected a video file, got a folder: {self.path}")
        try:
            self._container = av.open(str(self.path), metadata_errors="ignore")
        except (av.error.FFmpegError, OSError) as exc:
            reason = getattr(exc, "strerror", None) or exc
            raise InputError(
                f"cannot read {self.path} as a video (damaged, cut short or not a video: {reason})"
            ) from None
        try:
            self.info = self._probe()
        except BaseException:
            self._container.close()
            raise
        self._iterated = False

    def _probe(self) -> VideoInfo:
        if not self._container.streams.video:
            raise InputError(f"no video stream in {self.path}")
        stream = self._stream = self._container.streams.video[0]
        stream.thread_type = "AUTO"  # frame and slice threads: decoding keeps up with the pipeline
        self._decoded = self._skipped = 0
        self._frames = self._decode()
        self._first = next(self._frames, None)
        if self._first is None:
            raise InputError(f"no decodable video frames in {self.path}")
        rotation = round(self._first.rotation / 90) * 90 % 360  # the display matrix, from FFmpeg's side data
        width, height = self._first.width, self._first.height
        if rotation in (90, 270):
            width, height = height, width
        fps = stream.average_rate or stream.guessed_rate or Fraction(25)
        duration = None
        if stream.duration is not None:
            duration = float(stream.duration * stream.time_base)
        elif self._container.duration is not None:
            duration = self._container.duration / av.time_base
        frame_count = stream.frames or (int(duration * fps + 0.5) if duration else 0)
        has_audio = bool(self._container.streams.audio)
        return VideoInfo(
            width, height, Fraction(fps), stream.time_base, frame_count, duration, rotation, has_audio
        )

    # Shortcuts to `info`, for callers that only want one number.
    width = property(lambda self: self.info.width)
    height = property(lambda self: self.info.height)
    fps = property(lambda self: self.info.fps)
    time_base = property(lambda self: self.info.time_base)
    frame_count = property(lambda self: self.info.frame_count)
    duration = property(lambda self: self.info.duration)
    rotation = property(lambda self: self.info.rotation)
    has_audio = property(lambda self: self.info.has_audio)

    def _decode(self) -> Iterator[av.VideoFrame]:
        """Frames in presentation order; stops at the first unreadable byte, skips undecodable packets."""
        packets = self._container.demux(self._stream)
        while True:
            try:
                packet = next(packets)
            except StopIteration:
                break
            except av.error.FFmpegError as exc:
                log.warning("%s: stopped reading after frame %d: %s", self.path, self._decoded, exc)
                break
            try:
                frames = packet.decode()
            except av.error.FFmpegError:
                self._skipped += 1  # a corrupt packet: FFmpeg's own tools skip it too
                continue
            for frame in frames:
                self._decoded += 1
                yield frame
        expected = self._stream.frames
        if self._decoded and (self._skipped or (expected and self._decoded < expected)):
            skipped = f", skipped {self._skipped} damaged packets" if self._skipped else ""
            log.warning("%s: decoded %d of %s frames%s; the file looks damaged or truncated",
                        self.path, self._decoded, expected or "?", skipped)  # fmt: skip

    def __iter__(self) -> Iterator[FramePacket]:
        if self._iterated:
            raise RuntimeError("a VideoReader is read once; open the file again to read it again")
        self._iterated = True
        nominal_step = 1 / (self.info.fps * self.info.time_base)  # for frames that come without a pts
        try:
            for index, frame in enumerate(itertools.chain([self._first], self._frames)):
                image = _to_rgb(frame)
                if self.info.rotation:
                    image = cv2.rotate(image, _UPRIGHT[self.info.rotation])
                pts = frame.pts if frame.pts is not None else round(index * nominal_step)
                yield FramePacket(index=index, image=image, pts=pts, time_base=self.info.time_base)
        finally:
            self.close()

    def close(self) -> None:
        self._first = None
        self._container.close()

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _to_rgb(frame: av.VideoFrame) -> np.ndarray:
    """Decoded frame -> H x W x 3 uint8 RGB, with the frame's own colour matrix and range."""
    if (
        frame.format.name == "yuv420p"
        and frame.width % 2 == 0
        and frame.height % 2 == 0
        and frame.colorspace in _BT601_OR_UNTAGGED
        and frame.color_range != ColorRange.JPEG
    ):
        # The common case. OpenCV's I420 conversion uses the same BT.601 limited-range matrix as
        # swscale but rounds where swscale truncates (swscale leaves a -1 level bias per channel).
        return cv2.cvtColor(frame.to_ndarray(), cv2.COLOR_YUV2RGB_I420)
    return frame.to_ndarray(format="rgb24")


class VideoWriter:
    """Encode `FramePacket`s to an H.264 file, keeping each frame's pts and copying the input's audio.

    path: .mp4 (also .m4v, .mov, .mkv). Written to a hidden temporary file beside it (same suffix, so the
        muxer picks the same format) that replaces `path` on `close()`; `abort()` or an error removes it.
    info: a `VideoInfo` (or a `VideoReader`, whose `.info` is used): frame size, time base, frame rate.
        The video stream gets the input's time base and every frame its input pts, so a variable frame
        rate comes out exactly as it went in. (Matroska stores milliseconds and no negative times: there
        pts are rounded to 1 ms, and audio that starts before zero, like AAC priming, shifts all streams.)
    cfg: codec, CRF, preset and pixel format.
    audio_source: a file whose audio streams go into the output, interleaved with the video as it is
        written: copied packet for packet, or re-encoded as AAC (one warning line says so) when
        `cfg.audio` asks for it, when "auto" finds the codec is not one the container's usual players
        decode (MP2 in MP4), or when the container cannot hold it at all (mu-law in MP4). None: no audio.

    Odd frame sizes: H.264 in 4:2:0 codes whole 2x2 chroma blocks and its cropping window moves in steps
    of 2 pixels too, so a 641x479 picture cannot be stored at its size. Such frames are padded to the next
    even size by repeating the last column/row (642x480, a warning says so) rather than cropped: no
    pixel of the input is lost.

    Errors while setting up (folder missing or read-only, unknown suffix, bad encoder settings) raise
    `OutputError` from the constructor, before any stage runs (opening a `VideoReader` decodes only its
    first frame), so create the writer before starting the pipeline.
    Use as a context manager: it closes on success and aborts on an exception.
    """

    def __init__(
        self,
        path: str | Path,
        info: VideoInfo | VideoReader,
        cfg: EncodeConfig | None = None,
        audio_source: str | Path | None = None,
    ):
        self.path = Path(path)
        self.info = info.info if isinstance(info, VideoReader) else info
        cfg = cfg or EncodeConfig()
        if self.path.suffix.lower() not in OUTPUT_SUFFIXES:
            allowed = ", ".join(OUTPUT_SUFFIXES)
            raise OutputError(f"cannot write {self.path.name}: a video output must end in {allowed}")
        if self.path.is_dir():
            raise OutputError(f"output path is a folder: {self.path}")
        self._pad = (self.info.width % 2, self.info.height % 2)
        if any(self._pad):
            log.warning(
                "%s: %dx%d padded to %dx%d (H.264 4:2:0 needs even sizes)", self.path, self.info.width,
                self.info.height, self.info.width + self._pad[0], self.info.height + self._pad[1],
            )  # fmt: skip
        self._files = contextlib.ExitStack()
        tmp = self._files.enter_context(atomic_path(self.path))  # OutputError when the folder is unwritable
        self._container: av.container.OutputContainer | None = None
        self._audio: AudioRemuxer | None = None
        self._last_pts: int | None = None
        self._finished = False  # closed or aborted: the temporary file is gone either way
        self.frames_written = 0
        try:
            self._open(tmp, cfg, audio_source)
        except BaseException as exc:
            self._discard(exc)
            raise

    def _open(self, tmp: Path, cfg: EncodeConfig, audio_source: str | Path | None) -> None:
        """Open the output with its streams and write the header.

        The video encoder is opened on its own first, so bad encoder settings are reported as such; a
        header the muxer then refuses is blamed on the audio only when audio is being copied, and with
        the "auto" policy that audio is re-encoded as AAC once before giving up.
        """
        suffix = self.path.suffix.lower()
        options = {"movflags": "+faststart"} if cfg.faststart and suffix in _FASTSTART_SUFFIXES else {}
        for transcode_audio in (False, True):
            self._container = av.open(str(tmp), "w", options=options)
            self._video = self._add_video_stream(cfg)
            if audio_source is not None:
                self._audio = AudioRemuxer(
                    audio_source, self._container, transcode=transcode_audio, policy=cfg.audio,
                    suffix=suffix, bitrate=cfg.audio_bitrate,
                )  # fmt: skip
            copied = list(self._audio.copied) if self._audio is not None else []
            try:
                self._container.start_encoding()  # the header: where a muxer refuses a codec it cannot hold
                return
            except av.error.FFmpegError as exc:
                with contextlib.suppress(Exception):
                    self._close_streams()
                if not copied or transcode_audio:
                    raise OutputError(
                        f"cannot write the {suffix} header of {self.path.name}: {exc}"
                    ) from None
                codecs = ", ".join(copied)
                if cfg.audio == "copy":
                    raise OutputError(
                        f"--audio copy: {suffix} files cannot hold {codecs} audio ({exc}); use --audio aac"
                    ) from None
                log.warning("audio: %s cannot be copied into %s (%s); re-encoding it as AAC at %d kb/s",
                            codecs, suffix, exc, cfg.audio_bitrate // 1000)  # fmt: skip

    def _add_video_stream(self, cfg: EncodeConfig) -> av.VideoStream:
        options = {"crf": str(cfg.crf), "preset": cfg.preset} if cfg.codec in ("libx264", "libx265") else {}
        try:
            stream = self._container.add_stream(cfg.codec, rate=self.info.fps, options=options)
        except (av.error.FFmpegError, ValueError) as exc:
            raise OutputError(f"video encoder {cfg.codec!r} is not available: {exc}") from None
        stream.width = self.info.width + self._pad[0]
        stream.height = self.info.height + self._pad[1]
        stream.pix_fmt = self._pix_fmt = cfg.pix_fmt
        # Same clock as the input, so every pts is copied exactly, never rounded to a frame grid.
        stream.time_base = stream.codec_context.time_base = self.info.time_base
        # Tag the colour matrix we convert with, so players do not guess BT.709 for HD sizes.
        stream.codec_context.colorspace = Colorspace.ITU601
        stream.codec_context.color_range = ColorRange.MPEG
        try:  # now, not in start_encoding: a refusal here is the encoder's settings, not the audio
            stream.codec_context.open()
        except (av.error.FFmpegError, ValueError) as exc:
            settings = f"crf {cfg.crf}, preset {cfg.preset!r}, " if options else ""
            raise OutputError(
                f"the {cfg.codec} encoder refused its settings ({settings}{cfg.pix_fmt}, "
                f"{stream.width}x{stream.height}): {exc}"
            ) from None
        return stream

    def write(self, packet: FramePacket) -> None:
        """Encode `packet.output` (or `packet.image` when no stage set an output) at `packet.pts`."""
        if self._finished:
            raise RuntimeError("write() after close() or abort()")
        image = packet.output if packet.output is not None else packet.image
        if image.shape != (self.info.height, self.info.width, 3) or image.dtype != np.uint8:
            raise ValueError(
                f"frame {packet.index}: expected {self.info.height}x{self.info.width}x3 uint8, "
                f"got {'x'.join(map(str, image.shape))} {image.dtype}"
            )
        if any(self._pad):
            image = cv2.copyMakeBorder(image, 0, self._pad[1], 0, self._pad[0], cv2.BORDER_REPLICATE)
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")
        # BT.601 limited range, as tagged on the stream (the reader's conversion for untagged input).
        frame = frame.reformat(
            format=self._pix_fmt, dst_colorspace=Colorspace.ITU601, dst_color_range=ColorRange.MPEG
        )
        frame.pts, frame.time_base = self._next_pts(packet), self.info.time_base
        try:
            if self._audio is not None:
                self._audio.copy_until(float(frame.pts * frame.time_base))
            self._container.mux(self._video.encode(frame))
        except (av.error.FFmpegError, OSError) as exc:
            self.abort()
            raise OutputError(f"writing {self.path.name} failed: {exc}") from None
        self.frames_written += 1

    def _next_pts(self, packet: FramePacket) -> int:
        if packet.pts is None:
            pts = round(packet.index / (self.info.fps * self.info.time_base))
        elif packet.time_base is not None and packet.time_base != self.info.time_base:
            pts = round(packet.pts * packet.time_base / self.info.time_base)
        else:
            pts = packet.pts
        if self._last_pts is not None and pts <= self._last_pts:
            # The encoder refuses a pts that does not increase; broken inputs do repeat them.
            log.warning("%s: frame %d repeats pts %d; nudged forward", self.path, packet.index, pts)
            pts = self._last_pts + 1
        self._last_pts = pts
        return pts

    def close(self) -> None:
        """Flush the encoder, copy the rest of the audio, finish the file and move it into place."""
        if self._finished:
            return
        try:
            self._container.mux(self._video.encode())  # flush: the encoder holds back look-ahead frames
            if self._audio is not None:
                self._audio.copy_rest()
            self._close_streams()
        except (av.error.FFmpegError, OSError) as exc:
            self.abort()
            raise OutputError(f"finishing {self.path.name} failed: {exc}") from None
        self._finished = True
        self._files.close()  # renames the temporary file over `path`

    def abort(self) -> None:
        """Stop without output: the temporary file is deleted and `path` is left as it was."""
        if not self._finished:
            self._discard(RuntimeError("aborted"))

    def _discard(self, exc: BaseException) -> None:
        self._finished = True
        with contextlib.suppress(Exception):
            self._close_streams()
        self._files.__exit__(type(exc), exc, exc.__traceback__)  # atomic_path deletes on an exception

    def _close_streams(self) -> None:
        container, audio = self._container, self._audio
        self._container = self._audio = None
        try:
            if container is not None:
                container.close()
        finally:
            if audio is not None:
                audio.close()

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()
