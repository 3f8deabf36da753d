"""Exponential moving average of the generator's weights: the averaged copy is what gets deployed,
because it is steadier (less flicker between checkpoints) than the raw weights of any one step."""

from __future__ import annotations

import copy

import torch
from torch import nn


class EMA:
    def __init__(self, model: nn.Module, decay: float = 0.999):
        self.decay = decay
        self.model = copy.deepcopy(model).eval().requires_grad_(False)

    @torch.no_grad()
    def update(self, model: nn.Module, step: int) -> None:
        # warm-up: early on the average follows the weights closely, so short runs are not stuck at init
        decay = min(self.decay, (1.0 + step) / (10.0 + step))
        for avg, live in zip(self.model.parameters(), model.parameters(), strict=True):
            avg.lerp_(live.detach().to(avg.dtype), 1.0 - decay)
        for avg, live in zip(self.model.buffers(), model.buffers(), strict=True):
            avg.copy_(live)
