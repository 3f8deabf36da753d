import json

import pytest

from portrait_style.cli import main
from tests.media import make_video
from tests.models import make_style


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("PORTRAIT_STYLE_CACHE", str(tmp_path / "cache"))


def test_bench_reports_models_and_pipeline_against_io_ceiling(tmp_path, capsys):
    style = make_style(tmp_path, "frame")
    clip = make_video(tmp_path / "clip.mp4", size=(96, 64), n_frames=8).path
    out = tmp_path / "bench.json"
    argv = ["bench", "--model", str(style), "--sizes", "64", "--runs", "3", "--clip", str(clip)]
    code = main([*argv, "--modes", "frame", "--json", str(out)])
    assert code == 0
    report = json.loads(out.read_text())
    assert report["machine"]
    backends = {(r["backend"], r["device"]) for r in report["models"]}
    assert ("onnxruntime", "cpu") in backends and ("torch", "cpu") in backends
    assert all(r["median_ms"] > 0 and r["p95_ms"] >= r["median_ms"] for r in report["models"])
    modes = {r["mode"]: r for r in report["pipeline"]}
    assert set(modes) == {"decode+encode only", "frame"}
    assert all(r["frames"] == 8 for r in modes.values())
    assert modes["decode+encode only"]["ratio_to_io"] == 1.0
    assert modes["frame"]["ratio_to_io"] == pytest.approx(
        modes["frame"]["fps"] / modes["decode+encode only"]["fps"], rel=0.01
    )
    assert "stylize-video throughput" in capsys.readouterr().out


def test_bench_bad_clip(tmp_path, capsys):
    code = main(["bench", "--model", str(make_style(tmp_path)), "--clip", str(tmp_path / "none.mp4")])
    assert code == 2 and "clip not found" in capsys.readouterr().err
