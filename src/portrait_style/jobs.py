"""File-level jobs: stylize a video, an image, or a folder of images.

A job chooses a source, a stylizer and a sink (`live.sources`, `live.sinks`). Videos go through the
threaded pipeline (decode -> detect -> infer -> composite -> encode) with the lossless policy, so every
input frame comes out with its own timestamp; audio is copied untouched. Outputs are written to a
temporary file and renamed when complete; a folder job that writes nothing removes the output folder it
created.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from portrait_style.config import EncodeConfig, PipelineConfig
from portrait_style.engine.frame import FramePacket
from portrait_style.engine.image_io import is_image_path, list_images, read_image, write_image
from portrait_style.engine.pipeline import PipelineStats, run_pipeline
from portrait_style.engine.video_io import OUTPUT_SUFFIXES
from portrait_style.errors import InputError, OutputError
from portrait_style.fileutil import check_writable_dir
from portrait_style.live.sinks import FileSink
from portrait_style.live.sources import FileSource

Stage = tuple[str, Callable[[FramePacket], FramePacket]]


@dataclass
class JobResult:
    output: Path
    frames: int
    seconds: float
    stats: PipelineStats | None = None

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds else 0.0

    def as_row(self) -> dict:
        row = {"frames": self.frames, "seconds": round(self.seconds, 3), "fps": round(self.fps, 2)}
        if self.stats:
            row["ms_per_frame"] = {k: round(v.ms_per_frame, 2) for k, v in self.stats.stages.items()}
        return row

    def summary(self) -> str:
        return f"wrote {self.output}: {self.frames} frame(s) in {self.seconds:.1f} s ({self.fps:.1f} fps)"


def check_input(path: str | os.PathLike) -> Path:
    path = Path(path)
    if not path.exists():
        raise InputError(f"input not found: {path}")
    return path


def check_output(src: str | os.PathLike, dst: str | os.PathLike) -> Path:
    """Refuse an output that cannot work, before any model is loaded: wrong kind, same file as the input,
    a folder that does not exist or cannot be written."""
    src, dst = Path(src), Path(dst)
    if src.exists() and dst.exists() and src.resolve() == dst.resolve():
        raise OutputError(f"output would overwrite the input: {dst}")
    if src.is_dir():
        if dst.exists() and not dst.is_dir():
            raise OutputError(f"input is a folder, so the output must be a folder: {dst}")
        existing = next(p for p in (dst, *dst.absolute().parents) if p.exists())
        check_writable_dir(existing if existing.is_dir() else existing.parent)
        return dst
    if is_image_path(src):
        if not is_image_path(dst):
            raise OutputError(f"input is an image, so the output must be one too (.png/.jpg/...): {dst}")
    elif is_image_path(dst):
        raise OutputError(f"input is a video, so the output must be a video file (.mp4/.mkv/.mov): {dst}")
    elif dst.suffix.lower() not in OUTPUT_SUFFIXES:
        allowed = ", ".join(OUTPUT_SUFFIXES)
        raise OutputError(f"cannot write {dst.name}: a video output must end in {allowed}")
    if dst.is_dir():
        raise OutputError(f"output path is a folder: {dst}")
    check_writable_dir(dst.parent if str(dst.parent) else Path("."))
    return dst


def stylize_path(
    src: str | os.PathLike,
    dst: str | os.PathLike,
    stylizer,
    encode: EncodeConfig = EncodeConfig(),
    pipeline: PipelineConfig = PipelineConfig(),
    progress: bool = True,
) -> JobResult:
    """Stylize whatever `src` is (video, image, folder of images) into `dst` of the same kind."""
    src, dst = check_input(src), Path(dst)
    if src.resolve() == dst.resolve():
        raise OutputError(f"output would overwrite the input: {dst}")
    if src.is_dir():
        return stylize_folder(src, dst, stylizer, progress)
    if is_image_path(src):
        if not is_image_path(dst):
            raise OutputError(f"input is an image, so the output must be one too (.png/.jpg/...): {dst}")
        return stylize_image(src, dst, stylizer)
    if is_image_path(dst):
        raise OutputError(f"input is a video, so the output must be a video file (.mp4/.mkv/.mov): {dst}")
    stylizer.reset()
    return process_video(src, dst, stylizer.stages(), encode, pipeline, progress)


def process_video(
    src: str | os.PathLike,
    dst: str | os.PathLike,
    stages: Sequence[Stage],
    encode: EncodeConfig = EncodeConfig(),
    pipeline: PipelineConfig = PipelineConfig(),
    progress: bool = True,
) -> JobResult:
    """Decode `src`, run `stages` on every frame in the threaded pipeline, encode to `dst` with audio.

    With no stages this is a plain decode + re-encode: the I/O ceiling the benchmark compares against.
    """
    start = time.perf_counter()
    with FileSource(src) as source:
        info = source.info()
        # The sink is opened first so an unwritable output fails before any decoding work.
        with FileSink(dst, info, encode, audio_source=src if info.has_audio else None) as writer:
            total = info.frame_count or None
            with tqdm(
                total=total, unit="frame", desc=Path(src).name, disable=None if progress else True
            ) as bar:

                def sink(packet: FramePacket) -> None:
                    writer.write(packet)
                    bar.update()

                stats = run_pipeline(source, stages, sink, pipeline)
            if stats.frames == 0:
                raise InputError(f"no video frames could be decoded from {src}")
    return JobResult(Path(dst), stats.frames, time.perf_counter() - start, stats)


def stylize_image(src: Path, dst: Path, stylizer) -> JobResult:
    start = time.perf_counter()
    image = read_image(src)
    stylizer.reset()  # an unrelated picture: detect from scratch
    write_image(dst, stylizer.stylize(image))
    return JobResult(dst, 1, time.perf_counter() - start)


def stylize_folder(src: Path, dst: Path, stylizer, progress: bool = True) -> JobResult:
    """Every image in `src` to the same name in `dst` (created). Unreadable files are reported and skipped."""
    images = list_images(src)
    if not images:
        raise InputError(f"no images (.jpg/.png/.webp/...) in folder {src}")
    if dst.exists() and not dst.is_dir():
        raise OutputError(f"input is a folder, so the output must be a folder: {dst}")
    created = [p for p in (dst, *dst.absolute().parents) if not p.exists()]  # deepest first
    try:
        dst.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create output folder {dst}: {exc.strerror}") from None
    start, done, skipped = time.perf_counter(), 0, []
    try:
        for path in tqdm(images, unit="image", disable=None if progress else True):
            try:
                stylize_image(path, dst / path.name, stylizer)
                done += 1
            except InputError as exc:
                skipped.append(f"{path.name} ({exc})")
        if not done:
            raise InputError(f"none of the {len(images)} images in {src} could be read")
    finally:
        if not done:  # nothing written: leave no empty folder behind either
            for folder in created:
                with contextlib.suppress(OSError):
                    folder.rmdir()
    if skipped:
        tqdm.write(f"skipped {len(skipped)} unreadable image(s): {'; '.join(skipped)}", file=sys.stderr)
    return JobResult(dst, done, time.perf_counter() - start)
