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


def test_a_backend_row_that_cannot_run_is_recorded_and_the_bench_goes_on(tmp_path, capsys, monkeypatch):
    from portrait_style.engine import backends

    asked = []

    class SmallEngine:  # a TensorRT-like row whose profile refuses sides past 32
        def __init__(self, spec):
            self.spec = spec

        def __call__(self, batch, faces=None):
            if batch.shape[1] > 32:
                raise RuntimeError("the engine's profile\ndoes not take this size")
            return batch

    def engine(path, spec):
        asked.append(spec)
        return SmallEngine(spec)

    def missing_kernel(path, spec):
        raise RuntimeError("no kernel image is available for execution on the device")

    trt_options = ("cuda_graphs", "max_batch", "max_side", "workspace_mb")
    table = (
        backends.BackendKind("torch", "cuda", ("fp16",), (), lambda: True, missing_kernel),
        backends.BackendKind("tensorrt", "cuda", ("fp16",), trt_options, lambda: True, engine),
        *(k for k in backends.BACKENDS if k.name == "onnxruntime" and k.device == "cpu"),
    )
    monkeypatch.setattr(backends, "BACKENDS", table)
    out = tmp_path / "bench.json"
    argv = ["bench", "--model", str(make_style(tmp_path, "frame")), "--sizes", "32,64", "--runs", "2"]
    assert main([*argv, "--json", str(out)]) == 0
    rows = {(r["backend"], r["device"], r["size"]): r for r in json.loads(out.read_text())["models"]}
    assert len(rows) == 6
    for size in (32, 64):  # the row that could not load: both sizes, each with the one-line reason
        failed = rows[("torch", "cuda", size)]
        assert "median_ms" not in failed
        assert failed["error"] == "RuntimeError: no kernel image is available for execution on the device"
    assert rows[("tensorrt", "cuda", 32)]["median_ms"] > 0  # a size the engine takes is timed
    assert rows[("tensorrt", "cuda", 64)] == {
        "backend": "tensorrt",
        "device": "cuda",
        "precision": "fp16",
        "size": 64,
        "error": "RuntimeError: the engine's profile does not take this size",
    }
    assert asked[0].options == {"max_side": 64, "max_batch": 1}  # built for the sizes timed
    assert all(rows[("onnxruntime", "cpu", s)]["median_ms"] > 0 for s in (32, 64))  # later rows still run
    printed = capsys.readouterr().out
    assert printed.count("failed") == 3 + 2  # three table rows, two distinct reasons below the table
    assert "failed: tensorrt cuda: RuntimeError: the engine's profile does not take this size" in printed
