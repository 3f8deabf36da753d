"""One live run: a source, a style that can be switched while running, a sink, and the figures.

`run_live` runs the threaded pipeline with the "latest" policy (every hop keeps only the newest frame),
composes what the viewer asked for (before/after split, mirror), saves snapshots, draws the overlay
for sinks that show it, and records fps, capture-to-sink latency and dropped frames in `LiveStats`.
It ends when the source ends, the viewer quits, `seconds` pass, or on Ctrl-C (KeyboardInterrupt is
re-raised after the sink and source are closed, within `LiveConfig.join_timeout_s` or so).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np

from portrait_style.config import LiveConfig, PipelineConfig
from portrait_style.engine.frame import FramePacket
from portrait_style.engine.image_io import write_image
from portrait_style.engine.pipeline import PipelineStats, run_pipeline
from portrait_style.live.controls import KEY_HELP, LiveControls, StopLive
from portrait_style.live.stats import LiveStats

log = logging.getLogger(__name__)


class StyleSwitcher:
    """The three pipeline stages, run by whichever stylizer the controls choose at the frame's detect.

    make(style, mode) builds a `Stylizer`; the first is built at once (so a bad style fails before the
    camera starts), later ones in a background thread while the current one keeps running.
    """

    def __init__(self, make: Callable[[str, str], object], controls: LiveControls):
        self._make, self.controls = make, controls
        self._lock = threading.Lock()
        self._ready: dict[tuple[str, str], object] = {}
        self._loading: set[tuple[str, str]] = set()
        self._failed: dict[tuple[str, str], BaseException] = {}
        self._key = (controls.style, controls.mode)
        first = make(*self._key)
        controls.mode = first.mode  # the style's own mode when none was asked for
        self._key = (controls.style, first.mode)
        self._ready[self._key] = first

    def _load(self, key: tuple[str, str]) -> None:
        try:
            stylizer = self._make(*key)
        except Exception as exc:
            with self._lock:
                self._failed[key] = exc
        else:
            with self._lock:
                self._ready[key] = stylizer
        finally:
            with self._lock:
                self._loading.discard(key)

    def current(self) -> object:
        key = (self.controls.style, self.controls.mode)
        with self._lock:
            if key in self._failed:
                raise self._failed.pop(key)
            if key in self._ready:
                self._key = key
            elif key not in self._loading:
                self._loading.add(key)
                threading.Thread(target=self._load, args=(key,), name="live-style-load", daemon=True).start()
            return self._ready[self._key]

    @property
    def loading(self) -> bool:
        return bool(self._loading)

    def detect(self, packet: FramePacket) -> FramePacket:
        stylizer = self.current()
        packet.meta.update(stylizer=stylizer, style=stylizer.name, mode=stylizer.mode)
        packet.meta["backend"] = stylizer.backend.describe()
        return stylizer.detect(packet)

    def infer(self, packet: FramePacket) -> FramePacket:
        return packet.meta["stylizer"].infer(packet)

    def composite(self, packet: FramePacket) -> FramePacket:
        packet = packet.meta["stylizer"].composite(packet)
        packet.meta.pop("stylizer")  # not needed at the sink: let the stylizer go if it is switched away
        return packet

    def stages(self) -> list[tuple[str, Callable[[FramePacket], FramePacket]]]:
        return [("detect", self.detect), ("infer", self.infer), ("composite", self.composite)]


def compose(packet: FramePacket, controls: LiveControls) -> np.ndarray:
    """The frame to show: the styled output, left half unstyled in split mode, mirrored if asked."""
    view = packet.output if packet.output is not None else packet.image
    if controls.split:
        view = view.copy()
        half = view.shape[1] // 2
        view[:, :half] = packet.image[:, :half]
        view[:, half : half + 1] = 255
    if controls.mirror:
        view = view[:, ::-1]
    return np.ascontiguousarray(view)


def draw_overlay(view: np.ndarray, lines: list[str], footer: str = "") -> np.ndarray:
    """Text lines on a dark band at the top (and a footer at the bottom), scaled to the frame width."""
    out = view.copy()
    h, w = out.shape[:2]
    scale = max(0.35, min(1.0, w / 1280))
    step = int(26 * scale) + 4
    band = out[: step * len(lines) + 6]
    band[:] = (band * 0.45).astype(np.uint8)
    for i, text in enumerate(lines):
        cv2.putText(
            out, text, (8, step * (i + 1)), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 1, cv2.LINE_AA
        )
    if footer and h > 4 * step:
        cv2.putText(
            out, footer, (8, h - 8), cv2.FONT_HERSHEY_SIMPLEX, scale * 0.8, (255, 255, 0), 1, cv2.LINE_AA
        )
    return out


def overlay_lines(packet: FramePacket, stats: LiveStats, loading: bool = False) -> list[str]:
    meta = packet.meta
    style = f"{meta.get('style', '?')}  {meta.get('mode', '?')} mode  {meta.get('backend', '')}"
    return [style + ("  (loading...)" if loading else ""), stats.overlay_line()]


def run_live(
    source,
    stages,
    sink,
    controls: LiveControls,
    cfg: LiveConfig | None = None,
    seconds: float | None = None,
    stats: LiveStats | None = None,
    notify: Callable[[str], None] = log.info,
) -> LiveStats:
    """Run until the source ends, the viewer quits or `seconds` pass; return the figures.

    stages: a `StyleSwitcher` (whose loading state the overlay shows) or a list of (name, stage).
    sink: has `show(view, packet)`, `poll()`, `close()` and `overlay` (whether it shows the figures).
    """
    cfg = cfg or LiveConfig()
    stats = stats or LiveStats(cfg.stats_window)
    switcher = stages if isinstance(stages, StyleSwitcher) else None
    stage_list = switcher.stages() if switcher else list(stages)
    pipeline_stats = PipelineStats()
    deadline = time.monotonic() + seconds if seconds else None
    snapshot_dir = Path(cfg.snapshot_dir)

    def check() -> None:
        controls.check()
        if deadline is not None and time.monotonic() >= deadline:
            raise StopLive

    def deliver(packet: FramePacket) -> None:
        view = compose(packet, controls)
        if controls.take_snapshot():
            path = snapshot_dir / f"snapshot-{time.strftime('%Y%m%d-%H%M%S')}-{packet.index}.png"
            write_image(path, view)
            notify(f"saved {path}")
        if sink.overlay and controls.overlay:
            loading = switcher.loading if switcher else False
            view = draw_overlay(view, overlay_lines(packet, stats, loading), KEY_HELP if sink.keys else "")
        sink.show(view, packet)
        stats.dropped_pipeline = pipeline_stats.dropped
        stats.dropped_source = getattr(source, "dropped", 0)
        stats.record(packet.captured)
        check()

    def idle() -> None:
        sink.poll()
        check()

    config = replace(PipelineConfig(policy="latest"), join_timeout_s=cfg.join_timeout_s)
    stats.start()
    try:
        run_pipeline(source, stage_list, deliver, config, stats=pipeline_stats, on_idle=idle)
    except StopLive:
        pass
    finally:
        stats.dropped_pipeline = pipeline_stats.dropped
        stats.dropped_source = getattr(source, "dropped", 0)
        try:
            sink.close()
        finally:
            source.close()
    return stats
