"""Live latency: a 640x480 paced camera at 30 fps through the built-in `studio` style, face mode and the
whole-frame path (`--mode frame`); fps, capture->sink latency p50/p95 and dropped frames as JSON.

    python benchmarks/bench_live.py [--seconds 20] [--style studio] [--json out.json]

The camera is a looping clip delivered at its own frame rate (frames the pipeline cannot take in time are
dropped, as a real camera's driver does): a portrait (scikit-image's astronaut, public domain) drifting
across a 640x480 frame, so face mode detects, tracks and stylizes a real face.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np
import skimage.data

from portrait_style.engine.frame import FramePacket
from portrait_style.engine.video_io import VideoInfo, VideoWriter
from portrait_style.live.bench import bench_live


def face_clip(path: Path, frames: int = 90, fps: int = 30) -> Path:
    face = cv2.resize(skimage.data.astronaut()[:320, 100:420], (280, 280), interpolation=cv2.INTER_AREA)
    info = VideoInfo(width=640, height=480, fps=Fraction(fps), time_base=Fraction(1, fps))
    with VideoWriter(path, info) as writer:
        for i in range(frames):
            canvas = np.full((480, 640, 3), 120, np.uint8)
            x = 180 + round(150 * np.sin(2 * np.pi * i / frames))  # there and back: the loop has no jump
            canvas[100:380, x : x + 280] = face
            writer.write(FramePacket(index=i, image=canvas, pts=i, time_base=info.time_base))
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--style", default="studio")
    parser.add_argument("--modes", default="face,frame")
    parser.add_argument("--json", help="also write the report here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        clip = face_clip(Path(tmp) / "portrait-640x480.mp4")
        report = bench_live(
            style=args.style, modes=tuple(args.modes.split(",")), seconds=args.seconds, clip=str(clip)
        )
    report["camera"]["clip"] = "astronaut portrait drifting, 640x480, 90-frame loop"
    text = json.dumps(report, indent=2)
    print(text)
    if args.json:
        Path(args.json).write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
