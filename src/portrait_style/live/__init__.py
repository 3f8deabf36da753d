"""Live video: the pipeline's two ends for cameras, and `portrait-style live`.

    source (camera | file | paced file camera) -> detect -> infer -> composite -> sink
    (window | virtual camera | web page | file)

Sources stamp each `FramePacket` with its capture time (`captured`, `time.monotonic()` seconds); the
live pipeline keeps only the newest frame at every hop (`PipelineConfig(policy="latest")`), and
`LiveStats` measures frame rate, capture-to-sink latency and dropped frames at the sink.
"""

from portrait_style.live.sources import CameraSource, FileSource, PacedFileCamera, open_source
from portrait_style.live.stats import LiveStats

__all__ = ["CameraSource", "FileSource", "LiveStats", "PacedFileCamera", "open_source"]
