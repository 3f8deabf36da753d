"""`portrait-style live` from the command line: a run that records, the one-line errors and their exit
codes, and Ctrl-C ending a run within about a second from each output that can run here."""

import os
import signal
import subprocess
import sys
import time

import pytest

from portrait_style.cli import main
from tests.media import make_video, video_times
from tests.models import make_style


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("PORTRAIT_STYLE_CACHE", str(tmp_path / "cache"))


@pytest.fixture
def clip(tmp_path):
    return make_video(tmp_path / "cam.mp4", size=(96, 64), n_frames=30, fps=30, audio=False).path


@pytest.fixture
def style(tmp_path):
    return str(make_style(tmp_path, "frame"))


def test_live_records_a_file_camera_and_prints_the_figures(tmp_path, capsys, clip, style):
    out = tmp_path / "rec.mp4"
    code = main(["live", "--camera", str(clip), "--model", style, "--output", str(out), "--seconds", "1.5"])
    err = capsys.readouterr().err
    assert code == 0, err
    times = video_times(out)
    assert 20 <= len(times) <= 50 and times == sorted(times)
    summary = err.strip().splitlines()[-1]
    assert (
        summary.startswith("live: ")
        and "fps" in summary
        and "latency p50" in summary
        and "dropped" in summary
    )


@pytest.mark.parametrize(
    "argv, code, message",
    [
        (["--camera", "/dev/video77"], 2, "camera /dev/video77: not found"),
        (["--camera", "missing.mp4"], 2, "no such camera or file"),
        (["--output", "screen"], 3, "--output screen: expected window, virtualcam, web"),
        (["--seconds", "-1"], 2, "must be a positive number"),
        (["--style", "no-such-style"], 4, "no-such-style"),
    ],
    ids=["no-device", "no-file", "bad-output", "bad-seconds", "bad-style"],
)
def test_bad_input_is_one_line_and_an_exit_code(capsys, clip, style, argv, code, message):
    base = ["live", "--camera", str(clip)]
    base += [] if "--style" in argv else ["--model", style]
    try:
        assert main([*base, *argv]) == code
    except SystemExit as exc:  # argparse's own checks exit directly
        assert exc.code == code
    err = capsys.readouterr().err.strip()
    assert message in err and "Traceback" not in err
    assert len([line for line in err.splitlines() if line.startswith("error:")]) == 1


def test_virtualcam_without_a_device_is_one_line(capsys, clip, style):
    if any(p.startswith("video") for p in os.listdir("/dev")):
        pytest.skip("this machine has video devices")
    assert main(["live", "--camera", str(clip), "--model", style, "--output", "virtualcam"]) == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: ") and ("modprobe v4l2loopback" in err[-1] or "[virtualcam]" in err[-1])


def interrupt_after_start(argv, env, wait_for: str) -> tuple[float, int, str]:
    """Start the CLI, wait for `wait_for` and a second more, Ctrl-C it: (seconds to exit, code, stderr)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "portrait_style.cli", *argv], stderr=subprocess.PIPE, text=True, env=env
    )
    lines = []
    deadline = time.monotonic() + 60
    while not any(wait_for in line for line in lines):
        line = proc.stderr.readline()
        if not line and proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail("live did not start: " + "".join(lines))
        lines.append(line)
    time.sleep(1.0)
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    try:
        rest = proc.communicate(timeout=10)[1]
    except subprocess.TimeoutExpired:
        proc.kill()  # what it printed says where it hung (seen once under a parallel import storm)
        pytest.fail("live did not stop on Ctrl-C: " + "".join(lines) + proc.communicate()[1][-2000:])
    return time.monotonic() - sent, proc.returncode, "".join(lines) + rest


@pytest.mark.parametrize("output", ["web", "file", "window"])
def test_ctrl_c_stops_within_a_second(request, tmp_path, clip, style, output):
    env = dict(os.environ)
    target = {"web": "web", "file": str(tmp_path / "rec.mp4"), "window": "window"}[output]
    if output == "window":
        env["DISPLAY"] = request.getfixturevalue("xvfb")
    argv = ["live", "--camera", str(clip), "--model", style, "--output", target, "--port", "0"]
    seconds, code, err = interrupt_after_start(argv, env, "Ctrl-C to stop")
    assert code == 130 and err.strip().endswith("interrupted"), err
    assert seconds < 1.0 + 0.5  # within a second, plus the interpreter's own exit
    assert "live: " in err.strip().splitlines()[-2]  # the figures, printed on the way out
    if output == "file":  # Ctrl-C is how a live recording ends: the file is finished, not thrown away
        assert len(video_times(tmp_path / "rec.mp4")) > 10
