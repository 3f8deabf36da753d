"""The Tk preview window for real, on a private Xvfb display: frames shown, real key presses (xdotool)."""

import os
import shutil
import subprocess
import threading
import time

import av
import numpy as np
import pytest

from portrait_style.api import Stylizer
from portrait_style.config import LiveConfig
from portrait_style.engine.image_io import write_image
from portrait_style.errors import OutputError
from portrait_style.live.controls import LiveControls
from portrait_style.live.session import StyleSwitcher, run_live
from portrait_style.live.sources import PacedFileCamera
from tests.media import make_video
from tests.models import make_style

tk = pytest.importorskip("tkinter")


def grab(display: str) -> np.ndarray:
    """The X screen as RGB, through FFmpeg's x11grab (PyAV)."""
    with av.open(display, format="x11grab", options={"video_size": "800x600"}) as container:
        return next(container.decode(video=0)).to_ndarray(format="rgb24")


def test_window_shows_frames_with_overlay_and_answers_keys(xvfb, tmp_path, monkeypatch):
    if not shutil.which("xdotool"):
        pytest.skip("xdotool is not installed (apt install xdotool)")
    from portrait_style.live.window import WindowSink

    monkeypatch.setenv("PORTRAIT_STYLE_CACHE", str(tmp_path / "cache"))
    clip = make_video(tmp_path / "cam.mp4", size=(320, 240), n_frames=30, fps=30, audio=False).path
    style = str(make_style(tmp_path, "frame"))
    controls = LiveControls([style], mode="frame")
    switcher = StyleSwitcher(lambda s, m: Stylizer(model=s, mode=m), controls)
    sink = WindowSink(controls, title="live-test")
    screens = {}

    def viewer():  # a person at the keyboard: look, press b (before/after), look, press q
        time.sleep(1.5)
        screens["styled"] = grab(xvfb)
        xdotool = ["xdotool", "search", "--name", "live-test", "windowfocus", "--sync", "key"]
        subprocess.run([*xdotool, "b"], check=True, timeout=10)
        time.sleep(0.7)
        screens["split"] = grab(xvfb)
        subprocess.run([*xdotool, "q"], check=True, timeout=10)

    thread = threading.Thread(target=viewer)
    thread.start()
    start = time.monotonic()
    stats = run_live(PacedFileCamera(clip), switcher, sink, controls, LiveConfig(), seconds=20)
    thread.join()
    if os.environ.get("LIVE_TEST_SCREENS"):  # to look at them
        for name, screen in screens.items():
            write_image(f"{os.environ['LIVE_TEST_SCREENS']}/window-{name}.png", screen)
    assert time.monotonic() - start < 10  # q ended it, not the 20 s limit
    assert controls.split and controls.quit.is_set()
    assert sink.shown > 20 and stats.frames == sink.shown
    styled, split = screens["styled"][:240, :320].astype(int), screens["split"][:240, :320].astype(int)
    assert styled[60:, :].std() > 10  # a picture, not an empty window
    assert (styled[:20] < styled[60:80]).mean() > 0.5  # the overlay's darkened band over the top
    assert np.abs(split[100:, :150] - styled[100:, :150]).mean() > 5  # left half: now the unstyled camera


def test_no_display_is_one_clear_error(monkeypatch):
    from portrait_style.live.window import WindowSink

    monkeypatch.delenv("DISPLAY", raising=False)
    with pytest.raises(OutputError, match="cannot open a window"):
        WindowSink(LiveControls(["x"]))
