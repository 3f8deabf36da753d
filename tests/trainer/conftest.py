"""Tiny training sets made on the fly, and a CI-sized TrainConfig."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from skimage import data

from portrait_style.trainer.config import TrainConfig

SHARED = Path(__file__).resolve().parents[3] / "shared"


def write_rgb(path: Path, rgb: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    bgr = rgb[..., ::-1] if rgb.ndim == 3 and rgb.shape[2] == 3 else rgb
    assert cv2.imwrite(str(path), np.ascontiguousarray(bgr))
    return path


def content_images(folder: Path, n: int = 4) -> Path:
    """Crops of scikit-image's astronaut photo at a few sizes; one greyscale, one RGBA."""
    image = data.astronaut()
    for i in range(n):
        crop = image[20 * i : 20 * i + 300, 30 * i : 30 * i + 260]
        crop = cv2.resize(crop, (60 + 8 * i, 72 - 4 * i), interpolation=cv2.INTER_AREA)
        if i == 1:
            write_rgb(folder / f"grey_{i}.png", cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY))
        elif i == 2:
            bgra = cv2.cvtColor(crop, cv2.COLOR_RGB2BGRA)
            bgra[:, :10, 3] = 0
            cv2.imwrite(str(folder / f"alpha_{i}.png"), bgra)
        else:
            write_rgb(folder / f"photo_{i}.jpg", crop)
    return folder


def style_images(folder: Path, n: int = 12, seed: int = 0) -> Path:
    """A 'style': warm, contrasty, blurred colour fields."""
    rng = np.random.default_rng(seed)
    for i in range(n):
        base = cv2.resize(rng.random((6, 6, 3)).astype(np.float32), (56, 48), interpolation=cv2.INTER_CUBIC)
        image = np.clip(base * np.array([1.3, 0.9, 0.5]) * 255, 0, 255).astype(np.uint8)
        write_rgb(folder / f"style_{i:02d}.png", image)
    return folder


@pytest.fixture(autouse=True)
def one_thread():
    """These tests do many tiny ops: on a shared 2-core machine one thread is several times faster
    than two fighting other processes (OpenMP spin-waits). Restored afterwards for other tests."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path]:
    return content_images(tmp_path / "content"), style_images(tmp_path / "style")


@pytest.fixture
def tiny(tmp_path: Path, folders):
    """TrainConfig factory: 32 px, 2 steps, batch 2, frame mode, everything inside tmp_path."""
    content, style = folders

    def make(**overrides) -> TrainConfig:
        cfg = TrainConfig(
            content_dir=str(content),
            style_dir=str(style),
            name="tiny",
            family="generator",
            out_dir=str(tmp_path / "run"),
            mode="frame",
            size=32,
            steps=2,
            batch_size=2,
            nce_patches=32,
            d_channels=16,
            log_every=1,
            sample_every=0,
            checkpoint_every=0,
            progress=False,
            cache_dir=str(tmp_path / "cache"),
            license="CC0-1.0",
            attribution="test images",
        )
        return replace(cfg, **overrides)

    return make
