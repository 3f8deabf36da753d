"""Training data: the two unpaired image sets (content A, style B) and the batches drawn from them.

Both sets are prepared once, in memory, at a working resolution a little above the training size:
face mode keeps aligned face crops (cached on disk, see face_crops.py), frame mode keeps whole images
with the shorter side at that resolution, and few-shot style sets keep each exemplar at twice the
training size so patches can be cut from it at several scales.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from portrait_style.config import FaceConfig
from portrait_style.errors import InputError
from portrait_style.trainer import augment
from portrait_style.trainer.config import TrainConfig
from portrait_style.trainer.face_crops import face_crops
from portrait_style.trainer.images import read_all, resize_short_side, warn_skipped

MARGIN = 1.125  # working resolution / training size: room for crop jitter (CycleGAN's 286 for 256)
EXEMPLAR_SCALE = 2  # few-shot exemplars are kept with their shorter side at this many training sizes


@dataclass
class ImageSet:
    role: str  # "content" or "style"
    source: str
    images: list[np.ndarray]
    kind: str  # "face crops", "frames" or "exemplars"
    files: int  # image files found
    unreadable: list[Path] = field(default_factory=list)
    no_face: list[Path] = field(default_factory=list)

    def summary(self) -> dict:
        return {
            "files": self.files,
            "used": self.files - len(self.unreadable) - len(self.no_face),
            "unreadable": len(self.unreadable),
            "no_face": len(self.no_face),
            self.kind.replace(" ", "_"): len(self.images),
        }


def load_set(
    cfg: TrainConfig, role: str, paths: list[Path], kind: str, progress: Callable = iter
) -> ImageSet:
    """Read and prepare one side's images; raise InputError when nothing usable is left."""
    source = cfg.content_dir if role == "content" else cfg.style_dir
    load = round(cfg.size * MARGIN)
    if kind == "face crops":
        face_cfg = FaceConfig(detector=cfg.face_detector)
        images, no_face, bad = face_crops(paths, cfg.size, Path(cfg.cache_dir), face_cfg, MARGIN, progress)
    else:
        side = load if kind == "frames" else EXEMPLAR_SCALE * cfg.size
        images, bad = read_all(paths, lambda im: resize_short_side(im, side), progress)
        no_face = []
    warn_skipped(bad, "unreadable or not an image", role)
    warn_skipped(no_face, "no face found", role)
    if len(bad) == len(paths):
        raise InputError(f"none of the {len(paths)} {role} images in {source} could be read (e.g. {bad[0]})")
    if not images:
        hint = "use --mode frame to train on whole frames" + (" or --few-shot" if role == "style" else "")
        raise InputError(
            f"no faces found in any of the {len(paths)} {role} images in {source}"
            f" (face mode needs faces; {hint})"
        )
    return ImageSet(role, source, images, kind, len(paths), bad, no_face)


def set_kinds(cfg: TrainConfig) -> tuple[str, str]:
    """What each side is prepared as, given the resolved config."""
    content = "face crops" if cfg.mode == "face" else "frames"
    style = "exemplars" if cfg.few_shot else content
    return content, style


class UnpairedBatches(Dataset):
    """Item `step` is the whole batch of that step: (content, style), float NCHW in [-1, 1].

    Every batch is drawn from its own generator seeded by (seed, rank, step): data-loader workers need
    no shared state, each process of a multi-GPU run sees different images, and a resumed run draws
    exactly the batches the uninterrupted run would have drawn.
    """

    def __init__(self, content: ImageSet, style: ImageSet, cfg: TrainConfig, rank: int = 0):
        self.content, self.style = content.images, style.images
        self.few_shot = style.kind == "exemplars"
        self.size, self.batch_size, self.seed, self.rank = cfg.size, cfg.batch_size, cfg.seed, rank
        self.steps = cfg.steps

    def __len__(self) -> int:
        return self.steps

    def __getitem__(self, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        rng = np.random.default_rng([self.seed, self.rank, step])
        a = [
            self.content_view(self.content[i], rng)
            for i in rng.integers(0, len(self.content), self.batch_size)
        ]
        b = [self.style_view(self.style[i], rng) for i in rng.integers(0, len(self.style), self.batch_size)]
        return augment.to_tensor_batch(a), augment.to_tensor_batch(b)

    def content_view(self, image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        view = augment.random_flip(augment.jitter_crop(image, self.size, rng), rng)
        return augment.random_brightness(view, rng)

    def style_view(self, image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        if self.few_shot:
            return augment.random_flip(augment.random_patch(image, self.size, rng), rng)
        return augment.random_flip(augment.jitter_crop(image, self.size, rng), rng)


def sample_inputs(content: ImageSet, n: int, size: int) -> torch.Tensor:
    """Fixed content images for the sample grids: centre crops of n images spread over the set."""
    picks = np.linspace(0, len(content.images) - 1, num=min(n, len(content.images))).round().astype(int)
    crops = []
    for i in picks:
        image = content.images[i]
        h, w = image.shape[:2]
        side = min(h, w, size)  # for faces: exactly the engine's framing
        y, x = (h - side) // 2, (w - side) // 2
        crops.append(augment.resize_square(image[y : y + side, x : x + side], size))
    return augment.to_tensor_batch(crops)
