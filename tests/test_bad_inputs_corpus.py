"""A generated corpus of bad and odd inputs and option values for every entry point (issue 9).

Each failing case must end with its documented exit code, exactly one line on stderr, no traceback,
and nothing at (or beside) the output path. Each valid odd case must write a correct output.
docs/RELIABILITY.md lists the cases. Media are tiny and made once per module, so the corpus runs in
seconds.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
import torch

from portrait_style.cli import main, stylize_video_main
from tests.media import cut_after_header, make_audio_only, make_empty_video, make_video
from tests.models import make_style


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    os.environ["PORTRAIT_STYLE_CACHE"] = str(root / "cache")  # one ONNX export for the whole module
    m = {"root": root}
    m["video"] = make_video(root / "clip.mp4", n_frames=6).path
    m["noaudio"] = make_video(root / "noaudio.mp4", n_frames=4, audio=False).path
    m["odd"] = make_video(root / "odd.mp4", size=(63, 47), n_frames=3, codec="mpeg4", audio=False).path
    m["one_frame"] = make_video(root / "one.mp4", n_frames=1, audio=False).path
    m["rotated"] = make_video(root / "rot.mp4", n_frames=3, rotation=90, audio=False).path
    m["vfr"] = make_video(root / "vfr.mp4", n_frames=8, vfr=True).path
    m["mp2"] = make_video(root / "mp2.mkv", n_frames=4, audio_codec="mp2").path
    m["mulaw"] = make_video(root / "mulaw.mov", n_frames=4, audio_codec="pcm_mulaw").path
    m["text_mp4"] = root / "text.mp4"
    m["text_mp4"].write_text("not a video\n" * 40)
    m["empty_file"] = root / "zero.mp4"
    m["empty_file"].write_bytes(b"")
    m["header_only"] = cut_after_header(make_video(root / "header.mp4", n_frames=6, faststart=True).path)
    m["audio_only"] = make_audio_only(root / "audio.m4a")
    m["no_frames"] = make_empty_video(root / "noframes.mp4")
    m["frame_style"] = make_style(root, "frame")
    m["face_style"] = make_style(root, "face")
    m["text_model"] = root / "model.safetensors"
    m["text_model"].write_text("not a model")
    run = root / "runs" / "mine"
    (run / "checkpoints").mkdir(parents=True)
    torch.save({"format": 1, "step": 1}, run / "checkpoints" / "last.pt")
    m["last_pt"] = run / "checkpoints" / "last.pt"
    m["mismatch_model"] = _mismatched_style(root)
    rgb = np.zeros((24, 32, 3), np.uint8)
    rgb[:, :, 0] = 200
    m["image"] = root / "img.png"
    cv2.imwrite(str(m["image"]), rgb)
    m["corrupt_jpg"] = root / "corrupt.jpg"
    m["corrupt_jpg"].write_bytes(b"\xff\xd8\xff\xe0" + b"\0" * 50)
    m["zero_png"] = root / "zero.png"
    m["zero_png"].write_bytes(b"")
    m["grey"] = root / "grey.png"
    cv2.imwrite(str(m["grey"]), np.full((9, 11), 90, np.uint8))
    m["rgba"] = root / "rgba.png"
    cv2.imwrite(
        str(m["rgba"]), np.dstack([np.full((9, 11, 3), 90, np.uint8), np.full((9, 11), 128, np.uint8)])
    )
    m["tiny"] = root / "tiny.png"
    cv2.imwrite(str(m["tiny"]), np.full((1, 1, 3), 77, np.uint8))
    m["deep16"] = root / "deep16.png"
    cv2.imwrite(str(m["deep16"]), np.full((8, 8, 3), 40000, np.uint16))
    m["empty_dir"] = root / "empty_dir"
    m["empty_dir"].mkdir()
    m["broken_dir"] = root / "broken_dir"
    m["broken_dir"].mkdir()
    (m["broken_dir"] / "a.jpg").write_bytes(b"nope")
    (m["broken_dir"] / "b.png").write_bytes(b"")
    m["good_dir"] = root / "good_dir"
    m["good_dir"].mkdir()
    cv2.imwrite(str(m["good_dir"] / "a.png"), rgb)
    (m["good_dir"] / "b.jpg").write_bytes(b"broken")
    m["a_folder.mp4"] = root / "a_folder.mp4"
    m["a_folder.mp4"].mkdir()
    yield m
    os.environ.pop("PORTRAIT_STYLE_CACHE", None)


def _mismatched_style(root: Path) -> Path:
    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    (root / "mismatch").mkdir()
    path = make_style(root / "mismatch", "frame")
    with safe_open(str(path), framework="pt") as f:
        meta = json.loads(f.metadata()["portrait_style"])
    meta["arch_args"]["channels"] = [16, 32, 64]
    save_file(load_file(str(path)), str(path), metadata={"portrait_style": json.dumps(meta)})
    return path


@dataclass(frozen=True)
class Case:
    id: str
    command: str  # "video" (stylize-video), "stylize", "export", "train", "evaluate"
    args: tuple  # strings; "{name}" is replaced by the media path, "{out}" by the output path
    code: int
    message: str = ""  # a piece of the one stderr line (failures)
    out: str = "out.mp4"  # output file name, inside a fresh folder

    def argv(self, media: dict, out: Path) -> list[str]:
        result = []
        for a in self.args:
            if a == "{out}":
                result.append(str(out))
            elif a.startswith("{") and a.endswith("}"):
                result.append(str(media[a[1:-1]]))
            else:
                result.append(a)
        return result


V, FS, FC = "{video}", "{frame_style}", "{face_style}"
FAIL = [
    # -- stylize-video: inputs
    Case("missing-input", "video", ("/no/such/clip.mp4", "{out}", "--model", FS), 2, "not found"),
    Case("text-as-mp4", "video", ("{text_mp4}", "{out}", "--model", FS), 2, "text.mp4"),
    Case("zero-byte-mp4", "video", ("{empty_file}", "{out}", "--model", FS), 2, "zero.mp4"),
    Case("header-only-mp4", "video", ("{header_only}", "{out}", "--model", FS), 2, "header.mp4"),
    Case("audio-only", "video", ("{audio_only}", "{out}", "--model", FS), 2, "audio.m4a"),
    Case("no-frames", "video", ("{no_frames}", "{out}", "--model", FS), 2, "noframes.mp4"),
    # -- stylize-video: outputs
    Case("avi-output", "video", (V, "{out}", "--model", FS), 3, "must end in", out="out.avi"),
    Case("image-output-for-video", "video", (V, "{out}", "--model", FS), 3, "video file", out="out.png"),
    Case("output-is-input", "video", (V, V, "--model", FS), 3, "overwrite the input", out="-"),
    Case(
        "output-folder-missing", "video", (V, "/no/such/dir/out.mp4", "--model", FS), 3, "does not exist", "-"
    ),
    Case(
        "output-under-proc", "video", (V, "/proc/out.mp4", "--model", FS), 3, "/proc is a system folder", "-"
    ),
    Case("output-is-a-folder", "video", (V, "{a_folder.mp4}", "--model", FS), 3, "is a folder", "-"),
    # -- stylize-video: option values
    Case(
        "crf-too-high", "video", (V, "{out}", "--model", FS, "--crf", "99"), 2, "--crf: must be from 0 to 51"
    ),
    Case("crf-negative", "video", (V, "{out}", "--model", FS, "--crf", "-1"), 2, "--crf"),
    Case("crf-not-a-number", "video", (V, "{out}", "--model", FS, "--crf", "high"), 2, "not a whole number"),
    Case("preset-unknown", "video", (V, "{out}", "--model", FS, "--preset", "fastest"), 2, "--preset"),
    Case("max-faces-negative", "video", (V, "{out}", "--model", FC, "--max-faces", "-3"), 2, "--max-faces"),
    Case("max-faces-zero", "video", (V, "{out}", "--model", FC, "--max-faces", "0"), 2, "from 1 to 64"),
    Case(
        "detect-every-zero", "video", (V, "{out}", "--model", FC, "--detect-every", "0"), 2, "--detect-every"
    ),
    Case("detector-unknown", "video", (V, "{out}", "--model", FC, "--detector", "dlib"), 2, "--detector"),
    Case(
        "yunet-without-model", "video", (V, "{out}", "--model", FC, "--detector", "yunet"), 2, "--yunet-model"
    ),
    Case(
        "yunet-model-missing",
        "video",
        (V, "{out}", "--model", FC, "--yunet-model", "/no/y.onnx"),
        2,
        "--yunet-model",
    ),
    Case(
        "frame-size-in-face-mode",
        "video",
        (V, "{out}", "--model", FC, "--frame-size", "256"),
        2,
        "--frame-size",
    ),
    Case(
        "frame-size-negative", "video", (V, "{out}", "--model", FS, "--frame-size", "-5"), 2, "--frame-size"
    ),
    Case("mode-unknown", "video", (V, "{out}", "--model", FS, "--mode", "cartoon"), 2, "--mode"),
    Case("audio-unknown", "video", (V, "{out}", "--model", FS, "--audio", "mp3"), 2, "--audio"),
    Case("backend-unknown", "video", (V, "{out}", "--model", FS, "--backend", "tensorflow"), 2, "--backend"),
    Case("backend-absent", "video", (V, "{out}", "--model", FS, "--backend", "tensorrt"), 4, "not available"),
    Case(
        "precision-unrun",
        "video",
        (V, "{out}", "--model", FS, "--backend", "onnxruntime", "--device", "cpu", "--precision", "bf16"),
        2,
        "no backend runs onnxruntime on cpu in bf16",
    ),
    Case(
        "device-unknown", "video", (V, "{out}", "--model", FS, "--device", "gpu0"), 2, "unknown device 'gpu0'"
    ),
    Case(
        "option-unknown",
        "video",
        (V, "{out}", "--model", FS, "--backend-option", "thread=2"),
        2,
        "unknown backend option 'thread'",
    ),
    Case("style-and-model", "video", (V, "{out}", "--model", FS, "--style", "studio"), 2, "not allowed with"),
    Case("unknown-flag", "video", (V, "{out}", "--model", FS, "--frobnicate"), 2, "unrecognized arguments"),
    Case(
        "audio-copy-impossible",
        "video",
        ("{mulaw}", "{out}", "--model", FS, "--audio", "copy"),
        3,
        "--audio copy",
    ),
    # -- stylize-video: models
    Case("unknown-style", "video", (V, "{out}", "--style", "no-such-style"), 4, "unknown style"),
    Case("text-as-model", "video", (V, "{out}", "--model", "{text_model}"), 4, "not a portrait-style model"),
    Case(
        "training-checkpoint-as-model",
        "video",
        (V, "{out}", "--model", "{last_pt}"),
        4,
        "training checkpoint",
    ),
    Case(
        "metadata-weights-mismatch", "video", (V, "{out}", "--model", "{mismatch_model}"), 4, "do not match"
    ),
    # -- stylize (images and folders)
    Case("image-to-video-name", "stylize", ("{image}", "{out}", "--model", FS), 3, "must be one too"),
    Case("corrupt-jpeg", "stylize", ("{corrupt_jpg}", "{out}", "--model", FS), 2, "cannot read", out="o.png"),
    Case("zero-byte-png", "stylize", ("{zero_png}", "{out}", "--model", FS), 2, "zero.png", out="o.png"),
    Case(
        "folder-without-images", "stylize", ("{empty_dir}", "{out}", "--model", FS), 2, "no images", out="o"
    ),
    Case(
        "folder-all-broken", "stylize", ("{broken_dir}", "{out}", "--model", FS), 2, "none of the 2", out="o"
    ),
    Case(
        "folder-to-file",
        "stylize",
        ("{broken_dir}", "{image}", "--model", FS),
        3,
        "must be a folder",
        out="-",
    ),
    # -- export
    Case("export-unknown-style", "export", ("--style", "nope", "{out}"), 4, "unknown style", out="o.onnx"),
    Case(
        "export-damaged-model",
        "export",
        ("--model", "{text_model}", "{out}"),
        4,
        "not a portrait-style",
        "o.onnx",
    ),
    Case("export-folder-missing", "export", ("--model", FS, "/no/such/o.onnx"), 3, "does not exist", out="-"),
    # -- train
    Case("train-steps-not-a-number", "train", ("--steps", "many"), 2, "--steps"),
    Case("train-mode-unknown", "train", ("--mode", "cartoon"), 2, "--mode"),
    Case("train-haar-on-opencv5", "train", ("--face-detector", "haar"), 2, "--face-detector"),
    Case(
        "train-content-missing",
        "train",
        ("--content-dir", "/no/such", "--style-dir", "/no/such", "--out-dir", "{out}"),
        2,
        "not found",
        "run",
    ),
    # -- evaluate
    Case("evaluate-nothing", "evaluate", (), 2, "nothing to evaluate"),
    Case("evaluate-max-frames-1", "evaluate", ("--video", V, "--max-frames", "1"), 2, "--max-frames"),
    Case("evaluate-mode-unknown", "evaluate", ("--mode", "cartoon"), 2, "--mode"),
    Case("evaluate-video-missing", "evaluate", ("--video", "/no/v.mp4", "--model", FS), 2, "v.mp4"),
]
if "haar" in __import__("portrait_style.options", fromlist=["x"]).available_detectors():
    FAIL = [c for c in FAIL if c.id != "train-haar-on-opencv5"]


def run_command(case: Case, media: dict, out: Path, capsys) -> tuple[int, list[str], str]:
    argv = case.argv(media, out)
    try:
        if case.command == "video":
            code = stylize_video_main(argv)
        else:
            code = main([case.command, *argv])
    except SystemExit as exc:  # argparse
        code = exc.code
    err = capsys.readouterr().err
    return code, err.strip().splitlines(), err


@pytest.mark.parametrize("case", FAIL, ids=[c.id for c in FAIL])
def test_bad_input_fails_cleanly(case, media, tmp_path, capsys):
    out = tmp_path / case.out
    code, lines, err = run_command(case, media, out, capsys)
    assert code == case.code, err
    assert len(lines) == 1, err
    assert "Traceback" not in err and case.message in lines[0], err
    assert lines[0].startswith("error: "), err
    assert sorted(os.listdir(tmp_path)) == [], "something was left at the output path"


# -- valid odd inputs: a correct output ---------------------------------------------------------------
def frames_of(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]


@pytest.mark.parametrize(
    "name, extra, check",
    [
        ("odd", (), lambda out: frames_of(out)[0].shape == (48, 64, 3)),  # padded to even
        ("one_frame", (), lambda out: len(frames_of(out)) == 1),
        ("rotated", (), lambda out: frames_of(out)[0].shape == (64, 48, 3)),  # upright
        ("vfr", (), lambda out: len(frames_of(out)) == 8),
        ("mp2", (), lambda out: av.open(str(out)).streams.audio[0].codec_context.name == "aac"),
        ("mp2", ("--audio", "copy", "--crf", "0", "--preset", "ultrafast"), lambda out: out.suffix == ".mkv"),
        (
            "noaudio",
            ("--mode", "frame", "--frame-size", "0"),
            lambda out: not av.open(str(out)).streams.audio,
        ),
        ("video", ("--max-faces", "1", "--detect-every", "1"), lambda out: len(frames_of(out)) == 6),
    ],
    ids=[
        "odd-size",
        "one-frame",
        "rotated",
        "vfr",
        "mp2-auto-aac",
        "mp2-copy-mkv",
        "frame-size-0",
        "face-opts",
    ],
)
def test_odd_but_valid_videos_give_a_correct_output(name, extra, check, media, tmp_path, capsys):
    suffix = ".mkv" if "copy" in extra else ".mp4"
    style = "{face_style}" if "--max-faces" in extra else FS
    out = tmp_path / f"out{suffix}"
    case = Case(name, "video", (f"{{{name}}}", "{out}", "--model", style, *extra), 0)
    code, lines, err = run_command(case, media, out, capsys)
    assert code == 0 and "Traceback" not in err, err
    assert check(out)
    assert sorted(os.listdir(tmp_path)) == [out.name]


@pytest.mark.parametrize("name", ["grey", "rgba", "tiny", "deep16"])
def test_odd_but_valid_images_give_an_rgb_output(name, media, tmp_path, capsys):
    out = tmp_path / "o.png"
    code, _, err = run_command(
        Case(name, "stylize", (f"{{{name}}}", "{out}", "--model", FS), 0), media, out, capsys
    )
    assert code == 0, err
    src = cv2.imread(str(media[name]), cv2.IMREAD_UNCHANGED)
    written = cv2.imread(str(out), cv2.IMREAD_UNCHANGED)
    assert written.dtype == np.uint8 and written.shape == (*src.shape[:2], 3)


def test_a_folder_with_some_broken_images_writes_the_good_ones(media, tmp_path, capsys):
    out = tmp_path / "o"
    code, _, err = run_command(
        Case("f", "stylize", ("{good_dir}", "{out}", "--model", FS), 0), media, out, capsys
    )
    assert code == 0 and "skipped 1" in err
    assert sorted(os.listdir(out)) == ["a.png"]


# -- the Python API ----------------------------------------------------------------------------------
def test_api_bad_arguments(media):
    from portrait_style import Stylizer
    from portrait_style.errors import ModelError

    with pytest.raises(ModelError, match="unknown style"):
        Stylizer(style="no-such-style")
    with pytest.raises(ModelError, match="unknown mode"):
        Stylizer(model=str(media["frame_style"]), mode="cartoon")
    with pytest.raises(ModelError, match="training checkpoint"):
        Stylizer(model=str(media["last_pt"]))
    stylizer = Stylizer(model=str(media["frame_style"]))
    for bad in (
        np.zeros((8, 8), np.uint8),
        np.zeros((8, 8, 3), np.float32),
        [[0, 0, 0]],
        np.zeros((8, 8, 4), np.uint8),
    ):
        with pytest.raises(ValueError, match="HxWx3"):
            stylizer.stylize(bad)
    assert stylizer.stylize(np.zeros((1, 1, 3), np.uint8)).shape == (1, 1, 3)  # tiny but valid


def test_api_empty_frame_is_a_clear_value_error(media):
    import portrait_style.api as api
    from portrait_style import Stylizer
    from portrait_style.options import check_frame

    if getattr(api, "_check_frame", None) is not check_frame:
        pytest.xfail("api.py does not use options.check_frame yet")
    stylizer = Stylizer(model=str(media["frame_style"]))
    with pytest.raises(ValueError, match="empty frame"):
        stylizer.stylize(np.zeros((0, 0, 3), np.uint8))
