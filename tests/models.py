"""Small style checkpoints for tests: real generators with fixed random weights (seeded), never shipped."""

from __future__ import annotations

from pathlib import Path

import torch

from portrait_style.engine.checkpoint import StyleMeta, save_style
from portrait_style.engine.model import Generator


def make_style(folder: Path, mode: str = "face", resolution: int = 128, seed: int = 0) -> Path:
    torch.manual_seed(seed)
    model = Generator(channels=(8, 16, 32), n_blocks=2, expansion=2)
    with torch.no_grad():
        model.head.bias.copy_(torch.tensor([0.6, -0.4, 0.2]))  # a strong, visible colour shift
    meta = StyleMeta(name=f"test-{mode}", resolution=resolution, mode=mode, description="test style")
    return save_style(folder / f"test-{mode}.safetensors", model, meta)
