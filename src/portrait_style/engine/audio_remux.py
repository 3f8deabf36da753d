"""Copy a file's audio into an output being written, packet for packet, in step with its video.

The input is opened a second time just for its audio, and packets are read only as far as the video has
got, so nothing is buffered beyond the muxer's own interleaving window. Packets keep their bytes and
timestamps (PyAV's remux recipe: point the packet at the output stream and mux it). Only a codec the
output container cannot hold is decoded and re-encoded as AAC.
"""

from __future__ import annotations

import logging
from pathlib import Path

import av

from portrait_style.errors import InputError

log = logging.getLogger(__name__)


class AudioRemuxer:
    """Route every audio stream of `source` into `output` (an open, not yet started, container).

    transcode: re-encode every stream as AAC instead of copying (the fallback when the muxer turns the
        copied codec down while writing its header).
    """

    def __init__(self, source: str | Path, output: av.container.OutputContainer, transcode: bool = False):
        self.source = Path(source)
        try:
            self._input = av.open(str(self.source), metadata_errors="ignore")
        except (av.error.FFmpegError, OSError) as exc:
            raise InputError(f"cannot read the audio of {self.source}: {exc}") from None
        self._output = output
        # input stream index -> (output stream, whether it is re-encoded)
        self._routes: dict[int, tuple[av.AudioStream, bool]] = {}
        for stream in self._input.streams.audio:
            self._routes[stream.index] = self._add_output_stream(stream, transcode)
        streams = list(self._input.streams.audio)
        self._packets = self._input.demux(streams) if streams else iter(())
        self._pending: av.Packet | None = None

    def _add_output_stream(self, stream: av.AudioStream, transcode: bool) -> tuple[av.AudioStream, bool]:
        codec = stream.codec_context.codec.canonical_name
        if not transcode and codec in self._output.supported_codecs:
            try:
                return self._output.add_stream_from_template(stream), False
            except ValueError:
                pass  # the muxer refuses it after all: fall through to AAC
        if not transcode:
            log.warning("%s: %s audio cannot go into %s; re-encoding it as AAC",
                        self.source, codec, self._output.format.name)  # fmt: skip
        layout = stream.layout.name if stream.layout and stream.layout.nb_channels else "stereo"
        return self._output.add_stream("aac", rate=stream.rate, layout=layout), True

    def copy_until(self, seconds: float) -> None:
        """Write every audio packet that starts at or before `seconds` (the video frame about to be muxed)."""
        while (packet := self._next_packet()) is not None:
            start = packet.pts if packet.pts is not None else packet.dts
            if start is not None and float(start * packet.time_base) > seconds:
                self._pending = packet
                return
            self._write(packet)

    def copy_rest(self) -> None:
        """Write all remaining audio, then flush any AAC encoder."""
        while (packet := self._next_packet()) is not None:
            self._write(packet)
        for out_stream, transcoded in self._routes.values():
            if transcoded:
                self._output.mux(out_stream.encode(None))

    def _next_packet(self) -> av.Packet | None:
        if self._pending is not None:
            packet, self._pending = self._pending, None
            return packet
        try:
            return next(self._packets)
        except StopIteration:
            return None
        except av.error.FFmpegError as exc:  # a damaged or truncated input: keep the audio read so far
            log.warning("%s: audio ends early: %s", self.source, exc)
            self._packets = iter(())
            return None

    def _write(self, packet: av.Packet) -> None:
        out_stream, transcoded = self._routes[packet.stream.index]
        if transcoded:
            for frame in packet.decode():  # an empty packet flushes the decoder
                frame.pts = None  # the encoder numbers its own samples
                self._output.mux(out_stream.encode(frame))
        elif packet.dts is not None:  # demux ends each stream with an empty packet: nothing to copy
            packet.stream = out_stream
            self._output.mux(packet)

    def close(self) -> None:
        self._input.close()
