"""A private X server (Xvfb) for window tests; skipped where Xvfb is not installed."""

import os
import shutil
import subprocess
import time

import pytest


@pytest.fixture
def xvfb(monkeypatch):
    if not shutil.which("Xvfb"):
        pytest.skip("Xvfb is not installed (apt install xvfb)")
    for display in range(90, 140):
        if not os.path.exists(f"/tmp/.X11-unix/X{display}") and not os.path.exists(f"/tmp/.X{display}-lock"):
            break
    proc = subprocess.Popen(
        ["Xvfb", f":{display}", "-screen", "0", "800x600x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while not os.path.exists(f"/tmp/.X11-unix/X{display}"):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.skip("Xvfb did not start")
        time.sleep(0.05)
    monkeypatch.setenv("DISPLAY", f":{display}")
    yield f":{display}"
    proc.terminate()
    proc.wait(5)
