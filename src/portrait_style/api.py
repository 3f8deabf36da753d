"""The Python API: `Stylizer(style="studio").stylize(frame)`, and the same stages for the pipeline.

A frame's whole path is here, in three stages the threaded pipeline runs side by side:

    detect     face mode: track faces, cut aligned square crops      frame mode: pad the frame
    infer      run the generator on every crop of the frame in one batch
    composite  face mode: feathered, colour-matched paste-back       frame mode: unpad

Frames are HxWx3 uint8 RGB numpy arrays.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from dataclasses import replace

import cv2
import numpy as np

from portrait_style.config import FaceConfig, PipelineConfig
from portrait_style.engine.backends import Backend, BackendSpec, load_backend
from portrait_style.engine.faces.cuts import CutDetector
from portrait_style.engine.faces.geometry import SteadyFaceTables
from portrait_style.engine.frame import FramePacket
from portrait_style.engine.style_meta import SIZE_MULTIPLE, read_meta
from portrait_style.engine.styles import resolve_style
from portrait_style.errors import ModelError
from portrait_style.options import MODES, check_face_config
from portrait_style.options import check_frame as _check_frame


def pad_to_multiple(image: np.ndarray, multiple: int = SIZE_MULTIPLE) -> np.ndarray:
    """Reflect-pad bottom/right so height and width are multiples of `multiple` (no copy when they are)."""
    h, w = image.shape[:2]
    ph, pw = -h % multiple, -w % multiple
    if not ph and not pw:
        return image
    return np.pad(image, ((0, ph), (0, pw), (0, 0)), mode="reflect" if min(h, w) > 1 else "edge")


class Stylizer:
    """Apply one style to frames.

    style: a built-in style name (see `portrait-style styles`); model: a path to a style checkpoint
    (wins over `style`). mode: "face" (stylize aligned face crops and paste them back) or "frame"
    (the whole frame); defaults to the mode the style was trained for. frame_size: in frame mode,
    stylize frames at this shorter side and scale the result back (0: as they come; default: the
    style's own setting). backend/device/precision: see `engine.backends` ("auto" picks the fastest
    available); or pass a whole `BackendSpec` (options too) as `backend`.

    `stylize` tracks faces from call to call, as for consecutive video frames; call `reset()` before
    an unrelated image.
    """

    def __init__(
        self,
        style: str | None = None,
        model: str | None = None,
        mode: str | None = None,
        backend: str | BackendSpec = "auto",
        device: str = "auto",
        precision: str = "auto",
        faces: FaceConfig | None = None,
        frame_size: int | None = None,
    ):
        self.style_path = resolve_style(style, model)
        self.meta = read_meta(self.style_path)
        self.mode = mode or self.meta.mode
        if self.mode not in MODES:
            raise ModelError(f"unknown mode '{self.mode}'; choose from {', '.join(MODES)}")
        self.frame_size = self.meta.frame_size if frame_size is None else frame_size
        if self.frame_size < 0:
            raise ValueError(f"frame_size must be >= 0: {self.frame_size}")
        spec = backend if isinstance(backend, BackendSpec) else BackendSpec(backend, device, precision)
        self.backend: Backend = load_backend(self.style_path, spec)
        # Face crops are cut at the resolution the style was trained on, so its textures keep their scale.
        self.face_config = faces or FaceConfig(crop_size=self.meta.resolution)
        check_face_config(self.face_config)
        # a look whose light follows the faces needs them in frame mode too (but no crops)
        self.look_faces = self.mode == "frame" and bool(self.meta.arch_args.get("uses_faces"))
        self.tracker = None
        if self.mode == "face" or self.look_faces:
            from portrait_style.engine.faces.detectors import make_detector
            from portrait_style.engine.faces.tracker import FaceTracker

            tracking = self.face_config
            if self.look_faces:  # no face in view: look for one as often as a tracked one is checked
                tracking = replace(tracking, search_every=max(tracking.search_every, tracking.detect_every))
            self.tracker = FaceTracker(make_detector(tracking), tracking)
        self.cuts = None  # the faces known from the last shot are dropped at a cut
        if self.tracker is not None and self.face_config.cut_min_change > 0:
            c = self.face_config
            self.cuts = CutDetector(c.cut_min_change, c.cut_ratio, c.cut_window, c.cut_min_shot)
        self.steady_faces = None
        if self.look_faces:
            c = self.face_config
            self.steady_faces = SteadyFaceTables(
                c.light_min_cutoff, c.light_beta, c.smooth_fps, c.light_size_beta,
                c.light_hold_s, c.light_fade_s, c.light_rest,
            )  # fmt: skip

    @property
    def name(self) -> str:
        return self.meta.name

    def reset(self) -> None:
        """Forget tracked faces (a new video, or an unrelated image)."""
        if self.cuts is not None:
            self.cuts.reset()
        if self.tracker is not None:
            self.tracker.reset()
        if self.steady_faces is not None:
            self.steady_faces.reset()

    def warmup(self) -> None:
        size = self.face_config.crop_size
        self.backend.warmup(size, size)

    # -- the three stages ---------------------------------------------------------------------------
    def detect(self, packet: FramePacket) -> FramePacket:
        if self.cuts is not None and self.cuts(packet.image):
            # the infer stage drops its lights when this frame reaches it (it runs in another thread)
            packet.meta["cut"] = True
            self.tracker.reset()
        if self.look_faces:
            packet.faces = self.tracker.update(packet.image, t=self._time(packet))
        if self.mode == "frame":
            packet.crops = pad_to_multiple(self._to_work_size(packet.image))[None]
            return packet
        from portrait_style.engine.faces.composite import crop_faces

        packet.faces = self.tracker.update(packet.image, t=self._time(packet))
        packet.crops, packet.transforms = crop_faces(packet.image, packet.faces, self.face_config)
        return packet

    @staticmethod
    def _time(packet: FramePacket) -> float | None:
        # Real timestamps keep the landmark smoothing right on variable-frame-rate video.
        return float(packet.pts * packet.time_base) if packet.pts is not None and packet.time_base else None

    def infer(self, packet: FramePacket) -> FramePacket:
        faces = None
        if self.look_faces:
            h, w = packet.image.shape[:2]  # frame-relative: the same table for the padded work copy
            if packet.meta.get("cut"):
                self.steady_faces.reset()
            faces = self.steady_faces(packet.faces, h, w, self._time(packet))[None]
        packet.styled = self.backend(packet.crops, faces) if len(packet.crops) else packet.crops
        return packet

    def composite(self, packet: FramePacket) -> FramePacket:
        if self.mode == "frame":
            h, w = packet.image.shape[:2]
            wh, ww = self._work_shape(h, w)
            styled = packet.styled[0, :wh, :ww]
            if (wh, ww) != (h, w):
                styled = cv2.resize(styled, (w, h), interpolation=cv2.INTER_CUBIC)
            packet.output = np.ascontiguousarray(styled)
        elif len(packet.styled):
            from portrait_style.engine.faces.composite import paste_back

            packet.output = paste_back(packet.image, packet.styled, packet.transforms, self.face_config)
        else:
            packet.output = packet.image
        return packet

    def _work_shape(self, h: int, w: int) -> tuple[int, int]:
        """Frame mode's working size: the shorter side brought down to frame_size (never up)."""
        if not self.frame_size or min(h, w) <= self.frame_size:
            return h, w
        scale = self.frame_size / min(h, w)
        return max(1, round(h * scale)), max(1, round(w * scale))

    def _to_work_size(self, image: np.ndarray) -> np.ndarray:
        h, w = image.shape[:2]
        wh, ww = self._work_shape(h, w)
        if (wh, ww) == (h, w):
            return image
        return cv2.resize(image, (ww, wh), interpolation=cv2.INTER_AREA)

    def stages(self) -> list[tuple[str, callable]]:
        return [("detect", self.detect), ("infer", self.infer), ("composite", self.composite)]

    # -- convenience --------------------------------------------------------------------------------
    def stylize(self, image: np.ndarray) -> np.ndarray:
        """Stylize one RGB uint8 frame (synchronously, in the calling thread)."""
        packet = FramePacket(index=0, image=_check_frame(image))
        for _, stage in self.stages():
            packet = stage(packet)
        return packet.output

    def stream(
        self, frames: Iterable[np.ndarray], config: PipelineConfig | None = None
    ) -> Iterator[np.ndarray]:
        """Stylize a stream of frames through the threaded pipeline, yielding results in order."""
        for packet in self.stream_packets(
            (FramePacket(index=i, image=_check_frame(f)) for i, f in enumerate(frames)), config
        ):
            yield packet.output

    def stream_packets(
        self, packets: Iterable[FramePacket], config: PipelineConfig | None = None
    ) -> Iterator[FramePacket]:
        """Like `stream`, for packets that carry metadata (pts, time base) through the pipeline."""
        from portrait_style.engine.pipeline import run_pipeline

        config = config or PipelineConfig()
        results: queue.Queue = queue.Queue(maxsize=config.queue_size)
        done = object()
        failure: list[BaseException] = []
        stop = threading.Event()

        def sink(packet: FramePacket) -> None:
            while not stop.is_set():
                try:
                    results.put(packet, timeout=0.1)
                    return
                except queue.Full:
                    continue
            raise GeneratorExit  # the consumer went away: stop the pipeline

        def run() -> None:
            try:
                run_pipeline(packets, self.stages(), sink, config)
            except BaseException as exc:  # handed to the consumer thread below
                failure.append(exc)
            finally:
                while True:
                    try:
                        results.put(done, timeout=0.1)
                        break
                    except queue.Full:
                        if stop.is_set():
                            break

        worker = threading.Thread(target=run, name="portrait-style-stream", daemon=True)
        worker.start()
        try:
            while (item := results.get()) is not done:
                yield item
        finally:
            stop.set()
            worker.join()
        if failure and not isinstance(failure[0], GeneratorExit):
            raise failure[0]
