"""Where frames come from: a camera (OpenCV), a video file (PyAV), or a file played like a camera.

Every source yields `FramePacket`s with `captured` set (time.monotonic() seconds) and has `name`,
`width`, `height`, `fps` (measured for a camera), `dropped` (frames the source itself skipped) and
`close()`.

- `CameraSource`: OpenCV `VideoCapture` on an index, /dev/videoN or a URL. It asks for a size, a frame
  rate and MJPG with a one-frame driver buffer, measures the frame rate it really gets, and reopens a
  camera that stops delivering a few times before giving up with a `CameraError`.
- `FileSource`: a video file, decoded as fast as the consumer takes it (the lossless file jobs).
- `PacedFileCamera`: a file (looping by default) delivered at its own frame rate, whatever the consumer
  does: a frame whose time has passed is skipped, as a camera's driver overwrites it. The stand-in
  camera for tests and benchmarks.
"""

from __future__ import annotations

import logging
import os
import time
from collections import deque
from collections.abc import Callable, Iterator
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

from portrait_style.config import LiveConfig
from portrait_style.engine.frame import FramePacket
from portrait_style.engine.video_io import VideoInfo, VideoReader
from portrait_style.errors import InputError

log = logging.getLogger(__name__)

MS = Fraction(1, 1000)  # a camera's time base: pts are milliseconds since the first frame


class CameraError(InputError):
    """A camera that is missing, busy, or stopped delivering frames."""


def is_camera_spec(spec: str) -> bool:
    """An index ("0"), a device node ("/dev/video2") or a stream URL ("rtsp://...")."""
    return spec.isdigit() or spec.startswith("/dev/") or "://" in spec


def open_source(spec: str, cfg: LiveConfig | None = None):
    """The source `portrait-style live --camera SPEC` means: a camera, or a video file played as one."""
    cfg = cfg or LiveConfig()
    if is_camera_spec(spec):
        return CameraSource(spec, cfg)
    if not Path(spec).is_file():
        raise CameraError(
            f"--camera {spec}: no such camera or file (an index, /dev/videoN, a URL or a video)"
        )
    return PacedFileCamera(spec, loop=cfg.loop, cache_frames=cfg.cache_frames)


class _FrameRate:
    """Frames per second over the last `window` frames."""

    def __init__(self, window: int = 60):
        self._times: deque[float] = deque(maxlen=window)

    def tick(self, t: float) -> None:
        self._times.append(t)

    @property
    def fps(self) -> float:
        if len(self._times) < 2 or self._times[-1] <= self._times[0]:
            return 0.0
        return (len(self._times) - 1) / (self._times[-1] - self._times[0])


def _opencv_capture(target: int | str, cfg: LiveConfig):
    """The device layer: an opened `cv2.VideoCapture`, with timeouts for network streams."""
    if isinstance(target, str) and "://" in target:
        timeout_ms = int(cfg.read_timeout_s * 1000)
        params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, 2 * timeout_ms, cv2.CAP_PROP_READ_TIMEOUT_MSEC, timeout_ms]
        return cv2.VideoCapture(target, cv2.CAP_FFMPEG, params)
    return cv2.VideoCapture(target)


class CameraSource:
    """Frames from a camera through OpenCV, stamped with their capture time.

    open_capture: (target, cfg) -> a `cv2.VideoCapture`-like object (isOpened, read, set, get, release);
    tests pass a fake device here.
    """

    def __init__(self, spec: str | int, cfg: LiveConfig | None = None, open_capture: Callable | None = None):
        cfg = cfg or LiveConfig()
        self.name = str(spec)
        self.target: int | str = int(spec) if str(spec).isdigit() else str(spec)
        self.cfg = cfg
        self.dropped = 0
        self.reconnects = 0
        self._open_capture = open_capture or _opencv_capture
        self._rate = _FrameRate()
        self._cap = None
        self._open()

    @property
    def fps(self) -> float:
        """The frame rate measured over the last frames (the camera's own claim until there are some)."""
        return self._rate.fps or self.reported_fps

    def _device_path(self) -> str | None:
        if isinstance(self.target, int):
            return f"/dev/video{self.target}" if os.name == "posix" and Path("/dev").is_dir() else None
        return self.target if self.target.startswith("/dev/") else None

    def _open(self) -> None:
        device = self._device_path()
        if self._open_capture is _opencv_capture and device and not Path(device).exists():
            raise CameraError(f"camera {self.name}: not found ({device} does not exist; is it plugged in?)")
        cap = self._open_capture(self.target, self.cfg)
        if not cap.isOpened():
            cap.release()
            raise CameraError(
                f"camera {self.name}: cannot open it (missing, busy elsewhere, or no permission)"
            )
        if len(self.cfg.fourcc) == 4:
            cap.set(cv2.CAP_PROP_FOURCC, cv2.VideoWriter_fourcc(*self.cfg.fourcc))
        cap.set(cv2.CAP_PROP_FRAME_WIDTH, self.cfg.width)
        cap.set(cv2.CAP_PROP_FRAME_HEIGHT, self.cfg.height)
        cap.set(cv2.CAP_PROP_FPS, self.cfg.fps)
        cap.set(cv2.CAP_PROP_BUFFERSIZE, self.cfg.buffer_frames)
        ok, frame = cap.read()  # a camera in use elsewhere opens but gives nothing
        if not ok or frame is None:
            cap.release()
            raise CameraError(f"camera {self.name}: opened but gives no frames (busy in another program?)")
        self.height, self.width = frame.shape[:2]
        self.reported_fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
        self._cap = cap

    def info(self) -> VideoInfo:
        fps = Fraction(self.fps or self.cfg.fps).limit_denominator(1001)
        return VideoInfo(width=self.width, height=self.height, fps=fps, time_base=MS)

    def _read(self) -> np.ndarray | None:
        ok, frame = self._cap.read()
        return frame if ok and frame is not None else None

    def _reconnect(self) -> np.ndarray:
        """Reopen the camera after a failed read; `CameraError` after `reconnect_attempts` tries."""
        attempts = self.cfg.reconnect_attempts
        for attempt in range(1, attempts + 1):
            log.warning("camera %s gives no frames; reconnecting (%d/%d)", self.name, attempt, attempts)
            self._release()
            time.sleep(self.cfg.reconnect_delay_s)
            try:
                self._open()
            except CameraError:
                continue
            frame = self._read()
            if frame is not None:
                self.reconnects += 1
                return frame
        raise CameraError(
            f"camera {self.name}: stopped delivering frames (unplugged?);"
            f" gave up after {attempts} reconnect attempts"
        )

    def __iter__(self) -> Iterator[FramePacket]:
        start = None
        index = 0
        try:
            while True:
                frame = self._read() if self._cap is not None else None
                if frame is None:
                    frame = self._reconnect()
                captured = time.monotonic()
                start = captured if start is None else start
                self._rate.tick(captured)
                image = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
                pts = round((captured - start) / MS)
                yield FramePacket(index=index, image=image, pts=pts, time_base=MS, captured=captured)
                index += 1
        finally:
            self._release()

    def _release(self) -> None:
        cap, self._cap = self._cap, None
        if cap is not None:
            cap.release()

    def close(self) -> None:
        self._release()


class FileSource:
    """A video file, frame by frame as fast as it is taken, each packet stamped when it was decoded."""

    def __init__(self, path: str | os.PathLike):
        self.reader = VideoReader(path)
        self.name = Path(path).name
        info = self.reader.info
        self.width, self.height, self.fps = info.width, info.height, float(info.fps)
        self.dropped = 0

    def info(self) -> VideoInfo:
        return self.reader.info

    def __iter__(self) -> Iterator[FramePacket]:
        for packet in self.reader:
            packet.captured = time.monotonic()
            yield packet

    def close(self) -> None:
        self.reader.close()

    def __enter__(self) -> FileSource:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class PacedFileCamera:
    """A video file delivered like a camera: frame n exists from `start + n / fps` on, whoever reads it.

    A reader that comes late gets the newest frame whose time has come, and the ones it missed are
    counted in `dropped`; one that comes early waits. loop: start again at the end (a clip of at most
    `cache_frames` frames is decoded once and kept). fps: override the file's own rate.
    `captured` is the frame's due time, so a late reader's wait counts in the latency, as with a camera.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        fps: float | None = None,
        loop: bool = True,
        cache_frames: int = LiveConfig.cache_frames,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.path = Path(path)
        self.name = self.path.name
        self.loop, self.clock, self.sleep = loop, clock, sleep
        with VideoReader(self.path) as reader:  # fails here, on open, for a file that is not a video
            info = reader.info
            self._cache: list[np.ndarray] | None = None
            if loop and 0 < info.frame_count <= cache_frames:
                self._cache = [p.image for p in reader]
        self.width, self.height = info.width, info.height
        self.fps = float(fps or info.fps)
        if not self.fps > 0:
            raise InputError(f"{self.path}: frame rate must be positive, got {self.fps}")
        self.dropped = 0

    def info(self) -> VideoInfo:
        fps = Fraction(self.fps).limit_denominator(1001)
        return VideoInfo(width=self.width, height=self.height, fps=fps, time_base=1 / fps)

    def _images(self) -> Iterator[np.ndarray]:
        """The clip's frames in order, again from the start at the end when looping."""
        while True:
            if self._cache:
                yield from self._cache
            else:
                with VideoReader(self.path) as reader:
                    for packet in reader:
                        yield packet.image
            if not self.loop:
                return

    def __iter__(self) -> Iterator[FramePacket]:
        period = 1.0 / self.fps
        time_base = 1 / Fraction(self.fps).limit_denominator(1001)
        images = self._images()
        start = self.clock()
        n = 0
        while True:
            due = start + n * period
            now = self.clock()
            if now < due:
                self.sleep(due - now)
            else:
                missed = int((now - due) / period)  # frames whose time passed while nobody read
                for _ in range(missed):
                    if next(images, None) is None:
                        return
                self.dropped += missed
                n += missed
                due = start + n * period
            image = next(images, None)
            if image is None:
                return
            yield FramePacket(index=n, image=image, pts=n, time_base=time_base, captured=due)
            n += 1

    def close(self) -> None:
        self._cache = None
