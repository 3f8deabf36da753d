"""Ground-truth style-learning benchmark: can a model learn a known photographic look from unpaired examples?

For each look in `portrait_style.evaluate.looks`:
  style domain B  = the look applied to portraits of half the training identities;
  content A       = plain portraits of the other half (unpaired, no identity on both sides).
  Both sides come from the same population: London ids < 120 (both expressions) and the Canada set
  (one photo per identity), each split by alternating identities, so the two sides differ only by
  the look, not by who is in them or how they were photographed.
  held-out test   = London ids >= 120 (both expressions) + pixabay_aligned_eval, target = look(input).
Images are centre-cropped and resized to the setting's size. Looks in `FACE_LOOKS` get each image's face
table (MTCNN with the default `FaceConfig`, detected once per prepared image, as the engine would find
them in that frame). The model (`--family look`: the pixelwise look model; `--family generator`: the CUT
GAN) is trained unpaired with the trainer's `train()` in frame mode and scored on the held-out set next
to Reinhard colour transfer and histogram matching fitted on domain B, and identity. The issue's aim:
the model beats both classical baselines by >= 3 dB PSNR on held-out identities and reaches >= 30 dB.

    nice -n 10 python benchmarks/look_benchmark.py --setting cpu-look [--looks face-light] [--steps N]
    nice -n 10 python benchmarks/look_benchmark.py --setting cpu-look --no-train   # baselines only
    nice -n 10 python benchmarks/look_benchmark.py --setting cpu-look --seed 1     # another draw

Writes benchmarks/results/looks-<setting>.md and .json (`-baselines` with --no-train, `-seedN` with a
seed other than 0). Training images, runs and checkpoints go to --work (a temporary folder by default),
never into the repository: the portraits may not be committed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import torch

from portrait_style.evaluate import baselines, metrics
from portrait_style.evaluate.looks import FACE_LOOKS, LOOKS
from portrait_style.evaluate.runner import frame_stylizer, load_stylizer, read_rgb

REPO = Path(__file__).resolve().parents[1]
HELD_OUT_FROM = 120  # London ids >= this are held out of every training run (shared data README)
SETTINGS = {
    # 2 CPU cores shared with other jobs (~3-4 s per GAN step at 128²): ~15 min of training per look.
    "cpu-small": {"size": 128, "steps": 250, "batch_size": 4},
    # The look model on the same CPU: scored at 128², trained at the trainer's default size (train_size
    # None: 96² for these sets' `matched` preset since the twelfth round, 64² before) on the whole content
    # set each step.
    "cpu-look": {"size": 128, "train_size": None, "steps": 400, "batch_size": 96},
    # trained at the size it is scored at (before the twelfth round: about 2.5x the training time)
    "cpu-look-128": {"size": 128, "train_size": 128, "steps": 400, "batch_size": 96},
    # trained at 96² (a lead of the eleventh round, with the then 16 x 16 grid)
    "cpu-look-96": {"size": 128, "train_size": 96, "steps": 400, "batch_size": 96},
    # the tables before the twelfth round: trained at 64² with a 16 x 16 grid
    "cpu-look-64": {"size": 128, "train_size": 64, "steps": 400, "batch_size": 96, "look_grid": 16},
    # the same, started from the two sets' colour statistics (look/init.py) instead of the identity
    "cpu-look-stats": {
        "size": 128,
        "train_size": 64,
        "steps": 400,
        "batch_size": 96,
        "look_init": "statistics",
    },
    "gpu": {"size": 256, "steps": 20000, "batch_size": 8},
}
FAMILIES = {"look": "look model", "generator": "GAN"}  # --family -> the model's name in the report
AIM_MARGIN_DB, AIM_PSNR_DB = 3.0, 30.0
CLASSICAL = ("reinhard", "histogram")


def trained_size(setting: dict) -> int | None:
    """The size a setting trains at: its train_size (None: the trainer's default), else its scored size."""
    return setting.get("train_size", setting["size"])


# -- data ----------------------------------------------------------------------------------------------
def square(image: np.ndarray, size: int) -> np.ndarray:
    """Centre square crop, resized to size x size (area filter when shrinking)."""
    h, w = image.shape[:2]
    side = min(h, w)
    y, x = (h - side) // 2, (w - side) // 2
    crop = image[y : y + side, x : x + side]
    interp = cv2.INTER_AREA if side > size else cv2.INTER_CUBIC
    return cv2.resize(crop, (size, size), interpolation=interp)


def london_by_id(portraits: Path) -> dict[int, list[Path]]:
    """London files (neutral and smiling) grouped by the 3-digit identity prefix."""
    ids: dict[int, list[Path]] = {}
    for folder in ("london_neutral", "london_smiling"):
        for path in sorted((portraits / folder).glob("*.jpg")):
            ids.setdefault(int(path.name[:3]), []).append(path)
    return ids


def split(data: Path) -> dict[str, list[tuple[str, Path]]]:
    """File lists of every role, as (subset, path). Identities are split, never files.

    Style and content draw on the same two sets in the same proportions: London ids < 120 and Canada
    (one file per identity), each sorted and dealt alternately to style and content.
    """
    portraits = data / "portraits"
    london = london_by_id(portraits)
    train_ids = sorted(i for i in london if i < HELD_OUT_FROM)
    canada = sorted((portraits / "canada").glob("*.jpg"))
    pixabay = sorted(
        p for p in (portraits / "pixabay_aligned_eval").iterdir() if p.suffix.lower() in (".png", ".jpg")
    )

    def side(k: int) -> list[tuple[str, Path]]:  # k = 0: style, 1: content
        return [("london", p) for i in train_ids[k::2] for p in london[i]] + [
            ("canada", p) for p in canada[k::2]
        ]

    return {
        "style": side(0),
        "content": side(1),
        "test": [("london-heldout", p) for i in sorted(london) if i >= HELD_OUT_FROM for p in london[i]]
        + [("pixabay", p) for p in pixabay],
    }


def write_png(path: Path, rgb: np.ndarray) -> None:
    if not cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)):
        raise OSError(f"cannot write {path}")


class Frames:
    """The benchmark's images at one size, each read once, and their face tables, each detected once.

    Faces are found on the prepared (square, resized) image with the engine's default detector, the
    frame a face-aware model is given at test time, and kept in memory for the rest of the run.
    """

    def __init__(self, size: int, detector=None):
        self.size = size
        self._detector = detector
        self._images: dict[str, np.ndarray] = {}
        self._faces: dict[str, np.ndarray] = {}

    def image(self, path: Path) -> np.ndarray:
        key = str(path)
        if key not in self._images:
            self._images[key] = square(read_rgb(path), self.size)
        return self._images[key]

    def faces(self, path: Path) -> np.ndarray:
        """(MAX_FACES, 4) face table of the prepared image (rows cx, cy, size, valid)."""
        key = str(path)
        if key not in self._faces:
            from portrait_style.engine.faces.geometry import face_table

            if self._detector is None:
                from portrait_style.config import FaceConfig
                from portrait_style.engine.faces.detectors import make_detector

                self._detector = make_detector(FaceConfig())
            image = self.image(path)
            self._faces[key] = face_table(self._detector.detect(image), *image.shape[:2])
        return self._faces[key]


def look_of(name: str, frames: Frames):
    """path -> look(prepared image), with the image's faces for a face look."""
    look = LOOKS[name]
    if name in FACE_LOOKS:
        return lambda path: look(frames.image(path), faces=frames.faces(path))
    return lambda path: look(frames.image(path))


def prepare(files: dict, name: str, frames: Frames, work: Path) -> dict:
    """Training folders on disk (content A, style B = look) and the held-out pairs in memory."""
    apply = look_of(name, frames)
    content_dir, style_dir = work / "content", work / "style"
    content_dir.mkdir(parents=True, exist_ok=True)
    style_dir.mkdir(parents=True, exist_ok=True)
    style_images = []
    for _, path in files["style"]:
        image = apply(path)
        style_images.append(image)
        write_png(style_dir / f"{path.parent.name}-{path.stem}.png", image)
    for _, path in files["content"]:
        write_png(content_dir / f"{path.parent.name}-{path.stem}.png", frames.image(path))
    test = [(subset, frames.image(path), apply(path)) for subset, path in files["test"]]
    prepared = {
        "content_dir": content_dir,
        "style_dir": style_dir,
        "style_images": style_images,
        "content_paths": [path for _, path in files["content"]],
        "apply": apply,
        "test": test,
    }
    if name in FACE_LOOKS:  # how many prepared images the detector found a face in, per role
        prepared["with_face"] = {
            role: sum(bool(frames.faces(p)[:, 3].any()) for _, p in files[role]) for role in files
        }
    return prepared


# -- one look --------------------------------------------------------------------------------------------
def score(transform, test: list) -> dict:
    """Scores overall and per subset of the held-out set."""
    rows: dict[str, list[metrics.Scores]] = {}
    for subset, image, target in test:
        rows.setdefault(subset, []).append(metrics.score_pair(transform(image), target))
    out = {name: metrics.average(r).as_dict() for name, r in rows.items()}
    out["all"] = metrics.average([s for r in rows.values() for s in r]).as_dict()
    return out


def train_model(
    prepared: dict, look_name: str, setting: dict, work: Path, device: str, family: str
) -> tuple[Path, float]:
    from portrait_style.trainer.config import TrainConfig
    from portrait_style.trainer.train import train

    extra = {"look_faces": look_name in FACE_LOOKS} if family == "look" else {}
    extra.update({k: setting[k] for k in ("look_init", "look_grid") if k in setting})
    cfg = TrainConfig(
        content_dir=str(prepared["content_dir"]),
        style_dir=str(prepared["style_dir"]),
        name=f"look-{look_name}",
        out_dir=str(work / "run"),
        mode="frame",
        family=family,
        **extra,
        size=trained_size(setting),
        steps=setting["steps"],
        batch_size=setting["batch_size"],
        sample_every=0,
        checkpoint_every=0,
        device=device,
        seed=setting.get("seed", 0),
        description=f"benchmark: the '{look_name}' look learned from unpaired examples",
    )
    start = time.perf_counter()
    path = train(cfg)
    return Path(path), time.perf_counter() - start


def train_paired_oracle(
    images: list[np.ndarray], targets: list[np.ndarray], steps: int, batch_size: int, seed: int = 0
):
    """The CUT generator trained with PAIRED supervision (L1 to look(content)): not a fair competitor,
    an upper reference. It shows what that architecture can represent in a similar budget, so an
    unpaired shortfall can be told apart from a capacity limit."""
    from portrait_style.engine.model import Generator

    x = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).float() / 127.5 - 1.0
    y = torch.from_numpy(np.stack(targets)).permute(0, 3, 1, 2).float() / 127.5 - 1.0
    torch.manual_seed(seed)
    model = Generator()
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps)
    generator = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        idx = torch.randint(0, len(x), (batch_size,), generator=generator)
        loss = (model.generate(x[idx]) - y[idx]).abs().mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
    return model.eval()


def training_hardware(device: str) -> str:
    """What a training run on `device` ran on: the machine, and the GPU when it used one."""
    from portrait_style.hardware import cpu_name

    cpu = f"{cpu_name()} ({os.cpu_count()} cores)"
    if device in ("auto", "cuda") or device.startswith("cuda:"):
        if torch.cuda.is_available():
            return f"{cpu}, {torch.cuda.get_device_name(0)}"
        if device != "auto":
            return f"{cpu}, CUDA requested but not available"
    return f"{cpu}, CPU training"


def run_look(
    name: str,
    files: dict,
    setting: dict,
    work: Path,
    device: str,
    no_train: bool,
    oracle_steps: int,
    frames: Frames,
    family: str = "look",
) -> dict:
    print(f"[{name}] preparing {setting['size']}² images in {work}", file=sys.stderr)
    prepared = prepare(files, name, frames, work)
    methods = {b: fit(prepared["style_images"]) for b, fit in baselines.BASELINES.items()}
    model_name = FAMILIES[family]
    result: dict = {"train_seconds": None, "model": None, "family": family}
    if "with_face" in prepared:
        result["with_face"] = prepared["with_face"]
    if not no_train:
        print(f"[{name}] training the {model_name}, {setting['steps']} steps", file=sys.stderr)
        model_path, seconds = train_model(prepared, name, setting, work, device, family)
        methods = {model_name: load_stylizer(model_path, "frame")[0], **methods}
        result.update(
            train_seconds=round(seconds, 1), model=str(model_path), train_hardware=training_hardware(device)
        )
    if oracle_steps:
        print(f"[{name}] paired L1 oracle, {oracle_steps} steps", file=sys.stderr)
        start = time.perf_counter()
        paths = prepared["content_paths"]
        oracle = train_paired_oracle(
            [frames.image(p) for p in paths],
            [prepared["apply"](p) for p in paths],
            oracle_steps,
            setting["batch_size"],
        )
        methods["paired-L1 oracle (not a baseline)"] = frame_stylizer(oracle)
        result["oracle"] = {
            "steps": oracle_steps,
            "train_seconds": round(time.perf_counter() - start, 1),
            "train_hardware": training_hardware("cpu"),
        }
    result["scores"] = {m: score(fn, prepared["test"]) for m, fn in methods.items()}
    if model_name in result["scores"]:
        model = result["scores"][model_name]["all"]["psnr"]
        best = max(result["scores"][b]["all"]["psnr"] for b in CLASSICAL)
        result["aim"] = {
            "model_minus_best_baseline_db": round(model - best, 2),
            "met": bool(model - best >= AIM_MARGIN_DB and model >= AIM_PSNR_DB),
        }
    return result


# -- report ----------------------------------------------------------------------------------------------
def data_line(counts: dict) -> str:
    return (
        f"Data: style B = look(London ids < {HELD_OUT_FROM}, even half of the identities, + Canada, "
        f"even half; {counts['style']} images); content A = the odd halves ({counts['content']} images); "
        f"held-out test = London ids >= {HELD_OUT_FROM} + pixabay_aligned_eval ({counts['test']} images), "
        "target = look(input). Baselines are fitted on style B. Looks that follow faces get the faces MTCNN "
        "(default FaceConfig) finds in each prepared image."
    )


def markdown(report: dict) -> str:
    s = report["setting"]
    family = report.get("family", "generator")  # reports from before --family were all GANs
    model = FAMILIES[family]
    if report.get("no_train"):
        training = f"Training: none ({model} not trained; baselines only), {s['size']}²."
    else:
        trained_at = trained_size(s)
        trained_at = "the trainer's default size" if trained_at is None else f"{trained_at}²"
        training = (
            f"Training: the {model} (`--family {family}`), frame mode, trained at {trained_at} (scored at "
            f"{s['size']}²), {s['steps']} steps, batch {s['batch_size']}, seed {s.get('seed', 0)}, trainer "
            "defaults otherwise."
        )
    old_data = (
        f"Data: style B = look(London ids < {HELD_OUT_FROM}, even half, {report['counts']['style']} images); "
        f"content A = the odd half + Canada ({report['counts']['content']} images); held-out test = "
        f"London ids >= {HELD_OUT_FROM} + pixabay_aligned_eval ({report['counts']['test']} images), "
        "target = look(input). Baselines are fitted on style B."
    )
    lines = [
        f"# Look benchmark: {report['setting_name']}",
        "",
        f"`benchmarks/look_benchmark.py --setting {report['setting_name']}`, run on {report['date']}.",
        f"Hardware: {report['hardware']}; torch {report['torch']}, device `{report['device']}`.",
        training,
        report.get("data", old_data),
        f"Aim (issue): {model} >= best classical baseline + {AIM_MARGIN_DB:g} dB PSNR "
        f"and >= {AIM_PSNR_DB:g} dB.",
        "",
    ]
    for look, r in report["looks"].items():
        if r["train_seconds"]:
            trained = f", {model} trained in {r['train_seconds'] / 60:.1f} min"
            if r.get("train_hardware"):
                trained += f" on {r['train_hardware']}"
        else:
            trained = f" (no {model})"
        if "oracle" in r:
            o = r["oracle"]
            trained += f"; paired oracle: {o['steps']} steps in {o['train_seconds'] / 60:.1f} min"
        lines += [f"## {look}{trained}", ""]
        if "with_face" in r:
            found = ", ".join(f"{role} {n}/{report['counts'][role]}" for role, n in r["with_face"].items())
            lines += [f"Images with a face found: {found}.", ""]
        subsets = [k for k in next(iter(r["scores"].values())) if k != "all"]
        header = (
            "| method | PSNR dB | SSIM | mean ΔE2000 | " + " | ".join(f"PSNR {k}" for k in subsets) + " |"
        )
        lines += [header, "|" + "---|" * (4 + len(subsets))]
        for method, sc in r["scores"].items():
            a = sc["all"]
            cells = [f"{a['psnr']:.2f}", f"{a['ssim']:.4f}", f"{a['ciede2000']:.2f}"]
            cells += [f"{sc[k]['psnr']:.2f}" for k in subsets]
            lines.append(f"| {method} | " + " | ".join(cells) + " |")
        if "aim" in r:
            aim = r["aim"]
            margin = aim.get("model_minus_best_baseline_db", aim.get("gan_minus_best_baseline_db"))
            verdict = "met" if aim["met"] else "NOT met"
            lines += ["", f"{model} - best baseline: {margin:+.2f} dB; aim {verdict}."]
        lines.append("")
    if report.get("notes"):
        lines += ["## Notes", "", report["notes"], ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--setting", choices=sorted(SETTINGS), default="cpu-look")
    parser.add_argument("--family", choices=sorted(FAMILIES), default="look", help="the model trained")
    parser.add_argument("--looks", nargs="+", choices=sorted(LOOKS), default=sorted(LOOKS))
    parser.add_argument("--steps", type=int, help="override the setting's training steps")
    parser.add_argument(
        "--seed", type=int, default=0, help="training seed (another seed: another draw of the same fit)"
    )
    parser.add_argument("--data", default=str(REPO.parent / "shared" / "data"), help="the shared data folder")
    parser.add_argument(
        "--work", help="scratch folder for images, runs and checkpoints (default: a temp dir)"
    )
    parser.add_argument("--device", default="auto", help="training device: auto | cpu | cuda")
    parser.add_argument("--no-train", action="store_true", help="baselines only (no model)")
    parser.add_argument(
        "--oracle-steps", type=int, default=0, help="also train a paired-L1 reference for this many steps"
    )
    parser.add_argument("--notes", default="", help="text for the report's Notes section")
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "results"))
    parser.add_argument("--render", metavar="JSON", help="only rewrite the .md of an earlier run's .json")
    args = parser.parse_args(argv)

    if args.render:  # e.g. to add --notes after looking at the numbers
        path = Path(args.render)
        report = json.loads(path.read_text())
        report["notes"] = args.notes or report.get("notes", "")
        path.write_text(json.dumps(report, indent=2) + "\n")
        path.with_suffix(".md").write_text(markdown(report))
        return 0
    data = Path(args.data)
    if not (data / "portraits" / "london_neutral").is_dir():
        print(f"error: shared data not found at {data} (give --data)", file=sys.stderr)
        return 2
    setting = dict(SETTINGS[args.setting], **({"steps": args.steps} if args.steps else {}), seed=args.seed)
    files = split(data)
    work = Path(args.work or tempfile.mkdtemp(prefix="look-benchmark-"))
    from portrait_style.hardware import machine_name

    report = {
        "setting_name": args.setting,
        "setting": setting,
        "family": args.family,
        "no_train": args.no_train,
        "date": time.strftime("%Y-%m-%d"),
        "hardware": machine_name(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "device": args.device,
        "python": platform.python_version(),
        "counts": {k: len(v) for k, v in files.items()},
        "data": data_line({k: len(v) for k, v in files.items()}),
        "notes": args.notes,
        "looks": {},
    }
    frames = Frames(setting["size"])  # images and faces shared by every look of the run
    for name in args.looks:
        report["looks"][name] = run_look(
            name,
            files,
            setting,
            work / name,
            args.device,
            args.no_train,
            args.oracle_steps,
            frames,
            args.family,
        )
        print(json.dumps(report["looks"][name]["scores"], indent=1)[:2000], file=sys.stderr)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    suffix = ("" if not args.no_train else "-baselines") + (f"-seed{args.seed}" if args.seed else "")
    (out / f"looks-{args.setting}{suffix}.json").write_text(json.dumps(report, indent=2) + "\n")
    (out / f"looks-{args.setting}{suffix}.md").write_text(markdown(report))
    print(f"wrote {out}/looks-{args.setting}{suffix}.md", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
