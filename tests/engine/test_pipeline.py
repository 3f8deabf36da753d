import os
import threading
import time
import traceback

import numpy as np
import pytest

from portrait_style.config import PipelineConfig
from portrait_style.engine.frame import FramePacket
from portrait_style.engine.pipeline import PipelineStats, max_in_flight, run_pipeline
from portrait_style.engine.video_io import VideoReader, VideoWriter
from tests.media import audio_packets, make_video, video_times

TINY = np.zeros((2, 2, 3), np.uint8)


def packets(n: int):
    for i in range(n):
        yield FramePacket(index=i, image=TINY)


def jittery(delay_s: float = 0.0005):
    """A stage that takes a different, small time per frame, so stages finish out of step."""

    def stage(packet: FramePacket) -> FramePacket:
        time.sleep(delay_s * (packet.index % 3))
        return packet

    return stage


class Collect:
    def __init__(self, delay_s: float = 0.0):
        self.packets: list[FramePacket] = []
        self.delay_s = delay_s

    def __call__(self, packet: FramePacket) -> None:
        time.sleep(self.delay_s)
        self.packets.append(packet)


def test_every_frame_passes_every_stage_in_order():
    sink = Collect()
    stages = [("a", jittery()), ("b", jittery(0.001)), ("c", jittery())]
    stats = run_pipeline(packets(40), stages, sink, PipelineConfig(queue_size=2))
    assert [p.index for p in sink.packets] == list(range(40))
    assert all(list(p.timings) == ["source", "a", "b", "c"] for p in sink.packets)  # each stage, in turn
    assert stats.frames == 40 and stats.dropped == 0
    assert {name: s.frames for name, s in stats.stages.items()} == dict(source=40, a=40, b=40, c=40, sink=40)
    assert stats.stages["b"].seconds > 0 and stats.wall_seconds > 0 and stats.fps > 0


def test_empty_source_and_no_stages():
    sink = Collect()
    assert run_pipeline(iter(()), [], sink).frames == 0
    assert run_pipeline(packets(3), [], sink).frames == 3


class StageFailed(Exception):
    pass


def test_error_in_a_middle_stage_is_raised_once_and_every_thread_ends():
    baseline = threading.active_count()
    raised = StageFailed("frame 7 is bad")
    closed = threading.Event()

    def endless_source():  # would run forever if the pipeline did not stop it
        try:
            i = 0
            while True:
                yield FramePacket(index=i, image=TINY)
                i += 1
        finally:
            closed.set()

    def failing_stage(packet):
        if packet.index == 7:
            raise raised
        return packet

    stages = [("first", jittery()), ("failing", failing_stage), ("last", jittery())]
    sink = Collect(delay_s=0.002)  # slow: upstream queues are full and blocked when the error happens
    with pytest.raises(StageFailed) as info:
        run_pipeline(endless_source(), stages, sink, PipelineConfig(queue_size=2))
    assert info.value is raised
    frames = [frame.name for frame in traceback.extract_tb(info.value.__traceback__)]
    assert "failing_stage" in frames  # the original traceback, not one made in the caller
    assert [p.index for p in sink.packets] == list(range(len(sink.packets)))
    assert len(sink.packets) <= 7
    assert closed.is_set()  # the source generator was closed (its file would be released)
    assert threading.active_count() == baseline


@pytest.mark.parametrize("where", ["source", "sink"])
def test_error_in_source_or_sink_stops_the_pipeline(where):
    baseline = threading.active_count()

    def source():
        yield from packets(5)
        if where == "source":
            raise OSError("camera unplugged")
        yield from packets(1000)

    def sink(packet):
        if where == "sink" and packet.index == 3:
            raise OSError("disk full")

    with pytest.raises(OSError, match="camera unplugged" if where == "source" else "disk full"):
        run_pipeline(source(), [("a", jittery()), ("b", jittery())], sink, PipelineConfig(queue_size=1))
    assert threading.active_count() == baseline


def test_keyboard_interrupt_in_the_caller_stops_cleanly():
    baseline = threading.active_count()

    def sink(packet):
        if packet.index == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_pipeline(packets(10_000), [("a", jittery())], sink, PipelineConfig(queue_size=2))
    assert threading.active_count() == baseline


def test_lossless_backpressure_bounds_how_far_the_source_runs_ahead():
    produced = 0
    ahead: list[int] = []

    def source():
        nonlocal produced
        for packet in packets(60):
            produced += 1
            yield packet

    def slow_sink(packet):
        ahead.append(produced - packet.index)
        time.sleep(0.002)

    cfg = PipelineConfig(queue_size=2)
    stages = [("a", jittery(0)), ("b", jittery(0))]
    stats = run_pipeline(source(), stages, slow_sink, cfg)
    assert stats.frames == 60 and stats.dropped == 0
    assert max(ahead) <= max_in_flight(len(stages), cfg.queue_size)


def test_latest_policy_drops_stale_frames_for_a_slow_consumer():
    sink = Collect(delay_s=0.005)
    stats = run_pipeline(packets(200), [("a", jittery(0))], sink, PipelineConfig(policy="latest"))
    indices = [p.index for p in sink.packets]
    assert stats.dropped > 0
    assert len(indices) + stats.dropped == 200  # every frame is either shown or counted as dropped
    assert indices == sorted(indices) and indices[-1] == 199  # order kept; the newest frame is never lost


def test_a_stage_must_return_the_packet():
    with pytest.raises(TypeError, match="returned None"):
        run_pipeline(packets(3), [("forgetful", lambda packet: None)], Collect())


@pytest.mark.parametrize(
    "stages, cfg",
    [
        ([("a", jittery()), ("a", jittery())], PipelineConfig()),
        ([("sink", jittery())], PipelineConfig()),
        ([], PipelineConfig(policy="newest")),
        ([], PipelineConfig(queue_size=0)),
    ],
    ids=["duplicate-name", "reserved-name", "unknown-policy", "no-queue"],
)
def test_bad_configuration_is_refused_before_starting(stages, cfg):
    baseline = threading.active_count()
    with pytest.raises(ValueError):
        run_pipeline(packets(3), stages, Collect(), cfg)
    assert threading.active_count() == baseline


def test_a_video_file_streams_through_the_pipeline_into_a_writer(tmp_path):
    made = make_video(tmp_path / "in.mp4", n_frames=20, vfr=True)

    def invert(packet):
        packet.output = 255 - packet.image
        return packet

    out = tmp_path / "out.mp4"
    with VideoReader(made.path) as reader, VideoWriter(out, reader, audio_source=made.path) as writer:
        stats = run_pipeline(reader, [("invert", invert)], writer.write, PipelineConfig(queue_size=2))
    assert stats.frames == 20
    assert video_times(out) == pytest.approx(made.times)
    assert audio_packets(out) == audio_packets(made.path)

    def broken(packet):
        raise StageFailed

    failed = tmp_path / "failed.mp4"
    with pytest.raises(StageFailed), VideoReader(made.path) as reader, VideoWriter(failed, reader) as writer:
        run_pipeline(reader, [("broken", broken)], writer.write)
    assert not failed.exists() and sorted(os.listdir(tmp_path)) == ["in.mp4", "out.mp4"]


def sleeper(seconds: float):
    def stage(packet: FramePacket) -> FramePacket:
        time.sleep(seconds)
        return packet

    return stage


def test_latest_policy_keeps_only_the_newest_frame_at_every_hop():
    # A fast source, a slow middle stage and a slow sink: every hop overwrites, none builds a backlog.
    produced = 0
    lag: list[int] = []

    def source():
        nonlocal produced
        for packet in packets(400):
            produced += 1
            time.sleep(0.0005)
            yield packet

    def sink(packet):
        lag.append(produced - 1 - packet.index)  # frames made since this one
        time.sleep(0.01)

    stages = [("fast", jittery(0)), ("slow", sleeper(0.004)), ("after", jittery(0))]
    stats = run_pipeline(source(), stages, sink, PipelineConfig(policy="latest", queue_size=8))
    assert stats.frames + stats.dropped == 400
    assert stats.stages["after"].frames > stats.frames  # the last hop (into the sink) dropped too
    # Lossless with these queues would let the sink fall (n_stages + 1) * 8 frames behind and more.
    assert max(lag[1:-1]) <= 2 * 30  # about two frames per hop at ~1.5 ms a frame, 10 ms in the sink


def test_stats_are_live_and_idle_callback_can_stop_the_run():
    baseline = threading.active_count()
    stats = PipelineStats()
    seen = []

    def stalled_source():  # one frame, then nothing for a long time
        yield FramePacket(index=0, image=TINY)
        time.sleep(3)

    def idle():
        seen.append(stats.frames)
        if len(seen) >= 3:
            raise StageFailed("viewer quit")

    start = time.perf_counter()
    cfg = PipelineConfig(policy="latest", join_timeout_s=0.5)
    with pytest.raises(StageFailed):
        run_pipeline(stalled_source(), [], Collect(), cfg, stats=stats, on_idle=idle)
    assert seen[-1] == 1  # the caller's stats object counted the frame while the run went on
    assert time.perf_counter() - start < 1.5  # did not wait the source's 3 s out
    time.sleep(3)  # the daemon source thread ends on its own
    assert threading.active_count() == baseline


def test_interrupt_returns_within_the_join_timeout_when_a_stage_is_stuck():
    def sink(packet):
        raise KeyboardInterrupt

    calls = []

    def stuck_after_the_first(packet):
        calls.append(packet.index)
        if len(calls) > 1:
            time.sleep(2)  # inside user code: the pipeline cannot interrupt it, only stop waiting
        return packet

    start = time.perf_counter()
    with pytest.raises(KeyboardInterrupt):
        cfg = PipelineConfig(policy="latest", join_timeout_s=0.3)
        run_pipeline(packets(100), [("stuck", stuck_after_the_first)], sink, cfg)
    assert time.perf_counter() - start < 1.0
    time.sleep(2.1)
