"""Ground-truth style-learning benchmark: can the GAN learn a known photographic look from unpaired examples?

For each look in `portrait_style.evaluate.looks`:
  style domain B  = the look applied to London portraits of half the training identities (ids < 120);
  content A       = London portraits of the other half of those identities + the Canada set (unpaired,
                    no identity in both);
  held-out test   = London ids >= 120 (both expressions) + pixabay_aligned_eval, target = look(input).
The GAN is trained unpaired with the trainer's `train()` in frame mode on images centre-cropped and
resized to the setting's size; it is scored on the held-out set next to Reinhard colour transfer and
histogram matching fitted on domain B, and identity. The issue's aim: the GAN beats both classical
baselines by >= 3 dB PSNR on held-out identities and reaches >= 30 dB.

    nice -n 10 python benchmarks/look_benchmark.py --setting cpu-small [--looks faded-warm] [--steps N]

Writes benchmarks/results/looks-<setting>.md and .json. Training images, runs and checkpoints go to
--work (a temporary folder by default), never into the repository: the portraits may not be committed.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import torch

from portrait_style.evaluate import baselines, metrics
from portrait_style.evaluate.looks import LOOKS
from portrait_style.evaluate.runner import frame_stylizer, load_stylizer, read_rgb

REPO = Path(__file__).resolve().parents[1]
HELD_OUT_FROM = 120  # London ids >= this are held out of every training run (shared data README)
SETTINGS = {
    # 2 CPU cores shared with other jobs (~3-4 s per GAN step at 128²): ~15 min of training per look.
    "cpu-small": {"size": 128, "steps": 250, "batch_size": 4},
    "gpu": {"size": 256, "steps": 20000, "batch_size": 8},
}
AIM_MARGIN_DB, AIM_PSNR_DB = 3.0, 30.0


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
    """File lists of every role, as (subset, path). Identities are split, never files."""
    portraits = data / "portraits"
    london = london_by_id(portraits)
    train_ids = sorted(i for i in london if i < HELD_OUT_FROM)
    style_ids, content_ids = train_ids[0::2], train_ids[1::2]  # alternate so both halves span the set
    canada = sorted((portraits / "canada").glob("*.jpg"))
    pixabay = sorted(
        p for p in (portraits / "pixabay_aligned_eval").iterdir() if p.suffix.lower() in (".png", ".jpg")
    )
    return {
        "style": [("london", p) for i in style_ids for p in london[i]],
        "content": [("london", p) for i in content_ids for p in london[i]] + [("canada", p) for p in canada],
        "test": [("london-heldout", p) for i in sorted(london) if i >= HELD_OUT_FROM for p in london[i]]
        + [("pixabay", p) for p in pixabay],
    }


def write_png(path: Path, rgb: np.ndarray) -> None:
    if not cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)):
        raise OSError(f"cannot write {path}")


def prepare(files: dict, look, size: int, work: Path) -> dict:
    """Training folders on disk (content A, style B = look) and the held-out pairs in memory."""
    content_dir, style_dir = work / "content", work / "style"
    content_dir.mkdir(parents=True, exist_ok=True)
    style_dir.mkdir(parents=True, exist_ok=True)
    style_images = []
    for _, path in files["style"]:
        image = look(square(read_rgb(path), size))
        style_images.append(image)
        write_png(style_dir / f"{path.parent.name}-{path.stem}.png", image)
    for _, path in files["content"]:
        write_png(content_dir / f"{path.parent.name}-{path.stem}.png", square(read_rgb(path), size))
    test = []
    for subset, path in files["test"]:
        image = square(read_rgb(path), size)
        test.append((subset, image, look(image)))
    return {"content_dir": content_dir, "style_dir": style_dir, "style_images": style_images, "test": test}


# -- one look --------------------------------------------------------------------------------------------
def score(transform, test: list) -> dict:
    """Scores overall and per subset of the held-out set."""
    rows: dict[str, list[metrics.Scores]] = {}
    for subset, image, target in test:
        rows.setdefault(subset, []).append(metrics.score_pair(transform(image), target))
    out = {name: metrics.average(r).as_dict() for name, r in rows.items()}
    out["all"] = metrics.average([s for r in rows.values() for s in r]).as_dict()
    return out


def train_model(prepared: dict, look_name: str, setting: dict, work: Path, device: str) -> tuple[Path, float]:
    from portrait_style.trainer.config import TrainConfig
    from portrait_style.trainer.train import train

    cfg = TrainConfig(
        content_dir=str(prepared["content_dir"]),
        style_dir=str(prepared["style_dir"]),
        name=f"look-{look_name}",
        out_dir=str(work / "run"),
        mode="frame",
        size=setting["size"],
        steps=setting["steps"],
        batch_size=setting["batch_size"],
        sample_every=0,
        checkpoint_every=0,
        device=device,
        description=f"benchmark: the '{look_name}' look learned from unpaired examples",
    )
    start = time.perf_counter()
    path = train(cfg)
    return Path(path), time.perf_counter() - start


def train_paired_oracle(content_dir: Path, look, steps: int, batch_size: int, seed: int = 0):
    """The same generator trained with PAIRED supervision (L1 to look(content)): not a fair competitor,
    an upper reference. It shows what the architecture can represent in a similar budget, so a GAN
    shortfall can be told apart from a capacity limit."""
    from portrait_style.engine.model import Generator

    images = [read_rgb(p) for p in sorted(content_dir.glob("*.png"))]
    x = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).float() / 127.5 - 1.0
    y = torch.from_numpy(np.stack([look(im) for im in images])).permute(0, 3, 1, 2).float() / 127.5 - 1.0
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


def run_look(
    name: str, files: dict, setting: dict, work: Path, device: str, no_train: bool, oracle_steps: int
) -> dict:
    print(f"[{name}] preparing {setting['size']}² images in {work}", file=sys.stderr)
    prepared = prepare(files, LOOKS[name], setting["size"], work)
    methods = {b: fit(prepared["style_images"]) for b, fit in baselines.BASELINES.items()}
    result = {"train_seconds": None, "model": None}
    if not no_train:
        print(f"[{name}] training {setting['steps']} steps", file=sys.stderr)
        model_path, seconds = train_model(prepared, name, setting, work, device)
        methods = {"gan": load_stylizer(model_path, "frame")[0], **methods}
        result.update(train_seconds=round(seconds, 1), model=str(model_path))
    if oracle_steps:
        print(f"[{name}] paired L1 oracle, {oracle_steps} steps", file=sys.stderr)
        start = time.perf_counter()
        oracle = train_paired_oracle(
            prepared["content_dir"], LOOKS[name], oracle_steps, setting["batch_size"]
        )
        methods["paired-L1 oracle (not a baseline)"] = frame_stylizer(oracle)
        result["oracle"] = {"steps": oracle_steps, "train_seconds": round(time.perf_counter() - start, 1)}
    result["scores"] = {m: score(fn, prepared["test"]) for m, fn in methods.items()}
    if "gan" in result["scores"]:
        gan = result["scores"]["gan"]["all"]["psnr"]
        best = max(result["scores"][b]["all"]["psnr"] for b in ("reinhard", "histogram"))
        result["aim"] = {
            "gan_minus_best_baseline_db": round(gan - best, 2),
            "met": bool(gan - best >= AIM_MARGIN_DB and gan >= AIM_PSNR_DB),
        }
    return result


# -- report ----------------------------------------------------------------------------------------------
def markdown(report: dict) -> str:
    s = report["setting"]
    lines = [
        f"# Look benchmark: {report['setting_name']}",
        "",
        f"`benchmarks/look_benchmark.py --setting {report['setting_name']}`, run on {report['date']}.",
        f"Hardware: {report['hardware']}; torch {report['torch']}, device `{report['device']}`.",
        f"Training: frame mode, {s['size']}², {s['steps']} steps, batch {s['batch_size']}, "
        "trainer defaults otherwise.",
        f"Data: style B = look(London ids < {HELD_OUT_FROM}, even half, {report['counts']['style']} images); "
        f"content A = the odd half + Canada ({report['counts']['content']} images); held-out test = "
        f"London ids >= {HELD_OUT_FROM} + pixabay_aligned_eval ({report['counts']['test']} images), "
        "target = look(input). Baselines are fitted on style B.",
        f"Aim (issue): GAN >= best classical baseline + {AIM_MARGIN_DB:g} dB PSNR and >= {AIM_PSNR_DB:g} dB.",
        "",
    ]
    for look, r in report["looks"].items():
        trained = f", GAN trained in {r['train_seconds'] / 60:.1f} min" if r["train_seconds"] else " (no GAN)"
        if "oracle" in r:
            o = r["oracle"]
            trained += f"; paired oracle: {o['steps']} steps in {o['train_seconds'] / 60:.1f} min"
        lines += [f"## {look}{trained}", ""]
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
            verdict = "met" if aim["met"] else "NOT met"
            lines += ["", f"GAN - best baseline: {aim['gan_minus_best_baseline_db']:+.2f} dB; aim {verdict}."]
        lines.append("")
    if report.get("notes"):
        lines += ["## Notes", "", report["notes"], ""]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--setting", choices=sorted(SETTINGS), default="cpu-small")
    parser.add_argument("--looks", nargs="+", choices=sorted(LOOKS), default=sorted(LOOKS))
    parser.add_argument("--steps", type=int, help="override the setting's training steps")
    parser.add_argument("--data", default=str(REPO.parent / "shared" / "data"), help="the shared data folder")
    parser.add_argument(
        "--work", help="scratch folder for images, runs and checkpoints (default: a temp dir)"
    )
    parser.add_argument("--device", default="auto", help="training device: auto | cpu | cuda")
    parser.add_argument("--no-train", action="store_true", help="baselines only (no GAN)")
    parser.add_argument(
        "--oracle-steps", type=int, default=0, help="also train a paired-L1 reference for this many steps"
    )
    parser.add_argument("--notes", default="", help="text for the report's Notes section")
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "results"))
    parser.add_argument("--render", metavar="JSON", help="only rewrite the .md of an earlier run's .json")
    args = parser.parse_args()

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
    setting = dict(SETTINGS[args.setting], **({"steps": args.steps} if args.steps else {}))
    files = split(data)
    work = Path(args.work or tempfile.mkdtemp(prefix="look-benchmark-"))
    from portrait_style.bench import machine_name

    report = {
        "setting_name": args.setting,
        "setting": setting,
        "date": time.strftime("%Y-%m-%d"),
        "hardware": machine_name(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "device": args.device,
        "python": platform.python_version(),
        "counts": {k: len(v) for k, v in files.items()},
        "notes": args.notes,
        "looks": {},
    }
    for name in args.looks:
        report["looks"][name] = run_look(
            name, files, setting, work / name, args.device, args.no_train, args.oracle_steps
        )
        print(json.dumps(report["looks"][name]["scores"], indent=1)[:2000], file=sys.stderr)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    suffix = "" if not args.no_train else "-baselines"
    (out / f"looks-{args.setting}{suffix}.json").write_text(json.dumps(report, indent=2) + "\n")
    (out / f"looks-{args.setting}{suffix}.md").write_text(markdown(report))
    print(f"wrote {out}/looks-{args.setting}{suffix}.md", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
