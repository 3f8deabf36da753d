"""Where frames go: a video file, a window, a virtual camera, a web page (or nowhere, for benchmarks).

A live sink has `show(view, packet)` (view: the HxWx3 uint8 RGB frame to show, packet: its metadata),
`poll()` (called while no frame comes, so a window keeps answering), `close()`, and two flags:
`overlay` (draw the figures on what it shows) and `keys` (it takes key presses: show their help).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from portrait_style.config import EncodeConfig
from portrait_style.engine.frame import FramePacket
from portrait_style.engine.video_io import VideoInfo, VideoWriter


class NullSink:
    """Shows nothing: what is left is the pipeline's own time (the live benchmark)."""

    overlay = False
    keys = False

    def __init__(self) -> None:
        self.frames = 0

    def show(self, view: np.ndarray, packet: FramePacket) -> None:
        self.frames += 1

    def poll(self) -> None:
        pass

    def close(self) -> None:
        pass


class FileSink:
    """An H.264 file through `VideoWriter`, each frame at its packet's own timestamp.

    Files jobs call `write(packet)` (the packet's output); live runs call `show(view, packet)` (what the
    viewer sees, with the packet's timestamp). Closing on success moves the file into place; `abort()`
    (or leaving the `with` block on an exception) removes it.
    """

    overlay = False
    keys = False

    def __init__(
        self,
        path: str | os.PathLike,
        info: VideoInfo,
        encode: EncodeConfig = EncodeConfig(),
        audio_source: str | os.PathLike | None = None,
    ):
        self.path = Path(path)
        self.writer = VideoWriter(self.path, info, encode, audio_source=audio_source)

    @property
    def frames_written(self) -> int:
        return self.writer.frames_written

    def write(self, packet: FramePacket) -> None:
        self.writer.write(packet)

    def show(self, view: np.ndarray, packet: FramePacket) -> None:
        frame = FramePacket(index=packet.index, image=view, pts=packet.pts, time_base=packet.time_base)
        self.writer.write(frame)

    def poll(self) -> None:
        pass

    def close(self) -> None:
        self.writer.close()

    def abort(self) -> None:
        self.writer.abort()

    def __enter__(self) -> FileSink:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.writer.__exit__(exc_type, exc, tb)
