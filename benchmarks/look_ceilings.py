"""What limits the look model on the ground-truth look benchmark: its two ceilings, scored like the benchmark.

Same data, split, setting (cpu-look) and held-out scoring as benchmarks/look_benchmark.py; per look, three
fits of the same look model (the trainer's family defaults):

  paired       fitted with L2 to look(content) on the content set itself: pairs, so nothing is left to
               guess; what the model can express, learned from the same 96 training photos
  same people  trained unpaired exactly as in the benchmark, but the style set is the look applied to the
               content set (the same people on both sides): no population difference to explain away
  benchmark    the benchmark's own run: the style set is the look on the other half of the people

The gap from `paired` to `same people` is the objective's (distribution matching leaves the map
under-determined); from `same people` to `benchmark` it is the data's (two sets of 96 faces differ by
more than the look).

    nice -n 10 python benchmarks/look_ceilings.py --looks face-light local-contrast [--work DIR]

Writes benchmarks/results/look-ceilings.md and .json. Images and runs go to --work, never into the
repository.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

import look_benchmark as lb  # noqa: E402

from portrait_style.engine.checkpoint import StyleMeta, save_style  # noqa: E402
from portrait_style.evaluate.looks import FACE_LOOKS, LOOKS  # noqa: E402
from portrait_style.evaluate.runner import load_stylizer  # noqa: E402
from portrait_style.hardware import machine_name  # noqa: E402
from portrait_style.look.data import load_frames  # noqa: E402
from portrait_style.look.model import ARCH_NAME  # noqa: E402
from portrait_style.look.train import look_net  # noqa: E402
from portrait_style.trainer.config import TrainConfig, with_family_defaults  # noqa: E402
from portrait_style.trainer.train import _lr_at  # noqa: E402

SETTING = "cpu-look"


def fit_paired(prepared: dict, name: str, setting: dict, work: Path) -> Path:
    """The look model fitted with L2 to the true look on the content photos, as the trainer would see
    them (its loader, its size, its face tables, its learning-rate schedule)."""
    cfg = with_family_defaults(
        TrainConfig(family="look", look_faces=name in FACE_LOOKS, steps=setting["steps"])
    )
    size = lb.trained_size(setting) or cfg.size
    paths = sorted(Path(prepared["content_dir"]).glob("*.png"))
    frames = load_frames(paths, "content", "paired", size, cfg.look_faces, work / "cache")
    by_name = {f"{p.parent.name}-{p.stem}.png": p for p in prepared["content_paths"]}
    targets = [prepared["apply"](by_name[p.name]) for p in paths]
    targets = [cv2.resize(t, (size, size), interpolation=cv2.INTER_AREA) for t in targets]
    target = torch.from_numpy(np.stack(targets)).float() / 255.0
    x = frames.images.permute(0, 2, 3, 1).contiguous()
    torch.manual_seed(cfg.seed)
    net = look_net(cfg)
    optimizer = torch.optim.Adam(net.parameters(), lr=cfg.lr, betas=(0.9, 0.99))
    for step in range(cfg.steps):
        for group in optimizer.param_groups:
            group["lr"] = _lr_at(cfg, step)
        loss = (net.render(x, frames.faces) - target).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    meta = StyleMeta(name=f"paired-{name}", arch=ARCH_NAME, mode="frame", resolution=size)
    return save_style(work / f"paired-{name}.safetensors", net.eval(), meta)


def same_people(prepared: dict, name: str, setting: dict, work: Path, device: str) -> Path:
    """The benchmark's unpaired training with the style set = the look on the content photos."""
    style_dir = work / "style-same-people"
    style_dir.mkdir(parents=True, exist_ok=True)
    for path in prepared["content_paths"]:
        lb.write_png(style_dir / f"{path.parent.name}-{path.stem}.png", prepared["apply"](path))
    model, _ = lb.train_model(
        {**prepared, "style_dir": style_dir}, name, setting, work / "same", device, "look"
    )
    return model


def psnr_of(scores: dict) -> dict:
    return {subset: round(s["psnr"], 2) for subset, s in scores.items()}


def run(name: str, files: dict, setting: dict, work: Path, device: str, frames) -> dict:
    prepared = lb.prepare(files, name, frames, work)
    out = {}
    for fit in ("paired", "same people", "benchmark"):
        print(f"[{name}] {fit}", file=sys.stderr)
        start = time.perf_counter()
        if fit == "paired":
            model = fit_paired(prepared, name, setting, work)
        elif fit == "same people":
            model = same_people(prepared, name, setting, work, device)
        else:
            model, _ = lb.train_model(prepared, name, setting, work / "benchmark", device, "look")
        seconds = time.perf_counter() - start
        stylize = load_stylizer(model, "frame")[0]
        out[fit] = {"psnr": psnr_of(lb.score(stylize, prepared["test"])), "train_seconds": round(seconds, 1)}
    return out


def markdown(report: dict) -> str:
    lines = [
        "# Look benchmark: the look model's ceilings",
        "",
        f"`benchmarks/look_ceilings.py`, run on {report['date']}, {report['hardware']}; setting "
        f"`{SETTING}` of `benchmarks/look_benchmark.py` ({report['setting']}).",
        "PSNR on the held-out set (all / London held-out / pixabay), dB. See the module's docstring for "
        "what each fit is.",
        "",
        "| look | paired | same people | benchmark |",
        "|---|---|---|---|",
    ]
    for name, fits in report["looks"].items():
        cells = []
        for fit in ("paired", "same people", "benchmark"):
            p = fits[fit]["psnr"]
            cells.append(f"{p['all']} / {p.get('london-heldout', '-')} / {p.get('pixabay', '-')}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--looks", nargs="+", choices=sorted(LOOKS), default=sorted(LOOKS))
    parser.add_argument("--data", default=str(lb.REPO.parent / "shared" / "data"))
    parser.add_argument("--work", help="scratch folder (default: a temp dir)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", default=str(lb.REPO / "benchmarks" / "results"))
    args = parser.parse_args(argv)
    data = Path(args.data)
    if not (data / "portraits" / "london_neutral").is_dir():
        print(f"error: shared data not found at {data} (give --data)", file=sys.stderr)
        return 2
    setting = lb.SETTINGS[SETTING]
    files = lb.split(data)
    work = Path(args.work or tempfile.mkdtemp(prefix="look-ceilings-"))
    frames = lb.Frames(setting["size"])
    report = {"date": time.strftime("%Y-%m-%d"), "hardware": machine_name(), "setting": setting, "looks": {}}
    for name in args.looks:
        report["looks"][name] = run(name, files, setting, work / name, args.device, frames)
        print(json.dumps(report["looks"][name]), file=sys.stderr)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "look-ceilings.json").write_text(json.dumps(report, indent=2) + "\n")
    (out / "look-ceilings.md").write_text(markdown(report))
    print(f"wrote {out}/look-ceilings.md", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
