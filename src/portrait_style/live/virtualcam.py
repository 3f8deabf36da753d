"""A virtual camera other programs (video calls, OBS) can pick: Linux v4l2loopback through pyvirtualcam.

pyvirtualcam is an optional extra, `pip install 'portrait-style[virtualcam]'`, because it is licensed
GPL-2.0 (this package is Apache-2.0); it also drives OBS's virtual camera on Windows and macOS. On Linux
the kernel module makes the device:

    sudo modprobe v4l2loopback devices=1 exclusive_caps=1 card_label="portrait-style"

Frames are sent as they come (the camera's own rate sets the pace); no overlay is drawn on them.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from portrait_style.engine.frame import FramePacket
from portrait_style.errors import OutputError

MODPROBE = 'sudo modprobe v4l2loopback devices=1 exclusive_caps=1 card_label="portrait-style"'


def _pyvirtualcam_camera(width: int, height: int, fps: float, device: str | None):
    """The device layer: an open `pyvirtualcam.Camera` taking RGB frames."""
    try:
        import pyvirtualcam
    except ModuleNotFoundError:
        raise OutputError(
            "--output virtualcam needs pyvirtualcam (GPL-2.0, an optional extra):"
            " pip install 'portrait-style[virtualcam]'"
        ) from None
    return pyvirtualcam.Camera(width, height, fps, fmt=pyvirtualcam.PixelFormat.RGB, device=device)


class VirtualCamSink:
    overlay = False
    keys = False

    def __init__(
        self,
        width: int,
        height: int,
        fps: float,
        device: str | None = None,
        open_camera: Callable | None = None,
    ):
        self.width, self.height = width, height
        open_camera = open_camera or _pyvirtualcam_camera
        try:
            self.camera = open_camera(width, height, fps, device)
        except RuntimeError as exc:  # pyvirtualcam's way of saying there is no usable device
            where = device or "any /dev/video*"
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise OutputError(
                f"no virtual camera device at {where} ({first}); create one with: {MODPROBE}"
            ) from None
        self.device = getattr(self.camera, "device", device)
        self.sent = 0

    def show(self, view: np.ndarray, packet: FramePacket) -> None:
        if view.shape[:2] != (self.height, self.width):  # the device's size is fixed when it opens
            view = cv2.resize(view, (self.width, self.height), interpolation=cv2.INTER_AREA)
        self.camera.send(np.ascontiguousarray(view))
        self.sent += 1

    def poll(self) -> None:
        pass

    def close(self) -> None:
        self.camera.close()
