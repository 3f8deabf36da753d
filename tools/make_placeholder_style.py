"""Build the placeholder style `look-teal-orange`: the real-time generator fitted by plain regression
to a fixed colour grade (`evaluate.looks.teal_orange_film`) on real portraits.

It is a real, deterministic model, but it was NOT learned from example photographs: it exists so the
engine works out of the box before trained styles ship, and the CLI says so.

    python tools/make_placeholder_style.py --data ../shared/data --steps 500 \
        --out src/portrait_style/styles/look-teal-orange.safetensors
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import cv2
import numpy as np
import torch

from portrait_style.engine.checkpoint import StyleMeta, save_style
from portrait_style.engine.model import Generator
from portrait_style.evaluate.looks import teal_orange_film
from portrait_style.hardware import cpu_name

TRAIN_FOLDERS = ("portraits/london_neutral", "portraits/london_smiling", "portraits/canada")


def training_images(data: Path, size: int) -> np.ndarray:
    """Centre-square portraits of the training identities (London ids < 120 and Canada), resized."""
    images = []
    for folder in TRAIN_FOLDERS:
        for path in sorted((data / folder).glob("*.jpg")):
            if folder.startswith("portraits/london") and int(path.name[:3]) >= 120:
                continue  # held out for evaluation (see the data README)
            bgr = cv2.imread(str(path))
            h, w = bgr.shape[:2]
            side = min(h, w)
            square = bgr[(h - side) // 2 : (h + side) // 2, (w - side) // 2 : (w + side) // 2]
            images.append(cv2.cvtColor(cv2.resize(square, (size, size), interpolation=cv2.INTER_AREA), 4))
    return np.stack(images)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="../shared/data")
    parser.add_argument("--out", default="src/portrait_style/styles/look-teal-orange.safetensors")
    parser.add_argument("--size", type=int, default=320, help="portraits are resized to this square")
    parser.add_argument("--crop", type=int, default=128, help="random training crops of this side")
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1 is fastest on a busy CPU)")
    parser.add_argument("--batch", type=int, default=8)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    inputs = training_images(Path(args.data), args.size)
    targets = np.stack([teal_orange_film(x) for x in inputs])
    to_tensor = lambda a: torch.from_numpy(a).permute(0, 3, 1, 2).float() / 127.5 - 1  # noqa: E731
    model = Generator()
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, args.steps)
    start = time.time()
    for step in range(args.steps):
        # Random crops: the grade's vignette cannot be located from a crop, so the model learns the
        # position-independent part and shows no frame-border artefacts at other sizes.
        idx = rng.choice(len(inputs), args.batch, replace=False)
        top, left = rng.integers(0, args.size - args.crop + 1, 2)
        window = np.s_[:, top : top + args.crop, left : left + args.crop]
        flip = rng.random() < 0.5
        x, y = inputs[idx][window], targets[idx][window]
        if flip:  # the grade is left-right symmetric, so flipped pairs stay exact
            x, y = x[:, :, ::-1].copy(), y[:, :, ::-1].copy()
        loss = torch.nn.functional.l1_loss(model.generate(to_tensor(x)), to_tensor(y))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
        if step % 50 == 0 or step == args.steps - 1:
            print(f"step {step} L1 {loss.item():.4f}", flush=True)
    with torch.no_grad():
        pred = model.eval()(torch.from_numpy(inputs[:32])).numpy().astype(np.float64)
    psnr = float(10 * np.log10(255**2 / np.mean((pred - targets[:32]) ** 2)))
    meta = StyleMeta(
        name="look-teal-orange",
        resolution=256,
        mode="face",
        description="PLACEHOLDER fitted to a fixed teal-orange colour grade, not learned from photos",
        license="CC BY 4.0 (weights fitted on Face Research Lab London Set and Young Adult White Faces)",
        attribution="DeBruine & Jones 2017: Face Research Lab London Set; Young Adult White Faces",
        training={
            "method": "L1 regression to evaluate.looks.teal_orange_film (tools/make_placeholder_style.py)",
            "steps": args.steps,
            "batch": args.batch,
            "crop": args.crop,
            "images": int(len(inputs)),
            "hardware": f"CPU: {cpu_name()}, {args.threads} thread(s)",
            "wall_seconds": round(time.time() - start),
            "train_psnr_db": round(psnr, 2),
        },
    )
    save_style(args.out, model, meta)
    print(f"saved {args.out}: train PSNR vs the grade {psnr:.2f} dB")


if __name__ == "__main__":
    main()
