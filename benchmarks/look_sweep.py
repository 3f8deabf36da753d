"""Many look-benchmark trainings at once, each with one change to the trainer: for a machine with many
cores (and a GPU), where the look benchmark's one-look-at-a-time runs would take hours.

    python benchmarks/look_sweep.py --prepare DIR                 # the benchmark's images, cut once (128²)
    python benchmarks/look_sweep.py --data DIR --out OUT [--gpu-workers 4] [--cpu-workers 12] \\
        [--changes base chroma ...] [--seeds 0 1] [--deadline-s 330] [--skip OUT/sweep.jsonl]
    python benchmarks/look_sweep.py --data DIR --out OUT --jobs chroma:local-contrast:2 ...

Each run is the look benchmark's `cpu-look` training (its split, `prepare` and the trainer's `train()`:
400 steps, batch 96, at the trainer's default size: 96² since the twelfth round, 64² before) with one
change from CHANGES (TrainConfig fields, a module constant of the
objective or the trainer, LookNet arguments, or a patch of the model), scored on the held-out set as the
benchmark scores it (PSNR only: all, London held-out, pixabay). One JSON line per finished run in
OUT/sweep.jsonl, written as it finishes, so a run stopped at its deadline keeps what it finished.
Workers are processes of one thread each; a GPU worker that fails hands its job back and stops.
Training on a GPU is not bit-identical to the CPU (the same seed: within 0.03 dB on two looks, 0.5 on
auto-levels): compare on one device, or read a cell as one draw. `--prepare` writes the benchmark's
square crops of the shared data as PNG under the same names (a few MB to carry to another machine);
the benchmark reads them to the same pixels. Not for committing: the portraits' licences.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import sys
import tempfile
import time
import traceback
from dataclasses import replace
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # look_benchmark
sys.path.insert(0, str(HERE.parent / "src"))  # a bare checkout (the lent machine)

FOLDERS = ("london_neutral", "london_smiling", "canada", "pixabay_aligned_eval")
LOOKS = ("local-contrast", "teal-orange-film", "auto-levels", "faded-warm", "face-light")
# name -> (TrainConfig fields, module constants ("objective.X", "train.X", "objective.WEIGHTS.key",
# "model.CHROMA_AT_BLOCKS"), LookNet arguments)
CHANGES = {
    "base": ({}, {}, {}),
    "size64grid16": ({"size": 64, "look_grid": 16}, {}, {}),  # the defaults before the twelfth round
    "grid24": ({"look_grid": 24}, {}, {}),
    "grid32": ({"look_grid": 32}, {}, {}),
    "chroma": ({"look_chroma": True}, {}, {}),
    "nochroma": ({"look_chroma": False}, {}, {}),
    "chromablk": ({"look_chroma": True}, {"model.CHROMA_AT_BLOCKS": True}, {}),
    "zones2": ({"look_zones": 2}, {}, {}),
    "zones4": ({"look_zones": 4}, {}, {}),
    "pos025": ({"look_position": 0.25}, {}, {}),
    "pos1": ({"look_position": 1.0}, {}, {}),
    "steps800": ({"steps": 800}, {}, {}),
    "proj256": ({"look_projections": 256}, {}, {}),
    "lr3e3": ({"lr": 3e-3}, {}, {}),
    "lr8e3": ({"lr": 8e-3}, {}, {}),
    "pix128": ({"look_pixels": 128}, {}, {}),
    "decay025": ({"lr_decay_start": 0.25}, {}, {}),
    "decay08": ({"lr_decay_start": 0.8}, {}, {}),
    "size96": ({"size": 96}, {}, {}),
    "grid32size96": ({"look_grid": 32, "size": 96}, {}, {}),
    # the grid's context in luma: LookNet's argument, then the trainer's default (thirteenth round)
    "ctxluma": ({}, {}, {"context_colour": False}),
    "ctxluma-grid32size96": ({"look_grid": 32, "size": 96}, {}, {"context_colour": False}),
    "ctxcolour": ({"look_context_colour": True}, {}, {}),  # the default before the thirteenth round
    "band01": ({}, {"objective.BAND_WEIGHT": 0.01}, {}),
    "rough01": ({}, {"train.ROUGHNESS": 0.1}, {}),
    "rough0": ({}, {"train.ROUGHNESS": 0.0}, {}),
    "pool16k": ({}, {"train.STYLE_POOL_PIXELS": 16384}, {}),
    "surround1": ({}, {"objective.WEIGHTS.surround": 1.0}, {}),
    "surround0": ({}, {"objective.WEIGHTS.surround": 0.0}, {}),
    "detail4": ({}, {"objective.WEIGHTS.detail": 4.0}, {}),
    "detail1": ({}, {"objective.WEIGHTS.detail": 1.0}, {}),
    "stats05": ({}, {"objective.WEIGHTS.stats": 0.5}, {}),
    "stats2": ({}, {"objective.WEIGHTS.stats": 2.0}, {}),
    "colour2": ({}, {"objective.WEIGHTS.colour": 2.0}, {}),
    "knots17": ({}, {}, {"knots": 17}),
    "knots5": ({}, {}, {"knots": 5}),
    "hidden64": ({}, {}, {"hidden": 64}),
    "hidden16": ({}, {}, {"hidden": 16}),
    "embed16": ({}, {}, {"embed": 16}),
}


# -- the changes -----------------------------------------------------------------------------------------
def _maps_at_blocks(original):
    """LookNet._maps with the saturation mix on each block's value only: out = M y + s (x - mu)."""

    def maps(self, rows, faces, lattice=False):
        from portrait_style.look.blocks import LUT_SIZE
        from portrait_style.look.colour import table_rows

        s, b, chroma = original(self, rows, faces, lattice)
        if chroma is None:
            return s, b, chroma
        mu = (table_rows(self.block_means(rows), LUT_SIZE) * (255.0 / (LUT_SIZE - 1))).to(b.dtype)
        y = b + s * mu
        my = (y.view(y.shape[0], -1, 3) @ chroma.transpose(1, 2)).view_as(y)
        return s, my - s * mu, None

    return maps


def apply_change(constants: dict) -> list:
    """Set a change's constants; returns what undoes it (`undo`)."""
    from portrait_style.look import objective
    from portrait_style.look import train as look_train
    from portrait_style.look.model import LookNet

    modules, undo = {"objective": objective, "train": look_train}, []
    for key, value in constants.items():
        module, *rest = key.split(".")
        if module == "model":  # CHROMA_AT_BLOCKS
            undo.append((LookNet, "_maps", LookNet._maps))
            LookNet._maps = _maps_at_blocks(LookNet._maps)
        elif len(rest) == 2:  # an entry of a module's dict
            table = getattr(modules[module], rest[0])
            undo.append((table, rest[1], table[rest[1]]))
            table[rest[1]] = value
        else:
            undo.append((modules[module], rest[0], getattr(modules[module], rest[0])))
            setattr(modules[module], rest[0], value)
    return undo


def undo(changes: list) -> None:
    for target, key, value in reversed(changes):
        if isinstance(target, dict):
            target[key] = value
        else:
            setattr(target, key, value)


# -- one run ---------------------------------------------------------------------------------------------
def run(job: dict, device: str, data: Path, steps: int = 400) -> dict:
    import look_benchmark as lb
    import numpy as np

    from portrait_style.evaluate import metrics
    from portrait_style.evaluate.looks import FACE_LOOKS
    from portrait_style.evaluate.runner import load_stylizer
    from portrait_style.look import train as look_train
    from portrait_style.look.model import LookNet
    from portrait_style.trainer.config import TrainConfig
    from portrait_style.trainer.train import train

    fields, constants, arch = CHANGES[job["change"]]
    work = Path(tempfile.mkdtemp(prefix="sweep-"))
    prepared = lb.prepare(lb.split(data), job["look"], lb.Frames(128), work)
    plain_net = look_train.look_net
    look_train.look_net = lambda cfg: LookNet(**dict(plain_net(cfg).arch_args, **arch))
    changed = apply_change(constants)
    try:
        cfg = TrainConfig(
            content_dir=str(prepared["content_dir"]), style_dir=str(prepared["style_dir"]),
            name=f"look-{job['look']}", out_dir=str(work / "run"), mode="frame", family="look",
            look_faces=job["look"] in FACE_LOOKS, steps=400, batch_size=96, sample_every=0,
            checkpoint_every=0, device=device, seed=job["seed"], progress=False,
            cache_dir=str(work / "cache"),
        )  # fmt: skip
        start = time.perf_counter()
        path = train(replace(cfg, **{"steps": steps, **fields}))
        seconds = time.perf_counter() - start
        model = load_stylizer(path, "frame")[0]  # scored with the change still on (a model patch)
        rows: dict[str, list[float]] = {}
        for subset, image, target in prepared["test"]:
            rows.setdefault(subset, []).append(metrics.psnr(model(image), target))
    finally:
        undo(changed)
        look_train.look_net = plain_net
    psnr = {k: float(np.mean(v)) for k, v in rows.items()}
    psnr["all"] = float(np.mean([x for v in rows.values() for x in v]))
    return dict(job, device=device, seconds=round(seconds, 1), psnr={k: round(v, 3) for k, v in psnr.items()})


def worker(device: str, jobs, results, data: str, steps: int) -> None:
    import torch

    torch.set_num_threads(1)
    if device == "cuda":  # the CPU's arithmetic, as far as it goes
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cuda.matmul.allow_tf32 = False
    while (job := jobs.get()) is not None:
        try:
            results.put(run(job, device, Path(data), steps))
        except Exception as exc:  # noqa: BLE001 - reported, and the sweep goes on
            gpu = device == "cuda"
            if gpu:
                jobs.put(job)  # to a CPU worker; this one stops
            error = f"{type(exc).__name__}: {exc}"
            results.put(dict(job, device=device, error=error, handed_back=gpu, trace=traceback.format_exc()))
            if gpu:
                return


# -- the sweep -------------------------------------------------------------------------------------------
def prepare_data(source: Path, target: Path) -> int:
    """The benchmark's 128² crops of `source` (the shared data folder) as PNG under `target`."""
    import cv2
    import look_benchmark as lb

    count = 0
    for folder in FOLDERS:
        (target / "portraits" / folder).mkdir(parents=True, exist_ok=True)
        for path in sorted((source / "portraits" / folder).iterdir()):
            if path.suffix.lower() in (".png", ".jpg"):
                rgb = lb.square(lb.read_rgb(path), 128)
                ok, png = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
                (target / "portraits" / folder / path.name).write_bytes(png.tobytes())
                count += 1
    return count


def job_list(args) -> list[dict]:
    if args.jobs:
        specs = [spec.split(":") for spec in args.jobs]
        return [{"change": c, "look": look, "seed": int(s)} for c, look, s in specs]
    jobs = [
        {"change": c, "look": look, "seed": s}
        for s in args.seeds
        for c in args.changes
        for look in args.looks
    ]
    if args.skip and Path(args.skip).is_file():
        done = {(r["change"], r["look"], r["seed"]) for r in map(json.loads, open(args.skip)) if "psnr" in r}
        jobs = [j for j in jobs if (j["change"], j["look"], j["seed"]) not in done]
    return jobs


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--prepare", metavar="DIR", help="write the 128² crops of --source here, then stop")
    p.add_argument("--source", default=str(HERE.parents[1] / "shared" / "data"), help="the shared data")
    p.add_argument("--data", help="a folder written by --prepare (or the shared data itself)")
    p.add_argument("--out", help="folder for sweep.jsonl")
    p.add_argument("--changes", nargs="+", choices=sorted(CHANGES), default=list(CHANGES))
    p.add_argument("--looks", nargs="+", choices=LOOKS, default=list(LOOKS[:3]))
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    p.add_argument("--jobs", nargs="+", help="CHANGE:LOOK:SEED runs instead of changes x looks x seeds")
    p.add_argument("--skip", help="a sweep.jsonl whose finished runs are not run again")
    p.add_argument(
        "--steps", type=int, default=400, help="training steps (the benchmark's 400; a smoke run: 4)"
    )
    p.add_argument("--gpu-workers", type=int, default=4)
    p.add_argument("--cpu-workers", type=int, default=max(1, (os.cpu_count() or 2) - 4))
    p.add_argument("--deadline-s", type=float, default=3600.0, help="stop waiting after this long")
    args = p.parse_args()
    if args.prepare:
        print(f"{prepare_data(Path(args.source), Path(args.prepare))} images in {args.prepare}")
        return 0
    if not (args.data and args.out):
        p.error("--data and --out are needed for a sweep")
    import torch

    t0 = time.time()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    gpu = args.gpu_workers if torch.cuda.is_available() else 0
    ctx = mp.get_context("spawn")
    jobs, results = ctx.Queue(), ctx.Queue()
    devices = ["cuda"] * gpu + ["cpu"] * args.cpu_workers
    for device in devices:
        ctx.Process(target=worker, args=(device, jobs, results, args.data, args.steps), daemon=True).start()
    todo = job_list(args)
    for job in todo:
        jobs.put(job)
    pending = len(todo)
    print(f"{pending} runs, {len(devices)} workers ({gpu} on the GPU)", flush=True)
    with open(out / "sweep.jsonl", "a") as log:
        while pending and time.time() - t0 < args.deadline_s:
            try:
                r = results.get(timeout=2)
            except Exception:  # noqa: BLE001 - queue.Empty: look at the clock again
                continue
            log.write(json.dumps(r) + "\n")
            log.flush()
            pending -= 0 if r.get("handed_back") else 1
            what = r.get("error") or f"{r['psnr']['all']:.2f} dB in {r['seconds']} s"
            where = f"{r['device']} {r['change']} {r['look']} seed {r['seed']}"
            print(f"{time.time() - t0:6.0f}s {where}: {what}", flush=True)
    print(f"stopped after {time.time() - t0:.0f} s, {pending} runs not finished", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
