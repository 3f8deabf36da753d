"""Watching a run: tqdm progress bar with losses, TensorBoard scalars and image grids, sample PNGs.

Only rank 0 monitors; on other ranks a disabled Monitor makes every call a no-op.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import cv2
import numpy as np
import torch
from tqdm import tqdm

from portrait_style.fileutil import atomic_path

log = logging.getLogger(__name__)


def make_grid(rows: list[torch.Tensor]) -> np.ndarray:
    """Rows of NCHW images in [-1, 1] -> one H x W x 3 uint8 RGB image (rows top to bottom)."""
    lines = [torch.cat(list(r.detach().float().cpu().clamp(-1, 1)), dim=2) for r in rows]  # [3, h, n*w]
    grid = torch.cat(lines, dim=1)
    return ((grid.permute(1, 2, 0).numpy() + 1.0) * 127.5).round().astype(np.uint8)


class Monitor:
    def __init__(self, run_dir: Path, total: int, start: int, enabled: bool, progress: bool):
        self.run_dir, self.enabled = run_dir, enabled
        self.bar = tqdm(
            total=total, initial=start, unit="step", dynamic_ncols=True, disable=not (enabled and progress)
        )
        self.writer = None
        self._last: tuple[int, float] | None = None  # (step, time) of the previous scalars call
        if enabled:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError:  # the `train` extra is not installed: train anyway, without TensorBoard
                log.warning("tensorboard is not installed: no TensorBoard logs (pip install tensorboard)")
            else:
                self.writer = SummaryWriter(str(run_dir / "tb"), purge_step=start or None)

    def step(self) -> None:
        self.bar.update(1)

    def scalars(self, step: int, losses: dict[str, float], lr: float) -> None:
        if not self.enabled:
            return
        self.bar.set_postfix({k: f"{v:.3f}" for k, v in losses.items() if k in ("D", "G_GAN", "NCE")})
        if self.writer is not None:
            for name, value in losses.items():
                self.writer.add_scalar(f"loss/{name}", value, step)
            self.writer.add_scalar("lr", lr, step)
            now = time.perf_counter()
            if self._last is not None and step > self._last[0]:
                self.writer.add_scalar(
                    "speed/steps_per_s", (step - self._last[0]) / (now - self._last[1]), step
                )
            self._last = (step, now)

    def samples(self, step: int, grid: np.ndarray) -> Path | None:
        """Write the grid as samples/step_NNNNNNN.png and to TensorBoard."""
        if not self.enabled:
            return None
        path = self.run_dir / "samples" / f"step_{step:07d}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp:
            cv2.imwrite(str(tmp), cv2.cvtColor(grid, cv2.COLOR_RGB2BGR))
        if self.writer is not None:
            self.writer.add_image("samples (input / G / EMA)", grid, step, dataformats="HWC")
        return path

    def close(self) -> None:
        self.bar.close()
        if self.writer is not None:
            self.writer.close()
