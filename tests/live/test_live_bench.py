"""`portrait-style bench --live`: the live figures as JSON, from a paced camera."""

import json

import pytest

from portrait_style.cli import main
from tests.models import make_style


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("PORTRAIT_STYLE_CACHE", str(tmp_path / "cache"))


def test_bench_live_prints_fps_latency_and_drops_as_json(tmp_path, capsys):
    style = str(make_style(tmp_path, "frame"))
    out = tmp_path / "live.json"
    argv = ["bench", "--live", "--seconds", "1.5", "--model", style, "--modes", "frame", "--json", str(out)]
    assert main(argv) == 0
    report = json.loads(capsys.readouterr().out)
    assert report == json.loads(out.read_text())
    assert report["camera"]["size"] == "640x480" and report["camera"]["fps"] == 30
    (row,) = report["live"]
    assert row["mode"] == "frame" and 0 < row["fps"] <= 31 and row["frames"] > 5
    assert 0 < row["latency_ms"]["p50"] <= row["latency_ms"]["p95"]
    # every camera frame in the run was either shown or counted as dropped
    assert row["frames"] + row["dropped"]["camera"] + row["dropped"]["pipeline"] >= 30 * 1.5 - 3


def test_bench_live_refuses_a_non_positive_time(tmp_path, capsys):
    assert main(["bench", "--live", "--seconds", "0", "--model", str(make_style(tmp_path, "frame"))]) == 2
    assert "must be positive" in capsys.readouterr().err
