import json
import math

import av
import cv2
import numpy as np
import pytest
from skimage import data

from portrait_style.cli import main
from portrait_style.engine.checkpoint import StyleMeta, save_style
from portrait_style.engine.model import Generator
from portrait_style.evaluate.looks import LOOKS
from portrait_style.evaluate.runner import frame_stylizer


def _write_png(path, rgb):
    cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))


def _write_video(path, frames):
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=25, options={"crf": "0", "preset": "ultrafast"})
        stream.width, stream.height, stream.pix_fmt = frames[0].shape[1], frames[0].shape[0], "yuv444p"
        for f in frames:
            out.mux(stream.encode(av.VideoFrame.from_ndarray(f, format="rgb24")))
        out.mux(stream.encode())


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("model") / "untrained.safetensors"
    save_style(path, Generator(), StyleMeta(name="untrained", mode="frame", resolution=64))
    return path


@pytest.fixture(scope="module")
def image_dirs(tmp_path_factory):
    """Two 62x70 inputs (not multiples of 4: padding is exercised), targets = the faded-warm look."""
    root = tmp_path_factory.mktemp("pairs")
    (root / "in").mkdir(), (root / "tgt").mkdir(), (root / "style").mkdir()
    astro = data.astronaut()
    crops = {"a": astro[40:102:1, 180:250], "b": astro[200:324:2, 100:240:2]}
    for name, crop in crops.items():
        _write_png(root / "in" / f"{name}.png", crop)
        _write_png(root / "tgt" / f"{name}.png", LOOKS["faded-warm"](crop))
    _write_png(root / "style" / "s.png", LOOKS["faded-warm"](data.coffee()[::4, ::4]))
    return root


def _last_line_error(capsys):
    err = capsys.readouterr().err.strip().splitlines()
    # One "error:" line, last, and no traceback (notes may come before it).
    assert err and err[-1].startswith("error: ") and sum(line.startswith("error") for line in err) == 1, err
    assert not any("Traceback" in line for line in err)
    return err[-1]


def test_model_and_baselines_scored_against_targets(image_dirs, model_path, tmp_path, capsys):
    out = tmp_path / "r.json"
    rc = main(
        ["evaluate", "--model", str(model_path), "--inputs", str(image_dirs / "in"),
         "--targets", str(image_dirs / "tgt"), "--baselines", str(image_dirs / "style"), "--json", str(out)]
    )  # fmt: skip
    assert rc == 0
    result = json.loads(out.read_text())["results"]
    assert set(result) == {"model", "identity", "reinhard", "histogram"}
    for scores in result.values():
        assert scores["n"] == 2 and 0 < scores["ssim"] <= 1 and scores["ciede2000"] > 0
    assert "PSNR" in capsys.readouterr().out


def test_targets_equal_to_the_models_output_score_perfectly(image_dirs, model_path, tmp_path):
    from portrait_style.engine.checkpoint import load_style
    from portrait_style.evaluate.runner import read_rgb

    stylize = frame_stylizer(load_style(model_path)[0])
    (tmp_path / "tgt").mkdir()
    for p in (image_dirs / "in").iterdir():
        _write_png(tmp_path / "tgt" / (p.stem + ".png"), stylize(read_rgb(p)))
    out = tmp_path / "r.json"
    args = ["evaluate", "--model", str(model_path), "--mode", "frame"]
    args += ["--inputs", str(image_dirs / "in"), "--targets", str(tmp_path / "tgt"), "--json", str(out)]
    assert main(args) == 0
    scores = json.loads(out.read_text())["results"]["model"]
    assert scores["psnr"] == "inf" and scores["ssim"] == pytest.approx(1.0) and scores["ciede2000"] == 0


def test_missing_folder_is_one_clear_line(image_dirs, model_path, tmp_path, capsys):
    rc = main(["evaluate", "--model", str(model_path), "--inputs", str(tmp_path / "nope"),
               "--targets", str(image_dirs / "tgt")])  # fmt: skip
    assert rc != 0
    assert "nope" in _last_line_error(capsys)


def test_no_pairs_is_one_clear_line(image_dirs, model_path, tmp_path, capsys):
    (tmp_path / "other").mkdir()
    _write_png(tmp_path / "other" / "zzz.png", np.zeros((8, 8, 3), np.uint8))
    rc = main(["evaluate", "--model", str(model_path), "--inputs", str(image_dirs / "in"),
               "--targets", str(tmp_path / "other")])  # fmt: skip
    assert rc != 0
    assert "no image" in _last_line_error(capsys)


def test_size_mismatch_and_nothing_to_score_are_errors(image_dirs, tmp_path, capsys):
    (tmp_path / "small").mkdir()
    _write_png(tmp_path / "small" / "a.png", np.zeros((8, 8, 3), np.uint8))
    rc = main(["evaluate", "--inputs", str(image_dirs / "in"), "--targets", str(tmp_path / "small"),
               "--baselines", str(image_dirs / "style")])  # fmt: skip
    assert rc != 0 and "same size" in _last_line_error(capsys)
    rc = main(["evaluate", "--inputs", str(image_dirs / "in"), "--targets", str(image_dirs / "tgt")])
    assert rc != 0 and "--model" in _last_line_error(capsys)
    assert main(["evaluate"]) != 0
    _last_line_error(capsys)


def test_bad_model_file_is_one_clear_line(image_dirs, tmp_path, capsys):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not a model")
    rc = main(["evaluate", "--model", str(bad), "--inputs", str(image_dirs / "in"),
               "--targets", str(image_dirs / "tgt")])  # fmt: skip
    assert rc != 0 and "bad.safetensors" in _last_line_error(capsys)


@pytest.fixture(scope="module")
def videos(tmp_path_factory):
    root = tmp_path_factory.mktemp("video")
    big = data.astronaut()
    frames = [big[100 + 2 * t : 196 + 2 * t, 150 + 3 * t : 278 + 3 * t].copy() for t in range(8)]
    rng = np.random.default_rng(0)
    noisy = [np.clip(f + rng.normal(0, 8, f.shape), 0, 255).astype(np.uint8) for f in frames]
    _write_video(root / "in.mp4", frames)
    _write_video(root / "noisy.mp4", noisy)
    _write_video(root / "short.mp4", frames[:5])
    return root


def test_video_flicker_of_a_stylized_file(videos, tmp_path, capsys):
    same, noisy = tmp_path / "same.json", tmp_path / "noisy.json"
    assert main(["evaluate", "--video", str(videos / "in.mp4"), "--stylized", str(videos / "in.mp4"),
                 "--json", str(same)]) == 0  # fmt: skip
    assert main(["evaluate", "--video", str(videos / "in.mp4"), "--stylized", str(videos / "noisy.mp4"),
                 "--json", str(noisy)]) == 0  # fmt: skip
    assert json.loads(same.read_text())["flicker"]["ratio"] == pytest.approx(1.0)
    assert json.loads(noisy.read_text())["flicker"]["ratio"] > 1.5
    assert "flicker ratio" in capsys.readouterr().out


def test_video_flicker_running_the_model(videos, model_path, tmp_path):
    out = tmp_path / "m.json"
    args = ["evaluate", "--video", str(videos / "in.mp4"), "--model", str(model_path), "--json", str(out)]
    assert main(args) == 0
    result = json.loads(out.read_text())["flicker"]
    assert result["pairs"] == 7 and math.isfinite(result["ratio"])


def test_video_bad_input(videos, tmp_path, capsys):
    rc = main(["evaluate", "--video", str(videos / "in.mp4"), "--stylized", str(videos / "short.mp4")])
    assert rc != 0 and "frames" in _last_line_error(capsys)
    rc = main(["evaluate", "--video", str(tmp_path / "missing.mp4"), "--stylized", str(videos / "in.mp4")])
    assert rc != 0 and "missing.mp4" in _last_line_error(capsys)
    rc = main(["evaluate", "--video", str(videos / "in.mp4")])
    assert rc != 0 and "--stylized" in _last_line_error(capsys)


def test_unknown_builtin_style_is_one_clear_line(image_dirs, capsys):
    rc = main(["evaluate", "--style", "no-such-style", "--inputs", str(image_dirs / "in"),
               "--targets", str(image_dirs / "tgt")])  # fmt: skip
    assert rc != 0 and "no-such-style" in _last_line_error(capsys)
