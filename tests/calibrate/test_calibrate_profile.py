"""Calibration profiles without calibrating: the machine key's runtimes, what a profile's frame size 0 says,
and `stylizer_settings` as `run_settings` with every backend flag on auto."""

from __future__ import annotations

import json
from importlib import metadata

import pytest

from portrait_style import hardware
from portrait_style.calibrate import profile
from portrait_style.engine.backends import BackendSpec
from tests.models import make_style


@pytest.fixture
def installed(monkeypatch):
    """The distributions `importlib.metadata` reports installed: a dict the test fills."""
    versions = {"onnxruntime": "1.20.0", "torch": "2.5.0"}

    def version(dist):
        try:
            return versions[dist]
        except KeyError:
            raise metadata.PackageNotFoundError(dist) from None

    monkeypatch.setattr(metadata, "version", version)
    monkeypatch.setattr(hardware, "machine_name", lambda: "Test CPU (2 cores), Test GPU")
    return versions


def test_the_machine_key_follows_the_tensorrt_version(installed):
    absent = profile.machine_identity()
    assert absent["versions"]["tensorrt"] == "absent"
    installed["tensorrt"] = "10.3.0"
    first = profile.machine_identity()
    assert first["versions"] == {"onnxruntime": "1.20.0", "torch": "2.5.0", "tensorrt": "10.3.0"}
    installed["tensorrt"] = "10.4.0"  # an upgrade: profiles timed with 10.3 are not found any more
    second = profile.machine_identity()
    assert len({absent["key"], first["key"], second["key"]}) == 3
    del installed["tensorrt"]
    installed["tensorrt-cu12"] = "10.4.0"  # NVIDIA's per-CUDA wheel alone
    assert profile.machine_identity() == second


def _write_profile(style, mode, frame_size, options=None):
    path = profile.profile_path(style, mode)
    path.parent.mkdir(parents=True, exist_ok=True)
    choice = {
        "backend": "onnxruntime",
        "device": "cpu",
        "precision": "fp32",
        "options": options or {"threads": 1},
        "frame_size": frame_size,
    }
    path.write_text(json.dumps({"format": profile.FORMAT, "choice": choice}))
    return path


def test_stylizer_settings_are_run_settings_on_auto(tmp_path, monkeypatch):
    monkeypatch.setenv("PORTRAIT_STYLE_CACHE", str(tmp_path / "cache"))
    style = make_style(tmp_path, "frame")
    said = []
    assert profile.stylizer_settings(style, "frame", said.append) == {} and said == []  # no profile
    path = _write_profile(style, "frame", 0)
    settings = profile.stylizer_settings(style, "frame", said.append)
    assert settings == {"backend": BackendSpec("onnxruntime", "cpu", "fp32", {"threads": 1}), "frame_size": 0}
    assert said == [
        f"using calibration profile {path}: onnxruntime cpu fp32 threads=1, frame size 0 (as it comes)"
    ]

    calls = []

    def run_settings(*args):
        calls.append(args)
        return BackendSpec("torch", "cpu", "fp32"), 360

    monkeypatch.setattr(profile, "run_settings", run_settings)
    settings = profile.stylizer_settings(style, "frame", said.append)
    assert calls == [(BackendSpec(), None, style, "frame", True, said.append)]
    assert settings == {"backend": BackendSpec("torch", "cpu", "fp32"), "frame_size": 360}


def test_frame_size_zero_runs_frames_as_they_come(tmp_path, monkeypatch):
    monkeypatch.setenv("PORTRAIT_STYLE_CACHE", str(tmp_path / "cache"))
    style = make_style(tmp_path, "frame")
    _write_profile(style, "frame", 0)
    found = profile.find_profile(style, "frame")
    assert found.frame_size == 0 and found.describe().endswith(", frame size 0 (as it comes)")
    assert found.describe(540).endswith(", frame size 540")
    said = []
    spec, size = profile.run_settings(BackendSpec(), None, style, "frame", True, said.append)
    assert spec.options == {"threads": 1} and size == 0  # Stylizer: 0 brings nothing down
