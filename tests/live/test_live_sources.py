"""Sources: the paced file camera (real files, real clock), the OpenCV camera through a fake device."""

import threading
import time

import cv2
import numpy as np
import pytest

from portrait_style.config import LiveConfig
from portrait_style.live.sources import CameraError, CameraSource, FileSource, PacedFileCamera, open_source
from tests.media import frame_image, make_video


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return make_video(
        tmp_path_factory.mktemp("clip") / "clip.mp4", size=(64, 48), n_frames=10, fps=50, audio=False
    )


def blue_of(image):  # frame_image's blue channel is (40 + 11 * index) % 256: which frame this was
    return int(image[20:30, 20:40, 2].mean())


def test_paced_camera_delivers_in_order_at_the_clip_rate_and_loops(clip):
    camera = PacedFileCamera(clip.path)
    packets = []
    for packet in camera:
        packets.append(packet)
        if len(packets) == 25:
            break
    assert [p.index for p in packets] == list(range(25))  # a quick reader misses nothing
    assert camera.dropped == 0
    gaps = np.diff([p.captured for p in packets])
    assert gaps == pytest.approx(np.full(24, 1 / 50))  # the due times, one frame period apart
    assert abs(packets[-1].captured - time.monotonic()) < 0.05  # and real: it waited for them
    blues = [blue_of(p.image) for p in packets]
    assert blues[:10] == blues[10:20]  # the 10-frame clip came round again
    assert abs(blues[3] - (40 + 33)) <= 3


def test_paced_camera_skips_what_a_slow_reader_missed_like_a_camera(clip):
    camera = PacedFileCamera(clip.path)
    packets = []
    for packet in camera:
        packets.append(packet)
        time.sleep(0.05)  # 2.5 frame periods per frame
        if len(packets) == 8:
            break
    indices = [p.index for p in packets]
    assert indices == sorted(indices) and indices[-1] >= 14  # frames kept coming at 50 fps
    assert camera.dropped == indices[-1] + 1 - len(indices)  # every missed frame is counted
    for p in packets:  # the frame delivered is the one due at its index, not the next in the file
        assert abs(blue_of(p.image) - (40 + 11 * (p.index % 10)) % 256) <= 3


def test_paced_camera_plays_once_without_loop(clip):
    camera = PacedFileCamera(clip.path, loop=False)
    packets = list(camera)
    assert packets[-1].index == 9 and len(packets) + camera.dropped == 10


def test_file_source_stamps_decode_time(clip):
    before = time.monotonic()
    with FileSource(clip.path) as source:
        packets = list(source)
    assert len(packets) == 10 and source.info().width == 64
    assert all(before <= p.captured <= time.monotonic() for p in packets)


class FakeDevice:
    """The device layer only: what cv2.VideoCapture answers for a camera (BGR frames, properties)."""

    def __init__(self, frames_before_unplug=None, opens=True, gives_frames=True, fps=100.0):
        self.props, self.released, self.reads = {}, False, 0
        self.opens, self.gives_frames = opens, gives_frames
        self.frames_before_unplug, self.period = frames_before_unplug, 1 / fps

    def isOpened(self):
        return self.opens

    def set(self, prop, value):
        self.props[prop] = value
        return True

    def get(self, prop):
        return self.props.get(prop, 0.0)

    def read(self):
        self.reads += 1
        unplugged = self.frames_before_unplug is not None and self.reads > self.frames_before_unplug
        if not self.gives_frames or unplugged:
            return False, None
        time.sleep(self.period)
        rgb = frame_image(self.reads, 64, 48)
        return True, cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)

    def release(self):
        self.released = True


class FakeCameras:
    """Hands out the scripted devices in turn, as reopening a real camera would."""

    def __init__(self, *devices):
        self.devices, self.opened = list(devices), []

    def __call__(self, target, cfg):
        device = self.devices.pop(0) if self.devices else FakeDevice(opens=False)
        self.opened.append((target, device))
        return device


FAST = LiveConfig(reconnect_delay_s=0.01)


def take(source, n):
    out = []
    for packet in source:
        out.append(packet)
        if len(out) == n:
            break
    return out


def test_camera_asks_for_mjpg_size_and_rate_and_stamps_capture_times():
    cameras = FakeCameras(FakeDevice(fps=100))
    source = CameraSource("0", LiveConfig(width=1280, height=720, fps=60), open_capture=cameras)
    device = cameras.opened[0][1]
    assert cameras.opened[0][0] == 0  # "0" means device index 0
    assert device.props[cv2.CAP_PROP_FOURCC] == cv2.VideoWriter_fourcc(*"MJPG")
    assert (device.props[cv2.CAP_PROP_FRAME_WIDTH], device.props[cv2.CAP_PROP_FRAME_HEIGHT]) == (1280, 720)
    assert device.props[cv2.CAP_PROP_FPS] == 60 and device.props[cv2.CAP_PROP_BUFFERSIZE] == 1
    assert (source.width, source.height) == (64, 48)  # what the camera really gives
    before = time.monotonic()
    packets = take(source, 20)
    assert [p.index for p in packets] == list(range(20))
    captured = [p.captured for p in packets]
    assert before < captured[0] and captured == sorted(captured) and captured[-1] <= time.monotonic()
    assert 50 < source.fps < 110  # measured from the frames' arrival, not the camera's claim (60)
    assert np.array_equal(packets[0].image, frame_image(2, 64, 48))  # RGB; the probe frame was not reused
    assert packets[5].pts == round((captured[5] - captured[0]) * 1000)  # milliseconds
    source.close()
    assert device.released


def test_missing_or_busy_camera_is_one_clear_error():
    with pytest.raises(CameraError, match="cannot open"):
        CameraSource("3", open_capture=FakeCameras(FakeDevice(opens=False)))
    with pytest.raises(CameraError, match="gives no frames"):
        CameraSource("/dev/video3", open_capture=FakeCameras(FakeDevice(gives_frames=False)))
    with pytest.raises(CameraError, match="does not exist"):  # the real OpenCV path: no such device here
        CameraSource("/dev/video97")
    with pytest.raises(CameraError, match="no such camera or file"):
        open_source("no-such-clip.mp4")


def test_unplugged_camera_reconnects_and_carries_on():
    cameras = FakeCameras(FakeDevice(frames_before_unplug=6), FakeDevice(opens=False), FakeDevice())
    source = CameraSource("0", FAST, open_capture=cameras)
    packets = take(source, 12)
    assert [p.index for p in packets] == list(range(12)) and source.reconnects == 1
    assert len(cameras.opened) == 3  # one failed reopen, then a good one


def test_unplugged_camera_gives_up_after_the_reconnect_attempts():
    baseline = threading.active_count()
    cameras = FakeCameras(FakeDevice(frames_before_unplug=4))
    source = CameraSource("0", LiveConfig(reconnect_attempts=2, reconnect_delay_s=0.01), open_capture=cameras)
    with pytest.raises(CameraError, match="gave up after 2 reconnect attempts"):
        take(source, 100)
    assert len(cameras.opened) == 3 and threading.active_count() == baseline
