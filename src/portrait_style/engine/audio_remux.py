"""Copy a file's audio into an output being written, packet for packet, in step with its video.

The input is opened a second time just for its audio, and packets are read only as far as the video has
got, so nothing is buffered beyond the muxer's own interleaving window. Packets keep their bytes and
timestamps (PyAV's remux recipe: point the packet at the output stream and mux it).

Whether a stream is copied or re-encoded as AAC is the policy's choice (`audio_plan`): "copy" always
copies, "aac" always re-encodes, and "auto" copies only a codec that the usual players of the output
container decode (`PLAYABLE_AUDIO`): MP2 (MPEG-1 files, DVB) muxes into MP4 without complaint, but
Chromium then plays the video silent, so "auto" re-encodes it.
"""

from __future__ import annotations

import logging
from pathlib import Path

import av

from portrait_style.errors import InputError, OutputError

log = logging.getLogger(__name__)

# Audio codecs that the usual players of each container (Chromium, Firefox, Safari/QuickTime, VLC,
# phones) all decode. Anything else is re-encoded as AAC by the "auto" policy. Checked in headless
# Chromium 156 (docs/RELIABILITY.md): every entry plays; MP2 copied into .mkv and .mov is silent; MP2
# in .mp4 plays in Chromium but stays out (MP4's other players unchecked; re-encoding costs little).
PLAYABLE_AUDIO: dict[str, frozenset[str]] = {
    ".mp4": frozenset({"aac", "mp3"}),
    ".m4v": frozenset({"aac", "mp3"}),
    ".mov": frozenset({"aac", "mp3"}),
    ".mkv": frozenset({"aac", "mp3", "opus", "vorbis", "flac"}),
}


def audio_plan(codec: str, suffix: str, policy: str = "auto") -> bool:
    """True when a `codec` audio stream going into a file ending in `suffix` should be re-encoded as AAC.

    policy: "copy" (never), "aac" (always), "auto" (unless the container's usual players decode it).
    """
    if policy == "copy":
        return False
    if policy == "aac":
        return True
    if policy != "auto":
        raise ValueError(f"unknown audio policy {policy!r}: choose auto, copy or aac")
    return codec not in PLAYABLE_AUDIO.get(suffix.lower(), frozenset({"aac"}))


class AudioRemuxer:
    """Route every audio stream of `source` into `output` (an open, not yet started, container).

    policy: "auto", "copy" or "aac", see `audio_plan`; `suffix` is the output file's (the temporary
        file being written may have another name).
    transcode: re-encode every stream as AAC whatever the policy (the fallback when the muxer turns the
        copied codec down while writing its header).
    bitrate: of the AAC encoder, bits per second.
    `copied` and `transcoded` list the codecs of the streams handled each way.
    """

    def __init__(
        self,
        source: str | Path,
        output: av.container.OutputContainer,
        transcode: bool = False,
        policy: str = "auto",
        suffix: str = ".mp4",
        bitrate: int = 160_000,
    ):
        self.source = Path(source)
        self.policy, self.suffix, self.bitrate = policy, suffix, bitrate
        self.copied: list[str] = []
        self.transcoded: list[str] = []
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
        transcode = transcode or audio_plan(codec, self.suffix, self.policy)
        if not transcode and codec in self._output.supported_codecs:
            try:
                out = self._output.add_stream_from_template(stream)
                self.copied.append(codec)
                return out, False
            except ValueError:
                pass  # the muxer refuses it after all
        if not transcode:
            if self.policy == "copy":
                raise OutputError(
                    f"--audio copy: {self.suffix} files cannot hold {codec} audio; use --audio aac or"
                    " another container"
                )
            why = f"{self.suffix} files cannot hold it"
        elif self.policy == "aac":
            why = "--audio aac"
        else:
            why = f"most {self.suffix} players cannot decode {codec}; --audio copy keeps it as it is"
        log.warning("audio: %s re-encoded as AAC at %d kb/s (%s)", codec, self.bitrate // 1000, why)
        layout = stream.layout.name if stream.layout and stream.layout.nb_channels else "stereo"
        out = self._output.add_stream("aac", rate=stream.rate, layout=layout)
        out.bit_rate = self.bitrate
        self.transcoded.append(codec)
        return out, True

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
