"""Face detector candidates on real portraits with annotated pupils, photos without faces and one video.

    python benchmarks/bench_faces.py [--data ../shared/data] [--models ../shared/models] [--out DIR]

For each candidate (MTCNN at 1 and 2 ONNX Runtime threads, YuNet-s 640, YuNet-n dynamic, OpenCV's Haar
cascade when this OpenCV has one) and each image, at the image's native size:
  - time: median wall-clock ms per image, and median CPU ms (all threads of the process: on a shared
    machine it moves less with other jobs' load); each image is run once to warm up, then timed, and
    candidates take turns on the same image, so they see the same load;
  - detected: a face whose box holds both annotated pupils;
  - eye error: distance from each predicted eye to its pupil, over the inter-pupil distance;
  - extra: detections in portraits that are not the annotated face (each portrait holds one person);
  - false positives on negatives/pixabay_noface, detection rate on the frames of one GRID clip.
All candidates use FaceConfig's defaults (score >= 0.8, faces >= 40 px). Writes <name>.md and <name>.json.
OpenCV 5 has no Haar cascade; measure it under OpenCV 4 (a virtual environment with
opencv-python-headless<5) with `--only Haar --name faces-haar-opencv4`, then fold that in here with
`--merge benchmarks/results/faces-haar-opencv4.json`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

import av
import cv2
import numpy as np
import onnxruntime as ort

from portrait_style.bench import machine_name
from portrait_style.config import FaceConfig
from portrait_style.engine.faces.detectors import HaarDetector, MTCNNDetector, YuNetDetector
from portrait_style.errors import InputError, ModelError

REPO = Path(__file__).resolve().parents[1]
PORTRAIT_SETS = ("london_neutral", "canada", "webcam_cc0", "london_composites")
GRID_CLIP = "bbaf2n.mpg"
# webcam_cc0's four distance shots (15/30/45/60 cm) use an 83-point template whose points 0 and 1 are
# not the pupils; each pupil there is a pair of points (found by drawing the template on the photos)
_PUPIL_PAIRS_83 = ((57, 63), (50, 81))


def read_pupils(tem: Path) -> np.ndarray:
    """The two annotated pupil centres, image-left first."""
    lines = tem.read_text().split("\n")
    count = int(lines[0])
    points = np.array([[float(v) for v in line.split()[:2]] for line in lines[1 : count + 1]])
    if count == 83:
        return np.array([points[list(pair)].mean(axis=0) for pair in _PUPIL_PAIRS_83])
    return points[:2]


def read_rgb(path: Path) -> np.ndarray:
    return cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)


def grid_frames(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]


def make_candidates(models: Path, only: str | None) -> tuple[dict, dict]:
    """(name -> detector, name -> why it could not be made), for names containing `only` when given."""
    cfg = FaceConfig()
    factories = {
        "MTCNN (ORT, 1 thread)": lambda: MTCNNDetector(cfg),
        "MTCNN (ORT, 2 threads)": lambda: MTCNNDetector(FaceConfig(detector_threads=2)),
        "YuNet-s 640": lambda: YuNetDetector(cfg, models / "face_detection_yunet_s_640.onnx"),
        "YuNet-n dynamic": lambda: YuNetDetector(cfg, models / "face_detection_yunet_n_dynamic.onnx"),
        "Haar cascade": lambda: HaarDetector(cfg),
    }
    candidates, missing = {}, {}
    for name, make in factories.items():
        if only and only.lower() not in name.lower():
            continue
        try:
            candidates[name] = make()
        except (InputError, ModelError) as exc:
            missing[name] = str(exc).splitlines()[0]
    return candidates, missing


def timed(detector, image: np.ndarray) -> tuple[list, float, float]:
    """(faces, wall ms, CPU ms) of one call, after a warm-up call."""
    detector.detect(image)  # warm-up: YuNet re-plans for a new input size, caches fill
    wall, cpu = time.perf_counter(), time.process_time()
    faces = detector.detect(image)
    return faces, (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000


def score_portrait(faces: list, pupils: np.ndarray) -> dict:
    # faces come best first
    holding = [f for f in faces if np.all((pupils >= f.box[:2]) & (pupils <= f.box[2:]))]
    result = {"detected": bool(holding), "extra": len(faces) - (1 if holding else 0), "eye_error": None}
    if holding and holding[0].landmarks is not None:
        inter_pupil = np.linalg.norm(pupils[1] - pupils[0])
        errors = np.linalg.norm(holding[0].landmarks[:2] - pupils, axis=1) / inter_pupil
        result["eye_error"] = float(errors.mean())
    return result


def summarise(rows: list[dict]) -> dict:
    errors = [r["eye_error"] for r in rows if r.get("eye_error") is not None]
    out = {
        "images": len(rows),
        "median_ms": statistics.median(r["ms"] for r in rows),
        "median_cpu_ms": statistics.median(r["cpu_ms"] for r in rows),
        "detected": sum(r["detected"] for r in rows),
        "extra": sum(r["extra"] for r in rows),
    }
    out["eye_errors"] = [round(e, 4) for e in errors]
    return out


def run(data: Path, models: Path, only: str | None = None) -> dict:
    candidates, missing = make_candidates(models, only)
    results = {name: {} for name in candidates}
    load_before = os.getloadavg()
    for set_name in PORTRAIT_SETS:
        rows, sizes = {name: [] for name in candidates}, set()
        for path in sorted((data / "portraits" / set_name).glob("*.jpg")):
            image, pupils = read_rgb(path), read_pupils(path.with_suffix(".tem"))
            sizes.add(f"{image.shape[1]}x{image.shape[0]}")
            for name, detector in candidates.items():
                faces, ms, cpu_ms = timed(detector, image)
                rows[name].append(
                    {"file": path.name, "ms": ms, "cpu_ms": cpu_ms, **score_portrait(faces, pupils)}
                )
        for name in candidates:
            results[name][set_name] = {**summarise(rows[name]), "size": ", ".join(sorted(sizes))}
            results[name][set_name]["misses"] = [r["file"] for r in rows[name] if not r["detected"]]
        print(set_name, {name: results[name][set_name]["detected"] for name in candidates}, flush=True)

    negatives = sorted((data / "negatives" / "pixabay_noface").glob("*.jpg"))
    frames = grid_frames(data / "video" / "grid_talking_heads" / GRID_CLIP)
    for name, detector in candidates.items():
        found, times = [], []
        for path in negatives:
            faces, ms, _ = timed(detector, read_rgb(path))
            found.append(len(faces))
            times.append(ms)
        results[name]["negatives"] = {
            "images": len(negatives),
            "images_with_false_faces": sum(n > 0 for n in found),
            "false_faces": sum(found),
            "median_ms": statistics.median(times),
        }
        counts, times, cpu_times = [], [], []
        for frame in frames:
            faces, ms, cpu_ms = timed(detector, frame)
            counts.append(len(faces))
            times.append(ms)
            cpu_times.append(cpu_ms)
        results[name]["grid_video"] = {
            "frames": len(frames),
            "size": f"{frames[0].shape[1]}x{frames[0].shape[0]}",
            "frames_with_one_face": sum(n == 1 for n in counts),
            "frames_with_none": sum(n == 0 for n in counts),
            "median_ms": statistics.median(times),
            "median_cpu_ms": statistics.median(cpu_times),
        }
    return {
        "machine": machine_name(),
        "opencv": cv2.__version__,
        "onnxruntime": ort.__version__,
        "opencv_threads": cv2.getNumThreads(),
        "load_average_before_after": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
        "config": {k: getattr(FaceConfig(), k) for k in ("score_threshold", "min_face_size", "max_faces")},
        "grid_clip": GRID_CLIP,
        "candidates": results,
        "missing": missing,
    }


def _pct(n: int, total: int) -> str:
    return f"{n}/{total} ({100 * n / total:.0f}%)"


def _error(errors: list[float]) -> str:
    return f"{np.mean(errors):.3f} ({np.median(errors):.3f})" if errors else "n/a (no landmarks)"


def merge(report: dict, other: dict) -> None:
    """Add another run's candidates (e.g. Haar measured under OpenCV 4), labelled with its OpenCV version."""
    for name, sets in other["candidates"].items():
        report["candidates"][f"{name} (OpenCV {other['opencv']})"] = sets
        report["missing"].pop(name, None)
    report.setdefault("merged", []).append(
        {k: other[k] for k in ("machine", "opencv", "opencv_threads", "load_average_before_after")}
    )


def to_markdown(report: dict) -> str:
    load = report["load_average_before_after"]
    lines = [
        "# Face detectors",
        "",
        f"Machine: {report['machine']}, shared with other jobs (1-min load average {load[0]} before, "
        f"{load[1]} after: wall-clock times are inflated and noisy; CPU ms is the steadier comparison). "
        f"OpenCV {report['opencv']} ({report['opencv_threads']} threads), "
        f"ONNX Runtime {report['onnxruntime']}. FaceConfig defaults: {report['config']}. "
        "Produced by `python benchmarks/bench_faces.py`.",
    ]
    for extra in report.get("merged", []):
        lines.append(
            f"Merged from a separate run under OpenCV {extra['opencv']} on the same machine "
            f"(load average {extra['load_average_before_after'][0]} before)."
        )
    lines += [
        "",
        "Eye error: distance from each predicted eye to the annotated pupil over the inter-pupil distance, "
        "mean (median) over detected faces. Extra: detections besides the one annotated face. "
        "Times: median per image at the native size, wall-clock ms / CPU ms (all threads).",
        "",
        "## Summary",
        "",
        f"| detector | portraits detected (all {len(PORTRAIT_SETS)} sets) | eye error | extra | "
        "london 675x675 ms | video 360x288 ms | no-face photos with a false face |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, sets in report["candidates"].items():
        portraits = [sets[s] for s in PORTRAIT_SETS]
        errors = [e for r in portraits for e in r["eye_errors"]]
        london, video, neg = sets["london_neutral"], sets["grid_video"], sets["negatives"]
        detected = sum(r["detected"] for r in portraits), sum(r["images"] for r in portraits)
        lines.append(
            f"| {name} | {_pct(*detected)} | "
            f"{_error(errors)} | {sum(r['extra'] for r in portraits)} | "
            f"{london['median_ms']:.1f} / {london['median_cpu_ms']:.1f} | "
            f"{video['median_ms']:.1f} / {video['median_cpu_ms']:.1f} | "
            f"{_pct(neg['images_with_false_faces'], neg['images'])} |"
        )
    lines += [
        "",
        "## Per set",
        "",
        "| detector | set (size) | ms wall / CPU | detected | eye error | extra |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for name, sets in report["candidates"].items():
        for set_name in PORTRAIT_SETS:
            r = sets[set_name]
            lines.append(
                f"| {name} | {set_name} ({r['size']}) | {r['median_ms']:.1f} / {r['median_cpu_ms']:.1f} | "
                f"{_pct(r['detected'], r['images'])} | {_error(r['eye_errors'])} | {r['extra']} |"
            )
    lines += [
        "",
        f"No-face photos (negatives/pixabay_noface, 640 px wide) and every frame of GRID clip "
        f"`{report['grid_clip']}` (one speaker in every frame):",
        "",
        "| detector | negatives with a false face | false faces | ms wall | video frames with one face | "
        "ms wall / CPU |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, sets in report["candidates"].items():
        neg, vid = sets["negatives"], sets["grid_video"]
        lines.append(
            f"| {name} | {_pct(neg['images_with_false_faces'], neg['images'])} | {neg['false_faces']} | "
            f"{neg['median_ms']:.1f} | {_pct(vid['frames_with_one_face'], vid['frames'])} | "
            f"{vid['median_ms']:.1f} / {vid['median_cpu_ms']:.1f} |"
        )
    for name, why in report["missing"].items():
        lines += ["", f"Not measured: {name}: {why}."]
    misses = {
        name: {s: sets[s]["misses"] for s in PORTRAIT_SETS if sets[s]["misses"]}
        for name, sets in report["candidates"].items()
    }
    lines += ["", "Missed portraits: " + json.dumps({k: v for k, v in misses.items() if v})]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(REPO.parent / "shared" / "data"))
    parser.add_argument("--models", default=str(REPO.parent / "shared" / "models"))
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "results"))
    parser.add_argument("--only", help="measure only the candidates whose name contains this")
    parser.add_argument("--name", default="faces", help="output file name, without suffix")
    parser.add_argument("--merge", action="append", default=[], help="JSON of another run to include")
    args = parser.parse_args()
    report = run(Path(args.data), Path(args.models), args.only)
    for path in args.merge:
        merge(report, json.loads(Path(path).read_text()))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{args.name}.json").write_text(json.dumps(report, indent=2) + "\n")
    (out / f"{args.name}.md").write_text(to_markdown(report))
    print(to_markdown(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
