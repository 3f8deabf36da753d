"""benchmarks/gpu_figures.py end to end in its --smoke mode (tiny sizes, CPU, 2 runs): the script a lent GPU
machine runs unchanged must not first fail there."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "gpu_figures.py"


@pytest.fixture(scope="module")
def smoke(tmp_path_factory) -> tuple[dict, str, float]:
    pytest.importorskip("skimage")  # the synthetic clip's face
    out = tmp_path_factory.mktemp("figures")
    env = {**os.environ, "PORTRAIT_STYLE_CACHE": str(out / "cache"), "PYTHONUNBUFFERED": "1"}
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--smoke", "--out", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    seconds = time.perf_counter() - start
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads((out / "gpu_figures.json").read_text())
    return report, (out / "gpu_figures.md").read_text(), seconds


def test_smoke_runs_quickly_and_names_the_device(smoke):
    report, md, seconds = smoke
    assert seconds < 60, seconds
    info = report["device_info"]
    assert report["smoke"] and info["device"] == "cpu"
    assert info["device_name"].startswith("CPU: ") and info["machine"] and info["torch"]
    assert f"# GPU figures: {info['device_name']}" in md and "Smoke run" in md
    assert not [n for n in report["notes"] if "failed" in n], report["notes"]


def test_smoke_has_every_model_row(smoke):
    report, md, _ = smoke
    ok = [r for r in report["models"] if r["status"] == "ok"]
    models = {r["model"] for r in ok}
    assert len(models) == 2 and any(m.startswith("generator (") for m in models)
    assert any(m.startswith("look (") for m in models)
    for model in models:
        for precision in ("fp32", "bf16"):
            for size in ("64x64", "80x48"):
                for batch in (1, 2):
                    paths = {
                        r["path"]
                        for r in ok
                        if (r["model"], r["precision"], r["options"], r["size"], r["batch"])
                        == (model, precision, "defaults", size, batch)
                    }
                    assert paths == {"device", "host"}, (model, precision, size, batch)
    assert all(r["median_ms"] > 0 and r["p95_ms"] >= r["median_ms"] and r["runs"] == 2 for r in ok)
    batch1 = [r for r in ok if r["batch"] == 1]
    assert all(
        r["max_diff_vs_fp32"] == 0 for r in batch1 if (r["precision"], r["options"]) == ("fp32", "defaults")
    )
    assert all(r["max_diff_vs_fp32"] <= 1 for r in batch1 if r["precision"] == "fp32")  # another layout
    assert any(r["options"] == "channels_last=False" for r in ok)
    # what this machine lacks is a row saying so, not a crash
    missing = {
        (r["backend"], r["precision"]) for r in report["models"] if r["status"].startswith("not available")
    }
    assert {("onnxruntime", "fp32"), ("onnxruntime", "fp16"), ("tensorrt", "fp16")} <= missing
    assert "| generator (" in md and "| look (" in md


def test_smoke_has_peers_ratios_pipeline_and_aims(smoke):
    report, md, _ = smoke
    peers = {r["model"] for r in report["peers"] if r["status"] == "ok"}
    assert peers == {"fast-neural-style TransformerNet", "CycleGAN ResNet-9 (ngf 64)"}
    ratios = report["peer_ratios"]
    assert len(ratios) == 2 * 2 * 2  # peers x sizes x batches
    assert all(r["best_over_peer_fp32"] > 0 for r in ratios)
    modes = [r["mode"] for r in report["pipeline"]]
    assert modes == ["decode+encode only", "face", "frame (look)", "decode+encode only"]
    assert all(r["status"] == "ok" and r["frames"] == 6 for r in report["pipeline"]), report["pipeline"]
    face = report["pipeline"][1]
    assert face["frames_with_faces"] > 0  # the synthetic clip's face was found and stylized
    assert max(r["ratio_to_io"] for r in report["pipeline"]) == 1.0
    aims = report["aims"]
    assert any("generator <= 1 ms" in a["aim"] for a in aims)
    assert any("whole-frame 80x48 >= 200 fps" in a["aim"] for a in aims)
    assert sum("eager fp32 throughput" in a["aim"] for a in aims) == len(ratios)
    assert all(a["met"] in (True, False) for a in aims)
    for heading in ("## Aims", "## Peers", "## Throughput", "## stylize-video"):
        assert heading in md


def test_smoke_times_a_real_generator_and_a_look(smoke):
    from portrait_style.engine.style_meta import GENERATOR_ARCH
    from portrait_style.look.model import ARCH_NAME as LOOK_ARCH

    report, md, _ = smoke
    rows = [r for r in report["models"] if r["status"] == "ok"]
    generator = {r["arch"] for r in rows if r["model"].startswith("generator (")}
    look = {r["arch"] for r in rows if r["model"].startswith("look (")}
    assert generator == {GENERATOR_ARCH} and look == {LOOK_ARCH}
    styles = report["styles"]
    [(gen_name, gen)] = [(n, s) for n, s in styles.items() if n.startswith("generator (")]
    assert gen["arch"] == GENERATOR_ARCH and (gen["mode"], gen["resolution"]) == ("face", 256)
    assert gen["arch_args"] == {"channels": [16, 32, 64], "n_blocks": 6, "expansion": 4}  # Generator()
    assert gen_name == "generator (Generator() defaults, random weights)"
    assert [s["arch"] for n, s in styles.items() if n.startswith("look (")] == [LOOK_ARCH]
    assert f"Timed as {gen_name}: architecture `{GENERATOR_ARCH}`" in md
    crop_aims = [a for a in report["aims"] if "generator <=" in a["aim"]]  # measured on the generator rows
    assert crop_aims and all(a["measured"] != "n/a" for a in crop_aims)


def test_a_look_named_as_the_generator_is_refused_in_one_line(tmp_path):
    from portrait_style.engine.checkpoint import StyleMeta, save_style
    from portrait_style.look.model import ARCH_NAME as LOOK_ARCH
    from portrait_style.look.model import LookNet

    look = save_style(tmp_path / "look.safetensors", LookNet(grid=8), StyleMeta(name="look", arch=LOOK_ARCH))
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--smoke", "--out", str(tmp_path / "out"), "--model", str(look)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2 and not done.stdout
    assert done.stderr.count("\n") == 1, done.stderr
    assert f"--model {look} is a {LOOK_ARCH} style, not a generator" in done.stderr
    assert not (tmp_path / "out").exists()  # refused before anything ran
