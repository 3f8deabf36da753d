"""benchmarks/look_benchmark.py on a small fake copy of the shared data's layout (no ../shared needed)."""

import importlib.util
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from skimage import data

from portrait_style.engine.frame import Face

_PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "look_benchmark.py"
_SPEC = importlib.util.spec_from_file_location("look_benchmark", _PATH)
lb = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(lb)

LONDON_IDS = [101, 102, 103, 104, 105, 106, 120, 121]  # 120 and 121 are held out
CANADA = ["003f", "008f", "010f", "021m", "022m"]


def _write(path: Path, image: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))


@pytest.fixture(scope="module")
def fake_data(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("data")
    portraits = root / "portraits"
    big = data.astronaut()
    for k, i in enumerate(LONDON_IDS):
        crop = big[8 * k : 8 * k + 96, 8 * k : 8 * k + 96]
        _write(portraits / "london_neutral" / f"{i}_03.jpg", crop)
        _write(portraits / "london_smiling" / f"{i}_08.jpg", crop[:, ::-1])
    for k, name in enumerate(CANADA):
        _write(portraits / "canada" / f"{name}.jpg", big[10 * k : 10 * k + 120, 200 : 200 + 90])  # portrait
    for k in range(2):
        _write(portraits / "pixabay_aligned_eval" / f"p{k}.png", big[100 + 30 * k : 228 + 30 * k, 150:278])
    return root


class CountingDetector:
    """One face in the middle of every image; counts its calls."""

    def __init__(self):
        self.calls = 0

    def detect(self, image):
        self.calls += 1
        h, w = image.shape[:2]
        return [Face(box=np.float32([0.3 * w, 0.2 * h, 0.7 * w, 0.7 * h]), score=0.99)]


def _ids(role_files):
    """Identities: London by id prefix (both expressions are one person), other sets by file."""
    return {p.name[:3] if p.parent.name.startswith("london") else p.stem for _, p in role_files}


def test_split_deals_identities_of_both_sets_to_both_sides(fake_data):
    files = lb.split(fake_data)
    style, content, test = (files[k] for k in ("style", "content", "test"))
    london = lambda fs: {int(p.name[:3]) for s, p in fs if s == "london"}  # noqa: E731
    assert london(style) == {101, 103, 105} and london(content) == {102, 104, 106}
    canada = lambda fs: sorted(p.stem for s, p in fs if s == "canada")  # noqa: E731
    assert canada(style) == ["003f", "010f", "022m"] and canada(content) == ["008f", "021m"]
    # Both expressions of an identity stay on one side; nobody is on two sides.
    assert len(style) == 3 * 2 + 3 and len(content) == 3 * 2 + 2
    assert not (_ids(style) & _ids(content)) and not (_ids(test) & (_ids(style) | _ids(content)))
    assert [s for s, _ in test] == ["london-heldout"] * 4 + ["pixabay"] * 2


def test_faces_are_detected_once_per_image_and_reach_the_look(fake_data, tmp_path):
    files = lb.split(fake_data)
    detector = CountingDetector()
    frames = lb.Frames(48, detector)
    setting = {"size": 48, "steps": 0, "batch_size": 2}
    runs = [
        lb.run_look("face-light", files, setting, tmp_path / str(k), "cpu", True, 0, frames) for k in range(2)
    ]
    n_images = sum(len(v) for v in files.values())
    assert detector.calls == n_images  # the second run used the cache
    result = runs[0]
    assert result["with_face"] == {role: len(v) for role, v in files.items()}
    assert set(result["scores"]) == {"identity", "reinhard", "histogram"}
    assert set(result["scores"]["identity"]) == {"london-heldout", "pixabay", "all"}
    assert result["scores"] == runs[1]["scores"]  # deterministic
    # The style images on disk are the look of the prepared image with its faces.
    path = files["style"][0][1]
    written = lb.read_rgb(tmp_path / "0" / "style" / f"{path.parent.name}-{path.stem}.png")
    expected = lb.LOOKS["face-light"](frames.image(path), faces=frames.faces(path))
    np.testing.assert_array_equal(written, expected)
    assert not np.array_equal(written, lb.LOOKS["face-light"](frames.image(path)))
    # Content images are the plain prepared images.
    content = sorted((tmp_path / "0" / "content").glob("*.png"))
    assert len(content) == len(files["content"]) and lb.read_rgb(content[0]).shape == (48, 48, 3)


def test_looks_without_faces_never_run_the_detector(fake_data, tmp_path):
    detector = CountingDetector()
    frames = lb.Frames(32, detector)
    result = lb.run_look(
        "auto-levels", lb.split(fake_data), {"size": 32, "batch_size": 2}, tmp_path, "cpu", True, 0, frames
    )
    assert detector.calls == 0 and "with_face" not in result


def test_paired_oracle_trains_on_targets_with_faces(fake_data, tmp_path):
    frames = lb.Frames(32, CountingDetector())
    setting = {"size": 32, "batch_size": 2}
    result = lb.run_look("face-light", lb.split(fake_data), setting, tmp_path, "cpu", True, 2, frames)
    assert result["oracle"]["steps"] == 2
    assert "paired-L1 oracle (not a baseline)" in result["scores"]


def _fake_result(model: str) -> dict:
    row = {"psnr": 31.0, "ssim": 0.95, "ciede2000": 2.0, "n": 3}
    scores = {m: {"london-heldout": row, "all": row} for m in ("identity", "reinhard", "histogram")}
    scores["reinhard"] = {k: dict(row, psnr=25.0) for k in ("london-heldout", "all")}
    scores["histogram"] = {k: dict(row, psnr=24.0) for k in ("london-heldout", "all")}
    return {
        "train_seconds": 60.0,
        "train_hardware": "a CPU",
        "model": "m.safetensors",
        "scores": {model: scores["identity"], **scores},
    }


@pytest.mark.parametrize("family, name", [("look", "look model"), ("generator", "GAN")])
def test_report_names_the_model_by_family(family, name):
    result = _fake_result(name)
    result["aim"] = {"model_minus_best_baseline_db": 6.0, "met": True}
    report = {
        "setting_name": "cpu-look",
        "setting": lb.SETTINGS["cpu-look"],
        "family": family,
        "date": "today",
        "hardware": "a CPU",
        "torch": "x",
        "device": "cpu",
        "counts": {"style": 9, "content": 8, "test": 6},
        "data": lb.data_line({"style": 9, "content": 8, "test": 6}),
        "looks": {"face-light": dict(result, with_face={"style": 9, "content": 7, "test": 5})},
    }
    md = lb.markdown(report)
    assert f"Aim (issue): {name} >= best classical baseline + 3 dB PSNR and >= 30 dB." in md
    assert f"{name} trained in 1.0 min on a CPU" in md and f"| {name} | 31.00 |" in md
    assert f"{name} - best baseline: +6.00 dB; aim met." in md
    assert "Images with a face found: style 9/9, content 7/8, test 5/6." in md
    assert "+ Canada, even half" in md


def test_an_old_gan_report_still_renders(tmp_path):
    result = _fake_result("gan")
    result["aim"] = {"gan_minus_best_baseline_db": 0.36, "met": False}
    report = {
        "setting_name": "cpu-small",
        "setting": lb.SETTINGS["cpu-small"],
        "date": "then",
        "hardware": "a CPU",
        "torch": "x",
        "device": "auto",
        "counts": {"style": 76, "content": 116, "test": 79},
        "looks": {"faded-warm": result},
    }
    path = tmp_path / "looks-cpu-small.json"
    path.write_text(json.dumps(report))
    assert lb.main(["--render", str(path), "--notes", "a note"]) == 0
    md = path.with_suffix(".md").read_text()
    assert "GAN - best baseline: +0.36 dB; aim NOT met." in md and "content A = the odd half + Canada" in md
    assert md.rstrip().endswith("a note")


def test_main_without_training_writes_the_baseline_report(fake_data, tmp_path):
    out = tmp_path / "out"
    args = ["--data", str(fake_data), "--no-train", "--looks", "faded-warm", "--work", str(tmp_path / "w")]
    assert lb.main([*args, "--out", str(out), "--setting", "cpu-look"]) == 0
    report = json.loads((out / "looks-cpu-look-baselines.json").read_text())
    assert report["family"] == "look" and report["counts"] == {"style": 9, "content": 8, "test": 6}
    md = (out / "looks-cpu-look-baselines.md").read_text()
    assert "## faded-warm (no look model)" in md and "Training: none" in md


def test_trainer_call_asks_for_the_family_and_faces(monkeypatch, tmp_path):
    seen = {}

    class FakeConfig:
        def __init__(self, **kwargs):
            seen.update(kwargs)

    import portrait_style.trainer.config as config
    import portrait_style.trainer.train as train

    monkeypatch.setattr(config, "TrainConfig", FakeConfig)
    monkeypatch.setattr(train, "train", lambda cfg: str(tmp_path / "m.safetensors"))
    prepared = {"content_dir": tmp_path / "a", "style_dir": tmp_path / "b"}
    path, _ = lb.train_model(prepared, "face-light", lb.SETTINGS["cpu-look"], tmp_path, "cpu", "look")
    assert path == tmp_path / "m.safetensors"
    assert seen["family"] == "look" and seen["look_faces"] is True and seen["mode"] == "frame"
    # the main setting scores at 128² and trains at the trainer's default size (None: the preset's)
    assert (seen["size"], seen["sample_every"], seen["checkpoint_every"]) == (None, 0, 0)
    assert "look_grid" not in seen
    assert seen["seed"] == 0  # the settings' own draw
    seen.clear()
    lb.train_model(prepared, "auto-levels", {**lb.SETTINGS["cpu-look"], "seed": 3}, tmp_path, "cpu", "look")
    assert seen["look_faces"] is False and seen["seed"] == 3  # --seed: another draw of the same fit
    seen.clear()
    lb.train_model(prepared, "auto-levels", lb.SETTINGS["cpu-look-64"], tmp_path, "cpu", "look")
    assert (seen["size"], seen["look_grid"]) == (64, 16)  # the tables before the twelfth round
    seen.clear()
    lb.train_model(prepared, "face-light", lb.SETTINGS["cpu-small"], tmp_path, "cpu", "generator")
    assert seen["family"] == "generator" and "look_faces" not in seen
