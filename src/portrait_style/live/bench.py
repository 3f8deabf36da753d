"""`portrait-style bench --live`: a paced camera (a clip delivered at its frame rate, looping) through a
style for N seconds per mode, into a sink that shows nothing; frame rate, capture-to-sink latency
(p50/p95) and dropped frames, as `portrait-style live` reports them."""

from __future__ import annotations

import tempfile
from fractions import Fraction
from pathlib import Path

import numpy as np

from portrait_style.config import LiveConfig
from portrait_style.engine.frame import FramePacket
from portrait_style.engine.video_io import VideoInfo, VideoWriter
from portrait_style.hardware import machine_name


def synthetic_clip(path: Path, width: int = 640, height: int = 480, fps: int = 30, frames: int = 60) -> Path:
    """A moving colour pattern (no faces: face mode then times detection and tracking only)."""
    info = VideoInfo(width=width, height=height, fps=Fraction(fps), time_base=Fraction(1, fps))
    y, x = np.mgrid[0:height, 0:width]
    with VideoWriter(path, info) as writer:
        for i in range(frames):
            image = np.stack([(x + 8 * i) % 256, (y + 4 * i) % 256, np.full_like(x, 40 + 3 * i) % 256], -1)
            writer.write(FramePacket(index=i, image=image.astype(np.uint8), pts=i, time_base=info.time_base))
    return path


def bench_live(
    style: str | None = None,
    model: str | None = None,
    modes: tuple[str, ...] = ("face", "frame"),
    seconds: float = 10.0,
    clip: str | None = None,
    fps: float = 30.0,
    faces=None,
) -> dict:
    from portrait_style.api import Stylizer
    from portrait_style.live.controls import LiveControls
    from portrait_style.live.session import run_live
    from portrait_style.live.sinks import NullSink
    from portrait_style.live.sources import PacedFileCamera

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        camera_clip = Path(clip) if clip else synthetic_clip(Path(tmp) / "camera.mp4", fps=round(fps))
        for mode in modes:
            stylizer = Stylizer(style=style, model=model, mode=mode, faces=faces)
            stylizer.warmup()
            camera = PacedFileCamera(camera_clip, fps=fps, loop=True)
            controls = LiveControls([stylizer.name], mode=mode)
            stats = run_live(camera, stylizer.stages(), NullSink(), controls, LiveConfig(), seconds=seconds)
            rows.append({"mode": mode, "backend": stylizer.backend.describe(), **stats.summary()})
            size = f"{camera.width}x{camera.height}"
    return {
        "machine": machine_name(),
        "style": stylizer.name,
        "camera": {"clip": Path(clip).name if clip else "synthetic (no faces)", "size": size, "fps": fps},
        "seconds_per_mode": seconds,
        "live": rows,
    }
