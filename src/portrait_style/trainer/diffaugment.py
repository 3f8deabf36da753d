"""DiffAugment (Zhao et al. 2020, "Differentiable Augmentation for Data-Efficient GAN Training").

The same kind of random, differentiable transform is applied to real and fake images before the
discriminator, in both its update and the generator's, so D cannot memorise a handful of style
images and G still learns the un-augmented distribution. Ported from the authors' PyTorch code
(BSD-2-Clause); images are NCHW in [-1, 1].
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def diff_augment(x: torch.Tensor, policy: str) -> torch.Tensor:
    """Apply each comma-separated part of `policy` ("color", "translation", "cutout") in order."""
    for name in filter(None, (p.strip() for p in policy.split(","))):
        for fn in AUGMENTS[name]:
            x = fn(x)
    return x.contiguous()


def rand_brightness(x: torch.Tensor) -> torch.Tensor:
    return x + (torch.rand(x.size(0), 1, 1, 1, dtype=x.dtype, device=x.device) - 0.5)


def rand_saturation(x: torch.Tensor) -> torch.Tensor:
    mean = x.mean(dim=1, keepdim=True)
    return (x - mean) * (torch.rand(x.size(0), 1, 1, 1, dtype=x.dtype, device=x.device) * 2) + mean


def rand_contrast(x: torch.Tensor) -> torch.Tensor:
    mean = x.mean(dim=[1, 2, 3], keepdim=True)
    return (x - mean) * (torch.rand(x.size(0), 1, 1, 1, dtype=x.dtype, device=x.device) + 0.5) + mean


def rand_translation(x: torch.Tensor, ratio: float = 0.125) -> torch.Tensor:
    """Shift each image by up to ratio of its size, filling with zeros (mid-grey)."""
    n, _, h, w = x.shape
    shift_y, shift_x = int(h * ratio + 0.5), int(w * ratio + 0.5)
    ty = torch.randint(-shift_y, shift_y + 1, size=[n, 1, 1], device=x.device)
    tx = torch.randint(-shift_x, shift_x + 1, size=[n, 1, 1], device=x.device)
    grid_b, grid_y, grid_x = torch.meshgrid(
        torch.arange(n, device=x.device),
        torch.arange(h, device=x.device),
        torch.arange(w, device=x.device),
        indexing="ij",
    )
    grid_y = torch.clamp(grid_y + ty + 1, 0, h + 1)
    grid_x = torch.clamp(grid_x + tx + 1, 0, w + 1)
    x_pad = F.pad(x, [1, 1, 1, 1, 0, 0, 0, 0])
    return x_pad.permute(0, 2, 3, 1).contiguous()[grid_b, grid_y, grid_x].permute(0, 3, 1, 2)


def rand_cutout(x: torch.Tensor, ratio: float = 0.5) -> torch.Tensor:
    """Zero one random rectangle of ratio x the image size per image."""
    n, _, h, w = x.shape
    cut_h, cut_w = int(h * ratio + 0.5), int(w * ratio + 0.5)
    oy = torch.randint(0, h + (1 - cut_h % 2), size=[n, 1, 1], device=x.device)
    ox = torch.randint(0, w + (1 - cut_w % 2), size=[n, 1, 1], device=x.device)
    grid_b, grid_y, grid_x = torch.meshgrid(
        torch.arange(n, device=x.device),
        torch.arange(cut_h, device=x.device),
        torch.arange(cut_w, device=x.device),
        indexing="ij",
    )
    grid_y = torch.clamp(grid_y + oy - cut_h // 2, min=0, max=h - 1)
    grid_x = torch.clamp(grid_x + ox - cut_w // 2, min=0, max=w - 1)
    mask = torch.ones(n, h, w, dtype=x.dtype, device=x.device)
    mask[grid_b, grid_y, grid_x] = 0
    return x * mask.unsqueeze(1)


AUGMENTS = {
    "color": [rand_brightness, rand_saturation, rand_contrast],
    "translation": [rand_translation],
    "cutout": [rand_cutout],
}


def check_policy(policy: str) -> None:
    unknown = [p for p in (q.strip() for q in policy.split(",")) if p and p not in AUGMENTS]
    if unknown:
        raise ValueError(f"unknown DiffAugment part(s) {unknown}; choose from {sorted(AUGMENTS)}")
