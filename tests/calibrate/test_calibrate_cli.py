"""`portrait-style calibrate` end to end: a tiny style calibrated on this CPU into a temporary cache, then
`stylize-video`, `stylize`, `live` and `bench` using (or, when told, not using) the profile it saved;
and calibrate's bad inputs, each one line and an exit code."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import cv2
import pytest

from portrait_style import jobs
from portrait_style.calibrate import profile
from portrait_style.calibrate.frames import synthetic_portraits
from portrait_style.cli import main, stylize_video_main
from portrait_style.engine.backends import BackendSpec
from tests.media import make_video
from tests.models import make_style


@pytest.fixture(scope="module")
def calibrated(tmp_path_factory):
    """A frame-mode style calibrated once for the module, on 640x480 portraits, --quick.

    --fps 1000 is out of reach, so every candidate is timed once (calibrate gives up on one that far from
    its budget) and the fastest is chosen: quick, and the choice is whatever this machine measured."""
    root = tmp_path_factory.mktemp("calibrated")
    folder = root / "frames"
    folder.mkdir()
    for i, image in enumerate(synthetic_portraits(2, 640, 480, seed=3)):
        cv2.imwrite(str(folder / f"{i}.png"), image[..., ::-1])
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PORTRAIT_STYLE_CACHE", str(root / "cache"))
        style = make_style(root, "frame")
        argv = ["calibrate", "--model", str(style), "--quick", "--fps", "1000", "--frames", str(folder)]
        assert main([*argv, "--json", str(root / "report.json")]) == 0
    report = json.loads((root / "report.json").read_text())
    clip = make_video(root / "clip.mp4", size=(640, 480), n_frames=3, audio=False).path
    return SimpleNamespace(root=root, style=style, report=report, clip=clip, cache=root / "cache")


@pytest.fixture
def cache(calibrated, monkeypatch):
    monkeypatch.setenv("PORTRAIT_STYLE_CACHE", str(calibrated.cache))
    return calibrated.cache


@pytest.fixture
def spy(monkeypatch):
    """What `stylize`/`stylize-video` really ran with: the Stylizer's backend spec and frame size."""
    seen = {}
    real = jobs.stylize_path

    def stylize_path(source, target, stylizer, *args, **kwargs):
        seen.update(spec=stylizer.backend.spec, frame_size=stylizer.frame_size)
        return real(source, target, stylizer, *args, **kwargs)

    monkeypatch.setattr(jobs, "stylize_path", stylize_path)
    return seen


def test_report_and_profile(calibrated):
    report = calibrated.report
    rows = {(c["backend"], c["precision"]): c for c in report["precisions"]}
    assert set(rows) >= {
        ("onnxruntime", "fp32"),
        ("onnxruntime", "fp16"),
        ("torch", "fp32"),
        ("torch", "bf16"),
    }
    assert rows["onnxruntime", "fp16"]["accepted"] and rows["onnxruntime", "fp16"]["psnr_db"] >= 40
    assert report["frames"] == {
        "source": str(calibrated.root / "frames"),
        "count": 2,
        "input_size": [640, 480],
    }
    sizes = {c["size"] for c in report["candidates"]}
    assert sizes == {480, 360}  # the input's own shorter side, and the configured sizes below it
    threads = {c["options"].get("threads") for c in report["candidates"] if c["backend"] == "onnxruntime"}
    assert threads == set(range(1, 3)) or threads == {1}  # 1 .. cores
    assert all(c["runs"] == 1 and not c["meets"] for c in report["candidates"])  # 1000 fps: out of reach
    choice = report["choice"]
    assert choice["median_ms"] == min(c["median_ms"] for c in report["candidates"])
    assert not choice["meets_target"] and choice["working_size"] in sizes and choice["faces"] is None
    # the full size is recorded as 0 (frames as they come), a smaller one as it is
    assert choice["frame_size"] == (0 if choice["working_size"] == 480 else 360)
    path = Path(report["profile"])
    assert path.parent == calibrated.cache / "profiles" and path.name.startswith("test-frame-")
    saved = json.loads(path.read_text())
    assert saved["choice"] == choice and saved["identity"]["machine"] and saved["weights"] in path.name


def test_stylize_video_uses_the_profile_and_says_so(calibrated, cache, spy, tmp_path, capsys):
    choice = calibrated.report["choice"]
    out = tmp_path / "out.mp4"
    assert stylize_video_main([str(calibrated.clip), str(out), "--model", str(calibrated.style)]) == 0
    err = capsys.readouterr().err.splitlines()
    spec = BackendSpec(choice["backend"], choice["device"], choice["precision"], choice["options"])
    used = f"{spec.label()}, frame size {choice['frame_size']}"
    used += " (as it comes)" if choice["frame_size"] == 0 else ""
    assert err[0] == f"using calibration profile {calibrated.report['profile']}: {used}"
    assert spy["spec"] == spec and spy["frame_size"] == choice["frame_size"]
    assert out.is_file()


def test_explicit_flags_win_over_the_profile(calibrated, cache, spy, tmp_path, capsys):
    base = [str(calibrated.clip), str(tmp_path / "out.mp4"), "--model", str(calibrated.style)]
    assert stylize_video_main([*base, "--no-profile"]) == 0
    assert "calibration profile" not in capsys.readouterr().err
    assert spy["spec"].options == {} and spy["frame_size"] == 0  # auto, and the style's own frame size
    assert stylize_video_main([*base, "--backend-option", "threads=2"]) == 0
    assert "calibration profile" not in capsys.readouterr().err
    assert spy["spec"].options == {"threads": 2} and spy["frame_size"] == 0
    assert stylize_video_main([*base, "--backend", "torch"]) == 0
    assert "calibration profile" not in capsys.readouterr().err and spy["spec"].backend == "torch"
    # --frame-size alone: the profile's backend, the flag's frame size
    assert main(["stylize", *base, "--frame-size", "64"]) == 0
    assert capsys.readouterr().err.splitlines()[0].endswith(", frame size 64")
    assert spy["frame_size"] == 64 and spy["spec"].options == calibrated.report["choice"]["options"]


def test_a_profile_from_another_machine_or_damaged_is_not_used(
    calibrated, cache, spy, tmp_path, capsys, monkeypatch
):
    base = [str(calibrated.clip), str(tmp_path / "out.mp4"), "--model", str(calibrated.style)]
    with monkeypatch.context() as mp:  # another ONNX Runtime version is another machine key
        mp.setattr(profile, "runtime_versions", lambda: {"onnxruntime": "0.0.1", "torch": "0.0.1"})
        assert profile.find_profile(calibrated.style, "frame") is None
    assert profile.find_profile(calibrated.style, "face") is None  # calibrated in frame mode only
    path = Path(calibrated.report["profile"])
    good = path.read_text()
    try:
        path.write_text(good[: len(good) // 2])
        assert stylize_video_main(base) == 0
        err = capsys.readouterr().err.splitlines()
        assert err[0].startswith(f"warning: calibration profile {path} is not usable")
        assert not any(e.startswith("using calibration profile") for e in err)
        assert spy["spec"].options == {} and spy["frame_size"] == 0  # what auto gives
    finally:
        path.write_text(good)


def test_live_and_bench_use_the_profile(calibrated, cache, tmp_path, capsys):
    label = profile.find_profile(calibrated.style, "frame").describe()
    rec = tmp_path / "rec.mp4"
    argv = ["live", "--camera", str(calibrated.clip), "--model", str(calibrated.style), "--once"]
    assert main([*argv, "--output", str(rec), "--seconds", "1"]) == 0
    err = capsys.readouterr().err
    assert f"using calibration profile {calibrated.report['profile']}: {label}" in err
    argv = ["bench", "--model", str(calibrated.style), "--runs", "0", "--clip", str(calibrated.clip)]
    assert main([*argv, "--modes", "frame"]) == 0
    assert f"using calibration profile {calibrated.report['profile']}: {label}" in capsys.readouterr().err
    assert main([*argv, "--modes", "frame", "--no-profile"]) == 0
    assert "calibration profile" not in capsys.readouterr().err


def test_face_mode_times_batches_of_faces_and_precision_only_saves_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PORTRAIT_STYLE_CACHE", str(tmp_path / "cache"))
    style = make_style(tmp_path, "face")
    out = tmp_path / "r.json"
    assert main(["calibrate", "--model", str(style), "--precision-only", "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["mode"] == "face" and "candidates" not in report and "profile" not in report
    assert not (tmp_path / "cache" / "profiles").exists()
    assert "precision against FP32" in capsys.readouterr().out
    assert main(["calibrate", "--model", str(style), "--quick", "--fps", "1000", "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    assert {c["size"] for c in report["candidates"]} == {1, 2, 4}
    assert report["choice"]["frame_size"] is None and report["choice"]["faces"] in (1, 2, 4)
    found = profile.find_profile(style, "face")
    assert found.frame_size is None and ", frame size" not in found.describe()
    assert "chosen: " in capsys.readouterr().out


def fast_timing(fn, runs, warmup, give_up_ms):
    """`time_budgeted` for tests: one real call, then 1 ms: every candidate reaches any sensible rate."""
    fn()
    return {"median_ms": 1.0, "p95_ms": 1.0, "runs": 1}


def test_the_full_size_chosen_is_saved_as_frame_size_zero(tmp_path, monkeypatch, capsys):
    """Calibrated on 800x600 frames, the full size (600) reaches the rate: the profile says 0, frames as
    they come, so a later 1080p or 4K video is not brought down to 600."""
    from portrait_style.calibrate import tuning

    monkeypatch.setenv("PORTRAIT_STYLE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(tuning, "time_budgeted", fast_timing)
    cv2.imwrite(str(tmp_path / "frame.png"), synthetic_portraits(1, 800, 600)[0][..., ::-1])
    style, out = make_style(tmp_path, "frame"), tmp_path / "r.json"
    argv = ["calibrate", "--model", str(style), "--quick", "--frames", str(tmp_path / "frame.png")]
    assert main([*argv, "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    assert {c["size"] for c in report["candidates"]} == {600}  # --quick: it reached the rate, no smaller
    choice = report["choice"]
    assert choice["working_size"] == 600 and choice["frame_size"] == 0 and choice["meets_target"]
    saved = json.loads(Path(report["profile"]).read_text())
    assert saved["choice"]["frame_size"] == 0
    found = profile.find_profile(style, "frame")
    assert found.frame_size == 0 and found.describe().endswith("frame size 0 (as it comes)")
    assert "frame size 0 (as it comes), timed at 600: " in " ".join(capsys.readouterr().out.split())
    spec, frame_size = profile.run_settings(BackendSpec(), None, style, "frame")
    assert spec == found.spec and frame_size == 0


class RaisingBackend:
    """A loaded backend whose every call raises RuntimeError, as a missing kernel or a CUDA OOM does."""

    def __init__(self, spec):
        self.spec = spec

    def __call__(self, batch, faces=None):
        raise RuntimeError("CUDA error: out of memory\nCUDA kernel errors might be asynchronously reported")


def raising_torch(monkeypatch, everything=False):
    """torch rows (every row, with `everything`) load, then raise RuntimeError at their first call."""
    from portrait_style import api
    from portrait_style.engine import backends

    real = backends.load_backend

    def load_backend(style_path, spec):
        backend = real(style_path, spec)
        return RaisingBackend(backend.spec) if everything or spec.backend == "torch" else backend

    monkeypatch.setattr(backends, "load_backend", load_backend)
    monkeypatch.setattr(api, "load_backend", load_backend)


def test_a_runtime_that_raises_is_listed_as_cannot_run_and_calibration_goes_on(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PORTRAIT_STYLE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("COLUMNS", "250")  # the tables' rows unwrapped
    raising_torch(monkeypatch)
    cv2.imwrite(str(tmp_path / "frame.png"), synthetic_portraits(1, 160, 120)[0][..., ::-1])
    style, out = make_style(tmp_path, "frame"), tmp_path / "r.json"
    argv = [
        "calibrate",
        "--model",
        str(style),
        "--quick",
        "--fps",
        "1000",
        "--frames",
        str(tmp_path / "frame.png"),
    ]
    assert main([*argv, "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    torch_rows = [c for c in report["precisions"] if c["backend"] == "torch"]
    assert torch_rows and all(not c["accepted"] for c in torch_rows)
    why = "cannot run: RuntimeError: CUDA error: out of memory CUDA kernel errors might be asynchronously"
    why += " reported"  # one line, whatever the message held
    assert torch_rows[0]["precision"] == "fp32" and torch_rows[0]["reason"] == why
    assert report["choice"]["backend"] == "onnxruntime" and Path(report["profile"]).is_file()
    assert all(c["backend"] == "onnxruntime" for c in report["candidates"])
    captured = capsys.readouterr()
    assert f"REFUSED: {why}" in captured.out and "Traceback" not in captured.err


@pytest.mark.parametrize("precision_only", [False, True], ids=["tune", "precision-only"])
def test_nothing_that_runs_is_one_line_and_exit_code_4(tmp_path, monkeypatch, capsys, precision_only):
    monkeypatch.setenv("PORTRAIT_STYLE_CACHE", str(tmp_path / "cache"))
    raising_torch(monkeypatch, everything=True)
    out = tmp_path / "r.json"
    argv = ["calibrate", "--model", str(make_style(tmp_path, "frame")), "--quick", "--json", str(out)]
    assert main(argv + (["--precision-only"] if precision_only else [])) == 4
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith(
        "error: no backend could run the style on this machine (cannot run: RuntimeError:"
    )
    assert not any(line.startswith("saved calibration profile") for line in err)
    report = json.loads(out.read_text())  # the report is still written, for the reasons in it
    assert "choice" not in report and "profile" not in report and report["error"] == err[-1][len("error: ") :]
    assert not list((tmp_path / "cache" / "profiles").glob("*.json"))


def test_an_unwritable_cache_fails_before_any_work(tmp_path, monkeypatch, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache folder should go")
    monkeypatch.setenv("PORTRAIT_STYLE_CACHE", str(blocker))
    assert main(["calibrate", "--model", str(make_style(tmp_path, "frame")), "--quick"]) == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: cannot save calibration profiles in {blocker / 'profiles'}: Not a directory"]


@pytest.fixture
def bad(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "text.mp4").write_text("not a video\n" * 20)
    (tmp_path / "text.safetensors").write_text("not a model\n")
    (tmp_path / "folder.json").mkdir()
    return tmp_path


@pytest.mark.parametrize(
    "argv, code, words",
    [
        (["--fps", "0"], 2, "argument --fps: must be more than 0"),
        (["--fps", "fast"], 2, "argument --fps: not a number"),
        (["--mode", "cartoon"], 2, "argument --mode"),
        (["--frames", "{tmp}/none"], 2, "--frames: not found"),
        (["--frames", "{tmp}/empty"], 2, "--frames: no images in"),
        (["--frames", "{tmp}/text.mp4"], 2, "text.mp4"),
        (["--style", "no-such-style"], 4, "unknown style"),
        (["--model", "{tmp}/text.safetensors"], 4, "not a portrait-style model"),
        (["--json", "{tmp}/no/such/r.json"], 3, "does not exist"),
        (["--json", "{tmp}/folder.json"], 3, "is a folder"),
    ],
    ids=[
        "fps-zero",
        "fps-text",
        "mode",
        "frames-missing",
        "frames-empty",
        "frames-not-video",
        "style",
        "model-not-a-model",
        "json-folder-missing",
        "json-is-a-folder",
    ],
)
def test_bad_input_is_one_line_and_an_exit_code(bad, monkeypatch, capsys, argv, code, words):
    monkeypatch.setenv("PORTRAIT_STYLE_CACHE", str(bad / "cache"))
    argv = [a.replace("{tmp}", str(bad)) for a in argv]
    if "--style" not in argv and "--model" not in argv:
        argv += ["--model", str(make_style(bad, "frame"))]
    try:
        assert main(["calibrate", *argv]) == code
    except SystemExit as exit:  # argparse's own errors, made one line by cli.ArgumentParser
        assert exit.code == code
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and words in err[0], err
    assert not (bad / "cache" / "profiles").exists()


def test_the_report_names_the_choice_by_its_spec_label_and_lists_skipped_candidates(monkeypatch, capsys):
    from portrait_style.calibrate.cli import print_report

    monkeypatch.setenv("COLUMNS", "250")
    options = {"threads": 2, "spinning": False}
    ran = {"backend": "onnxruntime", "device": "cpu", "precision": "fp32", "options": options, "size": 540}
    ran.update(median_ms=10.0, p95_ms=11.0, runs=3, fps=100.0, meets=True, skipped="")
    skipped = {**ran, "backend": "torch", "options": {}, "median_ms": 0.0, "fps": 0.0, "meets": False}
    skipped["skipped"] = "cannot run: RuntimeError: CUDA out of memory"
    choice = {k: ran[k] for k in ("backend", "device", "precision", "options")}
    choice.update(frame_size=540, working_size=540, faces=None, median_ms=10.0, fps=100.0, meets_target=True)
    report = {
        "identity": {"machine": "test"}, "style": "test", "mode": "frame", "fps_target": 30.0,
        "frames": {"source": "synthetic portraits", "count": 1, "input_size": [1280, 720]},
        "limits": {"min_psnr_db": 40.0, "max_abs_error": 16}, "precisions": [],
        "candidates": [ran, skipped], "choice": choice,
    }  # fmt: skip
    print_report(report)
    lines = capsys.readouterr().out.splitlines()
    label = BackendSpec("onnxruntime", "cpu", "fp32", options).label()
    assert lines[-1] == f"chosen: {label}, frame size 540: 100.0 fps (reaches 30 fps)"
    row = next(line for line in lines if "torch" in line)
    assert "cannot run: RuntimeError: CUDA out of memory" in row and "chosen" not in row
    assert "chosen" in next(line for line in lines if "onnxruntime cpu" in line)
