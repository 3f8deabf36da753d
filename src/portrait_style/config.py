"""Every tunable default, in one place.

Library functions take these dataclasses, never argparse namespaces.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FaceConfig:
    """Face detection, tracking, alignment and paste-back."""

    detector: str = "auto"  # one of options.DETECTORS: "auto" | "mtcnn" | "yunet" | "haar" (OpenCV 4)
    yunet_model: str | None = None  # path to a YuNet .onnx; also read from $PORTRAIT_STYLE_YUNET
    score_threshold: float = 0.8
    # False-positive guard for video: a new face is painted at once only when the detector is this sure
    # (MTCNN scores every face of the project's 160 portraits, GRID clips and Tears of Steel >= 0.97;
    # the railing, hand and neck it took for faces in Tears of Steel scored 0.72-0.965); a less sure
    # one is tracked unpainted and shown only once it has been detected again in every detection round
    # for `confirm_frames` frames. (A still image is one frame: there only confirm_score counts.)
    confirm_score: float = 0.97
    confirm_frames: int = 8
    min_face_size: int = 40  # pixels, shorter side of the box
    max_faces: int = 8
    detect_every: int = 5  # full detection every k frames, optical-flow tracking in between
    crop_size: int = 256  # side of the aligned square crop fed to the generator
    # crop side / face size, face size = max(2 x inter-ocular, 1.8 x eye-to-mouth) as in FFHQ's alignment:
    # 2.0 is FFHQ's framing (whole head, hair, chin), 2.2 leaves a little more room around it
    crop_scale: float = 2.2
    smooth_min_cutoff: float = 1.0  # One-Euro filter: lower = steadier when still
    smooth_beta: float = 0.05  # One-Euro filter: higher = less lag when moving
    feather: float = 0.18  # width of the soft blend band, as a fraction of the crop side
    color_match: bool = True  # pull the crop's border colour to the frame's so no seam shows
    detector_threads: int = 1  # ONNX Runtime threads for MTCNN: the generator needs the other cores
    smooth_fps: float = 30.0  # frame rate the smoother assumes when frames come without timestamps
    track_iou: float = 0.3  # a detection continues a track when their boxes overlap at least this much
    track_max_misses: int = 1  # detection rounds a flow-tracked face survives unmatched before it is dropped


@dataclass(frozen=True)
class EncodeConfig:
    """Video output."""

    codec: str = "libx264"
    crf: int = 18  # options.CRF_RANGE
    preset: str = "veryfast"  # options.X264_PRESETS
    pix_fmt: str = "yuv420p"
    # "auto": copy the audio when the output container's usual players decode its codec, else AAC;
    # "copy": always copy (an error when the container cannot hold it); "aac": always re-encode
    audio: str = "auto"
    audio_bitrate: int = 160_000  # bits/s of re-encoded AAC
    faststart: bool = True  # MP4/MOV: index (moov) before the data, so players start before the download ends


@dataclass(frozen=True)
class PipelineConfig:
    """Threaded streaming."""

    queue_size: int = 8  # frames in flight between two stages
    policy: str = "lossless"  # "lossless" (files: backpressure) | "latest" (cameras: drop stale frames)
