"""A live run end to end on the paced file camera: dropping instead of queueing, bounded latency,
switching styles while running, snapshots, clean shutdown."""

import threading
import time

import numpy as np
import pytest

from portrait_style.api import Stylizer
from portrait_style.config import LiveConfig, PipelineConfig
from portrait_style.engine.frame import FramePacket
from portrait_style.engine.image_io import read_image
from portrait_style.engine.pipeline import run_pipeline
from portrait_style.live.controls import LiveControls, StopLive
from portrait_style.live.session import StyleSwitcher, compose, run_live
from portrait_style.live.sinks import NullSink
from portrait_style.live.sources import PacedFileCamera
from portrait_style.live.stats import LiveStats
from tests.media import make_video
from tests.models import make_style

SLOW_S = 0.08  # the slowest stage's time per frame


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    folder = tmp_path_factory.mktemp("clip")
    return make_video(folder / "cam.mp4", size=(64, 48), n_frames=30, fps=30, audio=False).path


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("PORTRAIT_STYLE_CACHE", str(tmp_path / "cache"))


def slow(packet: FramePacket) -> FramePacket:
    time.sleep(SLOW_S)
    return packet


def test_a_slow_stage_makes_the_live_policy_drop_and_latency_stays_bounded(clip):
    baseline = threading.active_count()
    camera = PacedFileCamera(clip)
    start = time.monotonic()
    stats = run_live(camera, [("slow", slow)], NullSink(), LiveControls(["x"]), seconds=2.0)
    assert time.monotonic() - start < 2.0 + 1.0  # ends on time, threads joined
    assert threading.active_count() == baseline
    summary = stats.summary()
    assert 8 < summary["fps"] < 1 / SLOW_S + 1  # the slow stage sets the pace
    assert summary["dropped"]["pipeline"] > 20  # the 30 fps camera's surplus is dropped, not queued
    p50, p95 = stats.latency_ms(whole_run=True)
    # Bound: wait for the stage to be free (< 1 stage time) + the stage itself + a camera period.
    assert p95 < 3 * SLOW_S * 1000
    assert p50 > SLOW_S * 1000  # and honest: the stage's own time is in it


def test_the_same_run_with_lossless_queues_would_lag_far_behind(clip):
    # What the bound above guards against: with queues (files' policy) latency grows to queue depth.
    stats = LiveStats()

    def sink(packet):
        stats.record(packet.captured)
        if stats.frames == 20:
            raise StopLive

    with pytest.raises(StopLive):
        run_pipeline(PacedFileCamera(clip), [("slow", slow)], sink, PipelineConfig(policy="lossless"))
    assert stats.latency_ms(whole_run=True)[1] > 3 * SLOW_S * 1000


def test_styles_switch_while_running_and_snapshots_are_saved(clip, tmp_path):
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    styles = [str(make_style(tmp_path / name, "frame", seed=seed)) for name, seed in (("a", 0), ("b", 1))]
    reference = {s: Stylizer(model=s, mode="frame") for s in styles}
    controls = LiveControls(styles, mode="frame")
    switcher = StyleSwitcher(lambda style, mode: Stylizer(model=style, mode=mode), controls)
    shown: list[tuple[str, FramePacket, np.ndarray]] = []

    class Recorder(NullSink):
        def show(self, view, packet):
            which = min(
                styles, key=lambda s: np.abs(reference[s].stylize(packet.image) - view.astype(int)).mean()
            )
            shown.append((which, packet, view))
            if len(shown) == 3:
                controls.handle("next-style")
                controls.handle("snapshot")
            if len(shown) == 25:
                controls.handle("quit")

    run_live(PacedFileCamera(clip), switcher, Recorder(), controls, LiveConfig(snapshot_dir=str(tmp_path)))
    used = [which for which, _, _ in shown]
    assert used[:3] == [styles[0]] * 3 and used[-1] == styles[1]  # switched, in the background
    assert used == sorted(used, key=styles.index)  # and never back
    for which, packet, view in shown:  # each frame is exactly what its style makes of it
        assert np.abs(reference[which].stylize(packet.image).astype(int) - view).max() <= 1
    snapshots = list(tmp_path.glob("snapshot-*.png"))
    assert len(snapshots) == 1 and read_image(snapshots[0]).shape == (48, 64, 3)


def test_split_and_mirror():
    image = np.zeros((4, 6, 3), np.uint8)
    styled = np.full((4, 6, 3), 200, np.uint8)
    styled[:, 0] = 50
    packet = FramePacket(index=0, image=image, output=styled)
    controls = LiveControls(["x"])
    assert np.array_equal(compose(packet, controls), styled)
    controls.handle("split")
    split = compose(packet, controls)
    assert (split[:, :3] == 0).all() and (split[:, 4:] == 200).all()  # before | after
    controls.handle("split")
    controls.handle("mirror")
    assert np.array_equal(compose(packet, controls), styled[:, ::-1])
    with pytest.raises(ValueError, match="unknown command"):
        controls.handle("explode")
