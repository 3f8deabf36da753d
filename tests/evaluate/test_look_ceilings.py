"""benchmarks/look_ceilings.py on the small fake copy of the shared data the look benchmark tests use."""

import importlib.util
import sys
from pathlib import Path

import numpy as np

from tests.evaluate.test_look_benchmark import CountingDetector, fake_data  # noqa: F401 - the fixture

_BENCH = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(_BENCH))
_SPEC = importlib.util.spec_from_file_location("look_ceilings", _BENCH / "look_ceilings.py")
lc = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(lc)
lb = lc.lb


def test_the_three_fits_are_scored_on_the_held_out_set(fake_data, tmp_path):  # noqa: F811
    setting = dict(lb.SETTINGS[lc.SETTING], steps=60)
    frames = lb.Frames(setting["size"], CountingDetector())
    result = lc.run("faded-warm", lb.split(fake_data), setting, tmp_path, "cpu", frames)
    assert list(result) == ["paired", "same people", "benchmark"]
    for fit in result.values():
        assert set(fit["psnr"]) == {"all", "london-heldout", "pixabay"}
        assert all(np.isfinite(v) for v in fit["psnr"].values())
    # the paired fit really learned the look: far above leaving the pictures as they are
    test = [
        (s, frames.image(p), lb.LOOKS["faded-warm"](frames.image(p))) for s, p in lb.split(fake_data)["test"]
    ]
    untouched = lb.score(lambda image: image, test)["all"]["psnr"]
    assert result["paired"]["psnr"]["all"] > untouched + 6, (result["paired"], untouched)
