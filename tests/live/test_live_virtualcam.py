"""The virtual-camera sink: frames reach the device (a fake device here, where none exists), and the
real pyvirtualcam's refusal without a v4l2loopback device becomes one clear line."""

import glob
import importlib.util

import numpy as np
import pytest

from portrait_style.config import LiveConfig
from portrait_style.errors import OutputError
from portrait_style.live.controls import LiveControls
from portrait_style.live.session import run_live
from portrait_style.live.sources import PacedFileCamera
from portrait_style.live.virtualcam import VirtualCamSink
from tests.media import make_video


class FakeLoopbackDevice:
    """The device layer: what pyvirtualcam.Camera does with frames (keeps them here)."""

    def __init__(self, width, height, fps, device):
        self.width, self.height, self.fps, self.device = width, height, fps, device or "/dev/video10"
        self.frames, self.closed = [], False

    def send(self, frame):
        assert frame.shape == (self.height, self.width, 3) and frame.dtype == np.uint8
        self.frames.append(frame.copy())

    def close(self):
        self.closed = True


def test_live_frames_go_to_the_virtual_camera(tmp_path):
    clip = make_video(tmp_path / "cam.mp4", size=(64, 48), n_frames=30, fps=30, audio=False).path
    devices = []

    def open_camera(*args):
        devices.append(FakeLoopbackDevice(*args))
        return devices[-1]

    def invert(packet):
        packet.output = 255 - packet.image
        return packet

    sink = VirtualCamSink(64, 48, 30.0, open_camera=open_camera)
    controls = LiveControls(["invert"])
    controls.handle("mirror")
    camera = PacedFileCamera(clip)
    seen = []

    def remember(packet):
        seen.append(packet.image)
        return invert(packet)

    run_live(camera, [("invert", remember)], sink, controls, LiveConfig(), seconds=1.0)
    device = devices[0]
    assert (device.width, device.height, device.fps) == (64, 48, 30.0) and device.closed
    assert 20 <= len(device.frames) == sink.sent
    # what the device got is the styled, mirrored frame, with no overlay drawn on it
    assert np.array_equal(device.frames[0], (255 - seen[0])[:, ::-1])


def test_frames_of_another_size_are_fitted_to_the_device():
    devices = []
    sink = VirtualCamSink(
        32, 24, 30.0, open_camera=lambda *a: devices.append(FakeLoopbackDevice(*a)) or devices[-1]
    )
    sink.show(np.zeros((48, 64, 3), np.uint8), None)
    assert devices[0].frames[0].shape == (24, 32, 3)


@pytest.mark.skipif(importlib.util.find_spec("pyvirtualcam") is None, reason="pyvirtualcam is not installed")
@pytest.mark.skipif(bool(glob.glob("/dev/video*")), reason="this machine has video devices")
def test_no_loopback_device_says_how_to_make_one():
    with pytest.raises(OutputError, match="no virtual camera device .*modprobe v4l2loopback"):
        VirtualCamSink(64, 48, 30.0)  # the real pyvirtualcam, on a machine without the module


def test_missing_extra_names_it(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_pyvirtualcam(name, *args, **kwargs):
        if name == "pyvirtualcam":
            raise ModuleNotFoundError("No module named 'pyvirtualcam'", name="pyvirtualcam")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pyvirtualcam)
    with pytest.raises(OutputError, match=r"portrait-style\[virtualcam\].*|GPL-2.0"):
        VirtualCamSink(64, 48, 30.0)
