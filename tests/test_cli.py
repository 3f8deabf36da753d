"""The command line on bad input: one clear line on stderr, a non-zero exit code, nothing left behind."""

import os
import subprocess
import sys

import pytest

from portrait_style.cli import main, stylize_video_main
from tests.media import cut_after_header, make_audio_only, make_empty_video, make_video, truncate
from tests.models import make_style


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("PORTRAIT_STYLE_CACHE", str(tmp_path / "cache"))


@pytest.fixture
def style(tmp_path):
    return str(make_style(tmp_path, "frame"))


def run_cli(capsys, argv):
    code = stylize_video_main(argv)
    err = capsys.readouterr().err.strip().splitlines()
    return code, err


def assert_clean_failure(code, err, pattern, out_dir):
    assert code != 0
    assert len(err) == 1 and err[0].startswith("error: ") and pattern in err[0], err
    leftovers = [p for p in os.listdir(out_dir) if p.startswith("out") or p.startswith(".out")]
    assert not leftovers, leftovers


def test_missing_file(tmp_path, capsys, style):
    code, err = run_cli(capsys, [str(tmp_path / "nope.mp4"), str(tmp_path / "out.mp4"), "--model", style])
    assert_clean_failure(code, err, "not found", tmp_path)


def test_not_a_video(tmp_path, capsys, style):
    fake = tmp_path / "fake.mp4"
    fake.write_text("this is not a video\n" * 50)
    code, err = run_cli(capsys, [str(fake), str(tmp_path / "out.mp4"), "--model", style, "--no-progress"])
    assert_clean_failure(code, err, "fake.mp4", tmp_path)


@pytest.mark.parametrize("damage", [cut_after_header, make_audio_only, make_empty_video])
def test_unusable_videos(tmp_path, capsys, style, damage):
    src = tmp_path / "src.mp4"
    if damage is cut_after_header:
        make_video(src, n_frames=10)
    damage(src)
    code, err = run_cli(capsys, [str(src), str(tmp_path / "out.mp4"), "--model", style, "--no-progress"])
    assert_clean_failure(code, err, "src.mp4", tmp_path)


def test_truncated_video_keeps_what_decodes(tmp_path, capsys, style):
    src = make_video(tmp_path / "src.mp4", size=(64, 48), n_frames=30).path
    truncate(src, 0.6)
    code = stylize_video_main([str(src), str(tmp_path / "out.mp4"), "--model", style, "--no-progress"])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    if code == 0:  # the decodable part is stylized, and the output says how many frames that was
        assert (tmp_path / "out.mp4").is_file() and "frame(s)" in err
    else:
        assert not (tmp_path / "out.mp4").exists()


def test_unwritable_output(tmp_path, capsys, style):
    src = make_video(tmp_path / "src.mp4").path
    code, err = run_cli(capsys, [str(src), str(tmp_path / "no" / "such" / "out.mp4"), "--model", style])
    assert code != 0 and len(err) == 1 and "error:" in err[0]


def test_unknown_style(tmp_path, capsys):
    src = make_video(tmp_path / "src.mp4").path
    code, err = run_cli(capsys, [str(src), str(tmp_path / "out.mp4"), "--style", "no-such-style"])
    assert_clean_failure(code, err, "unknown style 'no-such-style'", tmp_path)


def test_model_file_that_is_not_a_model(tmp_path, capsys):
    src = make_video(tmp_path / "src.mp4").path
    bogus = tmp_path / "bogus.safetensors"
    bogus.write_bytes(b"\x00" * 64)
    code, err = run_cli(capsys, [str(src), str(tmp_path / "out.mp4"), "--model", str(bogus)])
    assert_clean_failure(code, err, "not a portrait-style model", tmp_path)


def test_success_writes_output_and_summary(tmp_path, capsys, style):
    src = make_video(tmp_path / "src.mp4", n_frames=5).path
    code = main(["stylize", str(src), str(tmp_path / "out.mp4"), "--model", style, "--no-progress"])
    assert code == 0 and (tmp_path / "out.mp4").is_file()
    assert "5 frame(s)" in capsys.readouterr().err


def test_console_script_has_no_traceback(tmp_path):
    """The installed entry point, as a user runs it."""
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "portrait_style.cli",
            "stylize",
            str(tmp_path / "x.mp4"),
            str(tmp_path / "y.mp4"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"error: input not found: {tmp_path / 'x.mp4'}"


def test_export_command(tmp_path, capsys, style):
    code = main(["export", "--model", style, str(tmp_path / "s.onnx"), "--check"])
    assert code == 0 and (tmp_path / "s.onnx").is_file()
    assert "max |onnxruntime - torch|" in capsys.readouterr().err
    # a generator has no CPU graph of its own: one line, exit 4, nothing written
    assert main(["export", "--model", style, str(tmp_path / "c.onnx"), "--graph", "cpu"]) == 4
    assert "only a look has a CPU graph" in capsys.readouterr().err and not (tmp_path / "c.onnx").exists()


@pytest.mark.parametrize("graph", ["cpu", "fp16"])
def test_export_command_writes_each_graph_of_a_look(tmp_path, capsys, graph):
    import onnx

    out = tmp_path / f"mono-{graph}.onnx"
    assert main(["export", "--style", "mono", str(out), "--graph", graph, "--check"]) == 0
    model = onnx.load(str(out))
    ops = {node.op_type for node in model.graph.node}
    assert ("QuantizeLinear" in ops) == (graph == "cpu")
    inits = {init.data_type for init in model.graph.initializer}
    assert (onnx.TensorProto.FLOAT16 in inits) == (graph == "fp16")
    err = capsys.readouterr().err
    assert f"({graph} graph)" in err and "max |onnxruntime - torch|" in err


def test_frame_size_flag(tmp_path, style, capsys):
    import cv2
    import numpy as np
    import skimage.data

    from portrait_style.engine.image_io import read_image

    src = tmp_path / "in.png"
    cv2.imwrite(str(src), skimage.data.astronaut()[:200, :300, ::-1])
    outs = {}
    for size in ("0", "48"):
        out = tmp_path / f"out_{size}.png"
        assert main(["stylize", str(src), str(out), "--model", style, "--frame-size", size]) == 0
        outs[size] = read_image(out)
    assert outs["0"].shape == outs["48"].shape == (200, 300, 3)
    assert not np.array_equal(outs["0"], outs["48"])
    with pytest.raises(SystemExit) as info:
        main(["stylize", str(src), str(tmp_path / "x.png"), "--model", style, "--frame-size", "-3"])
    assert info.value.code == 2 and "must be 0 or more" in capsys.readouterr().err
