"""Run source -> stages -> sink with one thread per step, so decoding, inference and encoding overlap.

    source thread --q0--> stage 1 thread --q1--> ... stage n thread --qn--> sink (the calling thread)

Every queue is bounded (`PipelineConfig.queue_size`) and a single end-of-stream marker follows the last
frame, so order is kept and memory stays flat. Policy "lossless" (files) blocks a fast producer until
there is room: no frame is lost. Policy "latest" (cameras) replaces every queue by a one-frame mailbox
that overwrites: a new frame evicts the one the next step has not taken yet (counted in
`PipelineStats.dropped`), so no step ever waits on a full queue and the time from capture to sink is
the stages' own time (at most about two frames per step), never a backlog.

The first exception in any thread (source, stage or sink), or a KeyboardInterrupt in the caller, sets a
stop event; every blocking wait has a short timeout and checks it, so no thread stays stuck on a full or
empty queue. All threads are joined, then that first exception is raised in the caller, once, with its own
type and traceback.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from portrait_style.config import PipelineConfig
from portrait_style.engine.frame import FramePacket

log = logging.getLogger(__name__)

Stage = Callable[[FramePacket], FramePacket]
POLICIES = ("lossless", "latest")
_END = object()  # end-of-stream marker: follows the last frame through every queue
_POLL_S = 0.05  # how often a blocked thread looks at the stop event


@dataclass
class StageStats:
    frames: int = 0
    seconds: float = 0.0  # time spent inside the step's own work, not waiting on queues

    @property
    def ms_per_frame(self) -> float:
        return 1000.0 * self.seconds / self.frames if self.frames else 0.0


@dataclass
class PipelineStats:
    frames: int = 0  # frames the sink received
    wall_seconds: float = 0.0
    dropped: int = 0  # frames the "latest" policy skipped (kept current while the run goes on)
    stages: dict[str, StageStats] = field(default_factory=dict)  # "source", each stage by name, "sink"

    @property
    def fps(self) -> float:
        return self.frames / self.wall_seconds if self.wall_seconds > 0 else 0.0


def max_in_flight(n_stages: int, queue_size: int) -> int:
    """Most frames the source can be ahead of the sink under "lossless": full queues plus one per thread."""
    return (n_stages + 1) * queue_size + n_stages + 2


class _LatestSlot:
    """A one-frame queue whose `put` never blocks: a new frame evicts the one still waiting."""

    def __init__(self) -> None:
        self._items: deque = deque()
        self._ready = threading.Condition()
        self.dropped = 0  # written under the lock, read without it (an int read is atomic)

    def put(self, item: object, timeout: float | None = None) -> None:
        with self._ready:
            if item is not _END:  # the end marker never evicts the last frame
                self.dropped += len(self._items)
                self._items.clear()
            self._items.append(item)
            self._ready.notify()

    def get(self, timeout: float | None = None) -> object:
        with self._ready:
            if not self._ready.wait_for(lambda: self._items, timeout):
                raise queue.Empty
            return self._items.popleft()


class _Run:
    """What all threads of one run share: the stop event and the first failure."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.error: BaseException | None = None
        self._lock = threading.Lock()

    def fail(self, exc: BaseException) -> None:
        with self._lock:
            if self.error is None:
                self.error = exc
        self.stop.set()

    def put(self, q: queue.Queue | _LatestSlot, item: object) -> bool:
        """Block until `item` is queued (True) or the run is stopping (False)."""
        while not self.stop.is_set():
            try:
                q.put(item, timeout=_POLL_S)
                return True
            except queue.Full:
                continue
        return False

    def get(self, q: queue.Queue | _LatestSlot) -> object | None:
        """Block until an item arrives, or return None when the run is stopping."""
        while not self.stop.is_set():
            try:
                return q.get(timeout=_POLL_S)
            except queue.Empty:
                continue
        return None


def run_pipeline(
    source: Iterable[FramePacket],
    stages: Sequence[tuple[str, Stage]],
    sink: Callable[[FramePacket], None],
    cfg: PipelineConfig | None = None,
    stats: PipelineStats | None = None,
    on_idle: Callable[[], None] | None = None,
) -> PipelineStats:
    """Pull every packet from `source` through `stages` (in order, each in its own thread) into `sink`.

    `sink` runs in the calling thread. Each stage's time is added to `packet.timings[name]` and the
    totals come back in `PipelineStats`, with the source's under "source" and the sink's under "sink".
    stats: pass one in to watch it while the run goes on (frames, dropped). on_idle: called in the
    calling thread about every 50 ms while no frame arrives (a window keeps answering its keys); like
    the sink, it may raise to stop the run.
    """
    cfg = cfg or PipelineConfig()
    if cfg.policy not in POLICIES:
        raise ValueError(f"unknown pipeline policy {cfg.policy!r}; expected one of {POLICIES}")
    if cfg.queue_size < 1:
        raise ValueError(f"queue_size must be at least 1, got {cfg.queue_size}")
    names = ["source", *(name for name, _ in stages), "sink"]
    if len(set(names)) != len(names):
        raise ValueError(f"stage names must be unique and not 'source' or 'sink': {names[1:-1]}")

    run = _Run()
    stats = stats if stats is not None else PipelineStats()
    stats.stages = {name: StageStats() for name in names}
    if cfg.policy == "latest":
        queues: list[queue.Queue | _LatestSlot] = [_LatestSlot() for _ in range(len(stages) + 1)]
    else:
        queues = [queue.Queue(cfg.queue_size) for _ in range(len(stages) + 1)]
    source_args = (source, queues[0], stats.stages["source"], run)
    threads = [threading.Thread(target=_source_worker, args=source_args, name="pipeline-source", daemon=True)]
    for i, (name, fn) in enumerate(stages):
        args = (name, fn, queues[i], queues[i + 1], stats.stages[name], run)
        threads.append(threading.Thread(target=_stage_worker, args=args, name=f"stage-{name}", daemon=True))

    start = time.perf_counter()
    for thread in threads:
        thread.start()
    try:
        _sink_loop(sink, queues, stats, run, on_idle)
    except BaseException as exc:  # KeyboardInterrupt while waiting: stop everything the same way
        run.fail(exc)
    finally:
        run.stop.set()
        deadline = time.perf_counter() + cfg.join_timeout_s  # for all threads together
        for thread in threads:
            thread.join(max(0.0, deadline - time.perf_counter()))
            if thread.is_alive():  # a daemon thread: it cannot keep the process alive
                log.warning("pipeline thread %s did not stop within %.1f s", thread.name, cfg.join_timeout_s)
    stats.wall_seconds = time.perf_counter() - start
    stats.dropped = _dropped(queues)
    if run.error is not None:
        raise run.error
    return stats


def _dropped(queues) -> int:
    return sum(q.dropped for q in queues if isinstance(q, _LatestSlot))


def _source_worker(source: Iterable[FramePacket], out_q, timer: StageStats, run: _Run) -> None:
    iterator = None
    try:
        iterator = iter(source)
        while not run.stop.is_set():
            start = time.perf_counter()
            packet = next(iterator, _END)
            if packet is _END:
                run.put(out_q, _END)
                return
            elapsed = time.perf_counter() - start
            packet.timings["source"] = elapsed
            timer.seconds += elapsed
            timer.frames += 1
            if not run.put(out_q, packet):
                return
    except BaseException as exc:
        run.fail(exc)
    finally:
        close = getattr(iterator, "close", None)  # a generator: run its cleanup (e.g. close the file) now
        if close is not None:
            try:
                close()
            except Exception as exc:
                run.fail(exc)


def _stage_worker(name: str, fn: Stage, in_q, out_q, timer: StageStats, run: _Run) -> None:
    try:
        while (packet := run.get(in_q)) is not None:
            if packet is _END:
                run.put(out_q, _END)
                return
            start = time.perf_counter()
            result = fn(packet)
            elapsed = time.perf_counter() - start
            if result is None:
                raise TypeError(f"pipeline stage {name!r} returned None; a stage must return the packet")
            result.timings[name] = elapsed
            timer.seconds += elapsed
            timer.frames += 1
            if not run.put(out_q, result):
                return
    except BaseException as exc:
        run.fail(exc)


def _sink_loop(sink, queues, stats: PipelineStats, run: _Run, on_idle) -> None:
    timer, in_q = stats.stages["sink"], queues[-1]
    while not run.stop.is_set():
        try:
            packet = in_q.get(timeout=_POLL_S)
        except queue.Empty:
            if on_idle is not None:
                on_idle()
            continue
        if packet is _END:
            return
        stats.dropped = _dropped(queues)
        start = time.perf_counter()
        sink(packet)
        timer.seconds += time.perf_counter() - start
        timer.frames += 1
        stats.frames += 1
