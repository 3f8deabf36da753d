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
    # ... except in a small frame, where a box spanning this fraction of the frame's shorter side is a
    # face all the same (frames under 200 px: thumbnails, small style photos, the look benchmark's 128²
    # portraits, where 40 px alone dropped 34 of 96 frontal faces and left a face-aware look unlit)
    min_face_fraction: float = 0.2
    max_faces: int = 8
    detect_every: int = 5  # full detection every k frames, optical-flow tracking in between
    # while no face is tracked, detect every this many frames: 1 for face mode (a face that appears is
    # stylized at once); a look whose light follows the faces uses detect_every (its light fades in
    # anyway): on Tears of Steel, with frames without faces, detection every frame cost 15 ms a frame
    search_every: int = 1
    crop_size: int = 256  # side of the aligned square crop fed to the generator
    # crop side / face size, face size = max(2 x inter-ocular, 1.8 x eye-to-mouth) as in FFHQ's alignment:
    # 2.0 is FFHQ's framing (whole head, hair, chin), 2.2 leaves a little more room around it
    crop_scale: float = 2.2
    smooth_min_cutoff: float = 1.0  # One-Euro filter: lower = steadier when still
    smooth_beta: float = 0.05  # One-Euro filter: higher = less lag when moving
    # a look whose light follows the faces: a second, slower One-Euro filter on each face's place and size
    # (GRID swiz3n flicker with `studio`: 1.14 on the tracker's boxes, 1.055 at 0.3 Hz / beta 2, 1.04 here)
    light_min_cutoff: float = 0.1
    light_beta: float = 1.0
    # the size's own beta: a face's size jitters from box to box while its real changes are slow (leaning
    # in), and a size that breathes makes the whole light breathe. Measured 2026-11-30, `studio` on the 11
    # GRID clips: flicker ratio at most 1.050 (swiz3n) and lbax4n 1.043 with light_beta for the size too;
    # 1.047 and 1.010 at 0.3 (swiz3n with one fixed table: 1.038)
    light_size_beta: float = 0.3
    # faces that come and go: a face the detector loses keeps its light where it was for light_hold_s,
    # then the light fades out over light_fade_s; a new face's light fades in over light_fade_s. With no
    # face lit the light rests on light_rest (cx, cy, size as in a face table: a portrait's usual face;
    # size 0: none). Without them, `studio` turned frames whose face the detector missed almost black
    # (its backdrop function everywhere) and back in one frame (Tears of Steel, frames 223-225). The
    # usual face, detected (2026-11-30): London portraits (0.00, -0.03, 0.44), webcam portraits (0.00,
    # -0.03, 0.49), Congress (-0.03, -0.04, 0.57), GRID's first frames (-0.02, 0.19, 0.53)
    light_hold_s: float = 1.0
    light_fade_s: float = 0.5
    light_rest: tuple[float, float, float] = (0.0, 0.0, 0.45)
    # scene cuts (engine/faces/cuts.py): at a cut the tracker's faces and a face look's lights are dropped
    # at once and the new shot is searched for faces. A cut changes a 64 x 36 HSV thumbnail by at least
    # cut_min_change (mean |dH| |dS| |dV|; 0 turns cuts off) and cut_ratio times the mean change of the
    # last cut_window frames, cut_min_shot frames or more after the last cut (the change, the ratio and
    # the shortest shot are PySceneDetect's adaptive detector's defaults; it averages 2 frames either
    # side, a live stream has only the past). Tears of Steel: its 3 cuts found, none in its flickering
    # hologram shot or in the 11 GRID clips (2026-11-30)
    cut_min_change: float = 15.0
    cut_ratio: float = 3.0
    cut_window: int = 8
    cut_min_shot: int = 15
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
    # "lossless" (files: backpressure) | "latest" (cameras: every hop keeps only the newest frame)
    policy: str = "lossless"
    join_timeout_s: float = 10.0  # at the end, how long to wait for a thread still inside a stage


@dataclass(frozen=True)
class LiveConfig:
    """`portrait-style live`: camera, pacing, outputs and what the overlay measures."""

    # What a camera is asked for (it may give something else; the real frame rate is measured).
    width: int = 640
    height: int = 480
    fps: float = 30.0
    fourcc: str = "MJPG"  # USB cameras give 30 fps at 640x480 and above only in MJPG, not raw YUYV
    buffer_frames: int = 1  # driver-side buffer: 1 so a read returns a fresh frame, not a stale one
    reconnect_attempts: int = 3  # a camera that stops delivering is reopened this many times
    reconnect_delay_s: float = 0.5
    read_timeout_s: float = 2.0  # no frame for this long counts as a failed read
    loop: bool = True  # a file given as the camera plays in a loop
    cache_frames: int = 300  # a looping clip this short is decoded once and kept in memory
    join_timeout_s: float = 1.0  # Ctrl-C or quit: stop within about this long
    stats_window: int = 120  # frames the live fps / latency figures are taken over
    # outputs
    host: str = "127.0.0.1"  # the web page; any other address needs a token
    port: int = 8080
    jpeg_quality: int = 80
    snapshot_dir: str = "."
    virtualcam_device: str | None = None  # e.g. /dev/video10; None: the first v4l2loopback device
    overlay: bool = True


@dataclass(frozen=True)
class CalibrateConfig:
    """`portrait-style calibrate`: which reduced precisions are safe for a style, and which setting of this
    machine reaches a frame rate (see calibrate/)."""

    fps: float = 30.0  # the frame rate the tuning aims for
    # A reduced precision is refused (and never chosen) when its output, against the same runtime's FP32
    # output on the same frames, is below this PSNR (over every pixel of every frame) ...
    min_psnr_db: float = 40.0
    max_abs_error: int = 16  # ... or differs anywhere by more than this many uint8 levels, or hits NaN/Inf
    # ONNX FP16: a node is kept in FP32 when its FP32 activations (inputs or outputs) on the check frames
    # reach this magnitude (FP16's largest finite value is 65504; half of it leaves room for other frames)
    fp16_activation_limit: float = 32752.0
    fp16_weight_limit: float = 1.0e4  # ... or when a weight exceeds this (onnxconverter-common clamps to it)
    check_frames: int = 4  # frames the precision check runs (evenly spaced over --frames, else synthetic)
    check_side: int = 256  # their shorter side in frame mode (face mode: the style's crop size)
    synthetic_size: tuple[int, int] = (1280, 720)  # width, height of the synthetic frames (no --frames)
    frame_sizes: tuple[int, ...] = (0, 1080, 720, 540, 360)  # frame mode working sizes tried (0: full)
    face_batches: tuple[int, ...] = (1, 2, 4)  # face mode: faces stylized per frame, one batch
    runs: int = 10  # timed runs per candidate (median and p95)
    warmup: int = 2
    quick_runs: int = 3  # --quick
    quick_warmup: int = 1
    # a candidate whose first run already takes this many frame budgets (1/fps) is not timed further
    give_up_factor: float = 3.0
