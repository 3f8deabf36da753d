"""Device tuning: the setting of this machine that runs a style at a target frame rate.

Candidates are backend row x accepted precision x ONNX Runtime threads (1, 2, 4 ... cores; rows that take
the `threads` option) x working size:

- frame mode: the shorter side frames are stylized at (`CalibrateConfig.frame_sizes`, capped at the
  input's and at the style's own frame size; 0 there is the full size, the cap itself). Each is timed as
  `Stylizer.stylize` runs a frame: scale down, pad, the model, scale back. The pipeline runs those stages
  side by side with decoding and encoding, so a video's rate differs; on few cores they share the same
  cores, so take it as an estimate. When the full size is chosen, the profile records the style's own
  frame size (0, "as it comes", for most styles), not the calibration frames' side: a later 4K video is
  not brought down to the 720 of the frames calibrate measured.
- face mode: faces per frame (`face_batches`), one batch of crops at the style's crop size through the
  model alone (detection runs every few frames and is left out).

A candidate that fails (a missing kernel, out of memory, a runtime error of any kind) is recorded as
"cannot run: <why>" and skipped; the others are still timed.

The choice: among candidates that reach the rate, the largest working size (most faces), then the
highest precision (fp32 > fp16 > bf16), then the fastest; when none does, the fastest of all.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from portrait_style.calibrate.precision import cannot_run
from portrait_style.calibrate.timing import time_budgeted
from portrait_style.config import CalibrateConfig

PRECISION_RANK = {"fp32": 3, "fp16": 2, "bf16": 1, "int8": 0}


@dataclass
class Candidate:
    backend: str
    device: str
    precision: str
    options: dict = field(default_factory=dict)
    size: int = 0  # frame mode: working shorter side; face mode: faces per batch
    median_ms: float = 0.0
    p95_ms: float = 0.0
    runs: int = 0
    fps: float = 0.0
    meets: bool = False
    skipped: str = ""  # "cannot run: <why>" when it could not be timed (then never chosen)

    def spec(self):
        from portrait_style.engine.backends import BackendSpec

        return BackendSpec(self.backend, self.device, self.precision, self.options)


def thread_counts(cores: int | None = None) -> list[int]:
    """1, 2, 4 ... and the core count itself."""
    cores = max(1, cores or os.cpu_count() or 1)
    counts, n = [], 1
    while n < cores:
        counts.append(n)
        n *= 2
    return [*counts, cores]


def candidate_specs(accepted, cores: int | None = None) -> list:
    """One BackendSpec per accepted (row, precision), per thread count where the row takes `threads`."""
    from portrait_style.engine.backends import BACKENDS, BackendSpec

    specs = []
    for check in accepted:
        kind = next(k for k in BACKENDS if (k.name, k.device) == (check.backend, check.device))
        threads = thread_counts(cores) if "threads" in kind.options else [None]
        for t in threads:
            options = {"threads": t} if t else {}
            specs.append(BackendSpec(check.backend, check.device, check.precision, options))
    return specs


def full_size(height: int, width: int, style_frame_size: int = 0) -> int:
    """The largest working shorter side for frames of this size: their own, capped at the style's."""
    cap = min(height, width)
    return min(cap, style_frame_size) if style_frame_size else cap


def frame_sizes(cfg: CalibrateConfig, height: int, width: int, style_frame_size: int = 0) -> list[int]:
    """Working shorter sides to try, largest first: the full size (`full_size`) where the configured sizes
    hold 0, and the configured sizes below it (the full size alone when none is)."""
    cap = full_size(height, width, style_frame_size)
    sizes = {s for s in cfg.frame_sizes if 0 < s < cap}
    if 0 in cfg.frame_sizes or not sizes:
        sizes.add(cap)
    return sorted(sizes, reverse=True)


def profile_frame_size(size: int, height: int, width: int, style_frame_size: int = 0) -> int:
    """The frame size a profile records for a chosen working size: the full size is recorded as the
    style's own frame size (0, "as it comes", when it has none), so later videos larger than the
    calibration frames are not brought down to their size; a smaller size as it is."""
    return style_frame_size if size >= full_size(height, width, style_frame_size) else size


def tune(
    style_path: str | os.PathLike,
    mode: str,
    frame: np.ndarray,
    specs: list,
    cfg: CalibrateConfig,
    quick: bool = False,
    progress: Callable[[str], None] | None = None,
) -> list[Candidate]:
    """Time every candidate on `frame` (H x W x 3 uint8, at the size the input will have)."""
    from portrait_style.api import Stylizer
    from portrait_style.calibrate.frames import check_inputs
    from portrait_style.engine.backends import load_backend
    from portrait_style.engine.style_meta import read_meta

    meta = read_meta(style_path)
    runs, warmup = (cfg.quick_runs, cfg.quick_warmup) if quick else (cfg.runs, cfg.warmup)
    budget_ms = 1000.0 / cfg.fps
    if mode == "frame":
        sizes = frame_sizes(cfg, *frame.shape[:2], meta.frame_size)
    else:
        sizes = sorted(set(cfg.face_batches), reverse=True)
        crop = check_inputs([frame], "face", meta.resolution, meta.resolution)[0]
    candidates = []
    for spec in specs:
        if progress:
            progress(f"timing {spec.label()}")
        stylizer = backend = None
        try:
            if mode == "frame":
                stylizer = Stylizer(model=str(style_path), mode="frame", backend=spec, frame_size=sizes[0])
                backend = stylizer.backend
            else:
                backend = load_backend(style_path, spec)
        except Exception as exc:  # noqa: BLE001 - any failure skips this candidate, not the calibration
            why = cannot_run(exc)
            candidates += [_skipped(spec, size, why) for size in sizes]
            continue
        for size in sizes:
            if mode == "frame":
                stylizer.frame_size = size

                def call(s=stylizer):
                    return s.stylize(frame)
            else:
                batch = np.repeat(crop[None], size, axis=0)

                def call(b=batch, run=backend):
                    return run(b)

            try:
                stats = time_budgeted(call, runs, warmup, cfg.give_up_factor * budget_ms)
            except Exception as exc:  # noqa: BLE001 - e.g. out of memory at this size: try the next
                candidates.append(_skipped(backend.spec, size, cannot_run(exc)))
                continue
            fps = 1000.0 / stats["median_ms"]
            done = backend.spec
            candidates.append(
                Candidate(
                    done.backend,
                    done.device,
                    done.precision,
                    dict(done.options),
                    size=size,
                    median_ms=round(stats["median_ms"], 3),
                    p95_ms=round(stats["p95_ms"], 3),
                    runs=stats["runs"],
                    fps=round(fps, 2),
                    meets=fps >= cfg.fps,
                )
            )
            if quick and fps >= cfg.fps:
                break  # smaller sizes would only be chosen if this one were too slow
        stylizer = backend = None  # free this one before the next loads
    return candidates


def _skipped(spec, size: int, why: str) -> Candidate:
    return Candidate(spec.backend, spec.device, spec.precision, dict(spec.options), size=size, skipped=why)


def choose(candidates: list[Candidate]) -> Candidate | None:
    """The best of the candidates that ran (see the module docstring); None when none did."""
    ran = [c for c in candidates if not c.skipped]
    meeting = [c for c in ran if c.meets]
    if meeting:
        return max(meeting, key=lambda c: (c.size, PRECISION_RANK.get(c.precision, 0), -c.median_ms))
    return min(ran, key=lambda c: c.median_ms, default=None)


def nothing_runs(checks: list, candidates: list[Candidate]) -> str:
    """The one line said when no candidate could be timed: the first reason found."""
    reasons = [c.skipped for c in candidates if c.skipped]
    reasons += [c.reason for c in checks if c.reason.startswith("cannot run")]
    return "no backend could run the style on this machine" + (f" ({reasons[0]})" if reasons else "")


# -- the whole calibration -------------------------------------------------------------------------------
def calibrate(
    style_path: str | os.PathLike,
    mode: str,
    frames: list[np.ndarray],
    cfg: CalibrateConfig | None = None,
    quick: bool = False,
    precision_only: bool = False,
    source: str = "synthetic portraits",
    progress: Callable[[str], None] | None = None,
) -> dict:
    """Precision check, then (unless `precision_only`) tuning; the report, saved as this machine's profile
    for the style and mode when tuning ran (its path in `report["profile"]`).

    When nothing could run (no FP32 reference, or no candidate could be timed), the report has no
    `choice` and no profile is saved; `report["error"]` then says why, in one line."""
    from portrait_style.calibrate.frames import check_inputs
    from portrait_style.calibrate.precision import check_precisions
    from portrait_style.calibrate.profile import FORMAT, machine_identity, save_profile
    from portrait_style.engine.style_meta import read_meta, weights_digest

    cfg = cfg or CalibrateConfig()
    meta = read_meta(style_path)
    style_path = Path(style_path)
    inputs = check_inputs(frames, mode, meta.resolution, cfg.check_side)
    if progress:
        progress("checking precisions")
    checks = check_precisions(style_path, inputs, cfg)
    h, w = frames[0].shape[:2]
    report = {
        "format": FORMAT,
        "identity": machine_identity(),
        "style": meta.name,
        "style_path": str(style_path),
        "weights": weights_digest(style_path),
        "mode": mode,
        "fps_target": cfg.fps,
        "frames": {"source": source, "count": len(frames), "input_size": [w, h]},
        "quick": quick,
        "limits": {"min_psnr_db": cfg.min_psnr_db, "max_abs_error": cfg.max_abs_error},
        "precisions": [asdict(c) for c in checks],
    }
    accepted = [c for c in checks if c.accepted]
    if precision_only:
        if not accepted:
            report["error"] = nothing_runs(checks, [])
        return report
    candidates = tune(style_path, mode, frames[0], candidate_specs(accepted), cfg, quick, progress)
    best = choose(candidates)
    report["candidates"] = [asdict(c) for c in candidates]
    if best is None:
        report["error"] = nothing_runs(checks, candidates)
        return report
    report["choice"] = {
        "backend": best.backend,
        "device": best.device,
        "precision": best.precision,
        "options": best.options,
        # frame mode: what later runs use (0: frames as they come) and the shorter side it was timed at
        "frame_size": profile_frame_size(best.size, h, w, meta.frame_size) if mode == "frame" else None,
        "working_size": best.size if mode == "frame" else None,
        "faces": best.size if mode == "face" else None,
        "median_ms": best.median_ms,
        "fps": best.fps,
        "meets_target": best.meets,
    }
    report["profile"] = str(save_profile(report, style_path, mode))
    return report
