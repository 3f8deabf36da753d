"""The web page: MJPEG stream, figures, controls and the token rule over real HTTP, then in Debian's
headless chromium through chromium-driver (skipped when those are not installed)."""

import json
import os
import threading
import time
import urllib.error
import urllib.request

import cv2
import numpy as np
import pytest

from portrait_style.config import LiveConfig
from portrait_style.errors import OutputError
from portrait_style.live.controls import LiveControls
from portrait_style.live.session import run_live
from portrait_style.live.sources import PacedFileCamera
from portrait_style.live.stats import LiveStats
from portrait_style.live.web import WebSink
from tests.live.webdriver import Chromium, chromium_available
from tests.media import make_video


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    folder = tmp_path_factory.mktemp("clip")
    return make_video(folder / "cam.mp4", size=(160, 120), n_frames=30, fps=30, audio=False).path


def invert(packet):
    packet.output = 255 - packet.image
    packet.meta.update(style="invert", mode="frame", backend="numpy")
    return packet


def start_live(clip, sink, controls, stats, seconds=30):
    thread = threading.Thread(
        target=run_live,
        args=(PacedFileCamera(clip), [("invert", invert)], sink, controls, LiveConfig()),
        kwargs=dict(seconds=seconds, stats=stats),
    )
    thread.start()
    return thread


def fetch(url, method="GET", headers=None):
    request = urllib.request.Request(url, method=method, headers=headers or {})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, response.headers.get("Content-Type"), response.read()


def mjpeg_frames(url, n):
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.headers["Content-Type"].startswith("multipart/x-mixed-replace")
        frames, buffer = [], b""
        while len(frames) < n:
            buffer += response.read1(65536)
            while (start := buffer.find(b"\xff\xd8")) >= 0 and (end := buffer.find(b"\xff\xd9", start)) >= 0:
                frames.append(
                    cv2.imdecode(np.frombuffer(buffer[start : end + 2], np.uint8), cv2.IMREAD_COLOR)
                )
                buffer = buffer[end + 2 :]
        return frames


def test_stream_stats_and_controls_over_http(clip):
    controls, stats = LiveControls(["invert"]), LiveStats()
    sink = WebSink(controls, port=0, stats=stats)
    assert sink.token is None and sink.url.startswith("http://127.0.0.1:")
    thread = start_live(clip, sink, controls, stats)
    try:
        frames = mjpeg_frames(sink.url + "stream.mjpg", 6)
        assert all(f.shape == (120, 160, 3) for f in frames)
        assert np.abs(frames[0].astype(int) - frames[-1]).mean() > 2  # the picture moves
        status, ctype, body = fetch(sink.url + "control/split", "POST")
        assert status == 200 and json.loads(body)["split"] is True and controls.split
        with pytest.raises(urllib.error.HTTPError) as info:
            fetch(sink.url + "control/explode", "POST")
        assert info.value.code == 404
        time.sleep(0.6)
        state = json.loads(fetch(sink.url + "stats.json")[2])
        assert state["style"] == "invert" and state["fps"] > 10 and state["latency_p95_ms"] > 0
        status, ctype, _ = fetch(sink.url + "frame.jpg")
        assert ctype == "image/jpeg"
        fetch(sink.url + "control/quit", "POST")
        thread.join(3)
        assert not thread.is_alive()  # the quit button ended the run, and the server with it
    finally:
        controls.handle("quit")
        thread.join()
    with pytest.raises(urllib.error.URLError):
        fetch(sink.url + "stats.json")


def test_any_other_address_needs_the_token():
    sink = WebSink(LiveControls(["x"]), host="0.0.0.0", port=0)
    try:
        assert sink.token and f"?token={sink.token}" in sink.url
        base = f"http://127.0.0.1:{sink.port}/"
        for url in (base, base + "stats.json", base + "?token=wrong"):
            with pytest.raises(urllib.error.HTTPError) as info:
                fetch(url)
            assert info.value.code == 403
        with pytest.raises(urllib.error.HTTPError):
            fetch(base + "control/quit", "POST")
        assert not sink.controls.quit.is_set()
        assert fetch(base + f"?token={sink.token}")[0] == 200
        assert fetch(base + "stats.json", headers={"X-Token": sink.token})[0] == 200
    finally:
        sink.close()


def test_port_in_use_is_one_clear_error():
    first = WebSink(LiveControls(["x"]), port=0)
    try:
        with pytest.raises(OutputError, match=f"cannot serve the page on 127.0.0.1:{first.port}"):
            WebSink(LiveControls(["x"]), port=first.port)
    finally:
        first.close()


@pytest.mark.skipif(not chromium_available(), reason="needs Debian's chromium and chromium-driver")
def test_page_in_headless_chromium(clip, tmp_path):
    controls, stats = LiveControls(["invert"]), LiveStats()
    sink = WebSink(controls, port=0, stats=stats)
    thread = start_live(clip, sink, controls, stats)
    browser = Chromium(size="760,760")
    try:
        browser.get(sink.url)
        time.sleep(1.5)
        first = cv2.imdecode(np.frombuffer(browser.screenshot("#view"), np.uint8), cv2.IMREAD_COLOR)
        time.sleep(0.5)
        second = cv2.imdecode(np.frombuffer(browser.screenshot("#view"), np.uint8), cv2.IMREAD_COLOR)
        assert first.shape[1] == 640 and abs(first.shape[0] - 480) <= 2  # the 4:3 stream shown in the page
        assert np.abs(first.astype(int) - second).mean() > 2  # frames change over time
        assert "fps" in browser.text("#stats") and "invert" in browser.text("#stats")
        browser.click("#cmd-mirror")
        time.sleep(0.3)
        assert controls.mirror  # a button on the page reached the running session
        time.sleep(1.0)
        assert "mirrored" in browser.text("#stats")
        if os.environ.get("LIVE_TEST_SCREENS"):
            with open(f"{os.environ['LIVE_TEST_SCREENS']}/web-page.png", "wb") as f:
                f.write(browser.screenshot())
        browser.click("#cmd-quit")
        thread.join(3)
        assert not thread.is_alive()
    finally:
        browser.close()
        controls.handle("quit")
        thread.join()
