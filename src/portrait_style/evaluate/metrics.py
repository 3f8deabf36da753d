"""Full-reference image metrics between a stylized output and its ground-truth target.

PSNR and SSIM from scikit-image on uint8 RGB (data range 255, SSIM over the colour channels), and the
mean CIEDE2000 colour difference in CIE Lab (D65): ~1 is a just-noticeable difference, > 5 is obvious.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

import numpy as np
from skimage.color import deltaE_ciede2000, rgb2lab
from skimage.metrics import peak_signal_noise_ratio, structural_similarity


def _check_pair(output: np.ndarray, target: np.ndarray) -> None:
    if output.shape != target.shape:
        raise ValueError(f"output {output.shape} and target {target.shape} differ in shape")
    if output.dtype != np.uint8 or target.dtype != np.uint8 or output.ndim != 3 or output.shape[2] != 3:
        raise ValueError(f"metrics take RGB uint8 (H, W, 3) images, got {output.dtype} {output.shape}")


def psnr(output: np.ndarray, target: np.ndarray) -> float:
    """Peak signal-to-noise ratio in dB; inf for identical images."""
    _check_pair(output, target)
    if np.array_equal(output, target):
        return math.inf  # skimage would divide by zero and warn
    return float(peak_signal_noise_ratio(target, output, data_range=255))


def ssim(output: np.ndarray, target: np.ndarray) -> float:
    _check_pair(output, target)
    return float(structural_similarity(target, output, data_range=255, channel_axis=-1))


def ciede2000(output: np.ndarray, target: np.ndarray) -> float:
    """Mean CIEDE2000 colour difference over the pixels."""
    _check_pair(output, target)
    return float(deltaE_ciede2000(rgb2lab(target), rgb2lab(output), channel_axis=-1).mean())


@dataclass(frozen=True)
class Scores:
    """Metrics averaged over a set of (output, target) pairs."""

    psnr: float  # mean of per-image PSNR, dB
    ssim: float
    ciede2000: float
    n: int

    def as_dict(self) -> dict:
        return asdict(self)


def score_pair(output: np.ndarray, target: np.ndarray) -> Scores:
    return Scores(psnr(output, target), ssim(output, target), ciede2000(output, target), 1)


def score_set(pairs: Iterable[tuple[np.ndarray, np.ndarray]]) -> Scores:
    """Average the metrics over (output, target) pairs, consuming them one at a time."""
    return average([score_pair(out, tgt) for out, tgt in pairs])


def average(rows: Sequence[Scores]) -> Scores:
    """Mean of per-pair (or per-subset) scores, weighted by how many pairs each holds."""
    if not rows:
        raise ValueError("no (output, target) pairs to score")
    weights = [r.n for r in rows]
    return Scores(
        psnr=float(np.average([r.psnr for r in rows], weights=weights)),
        ssim=float(np.average([r.ssim for r in rows], weights=weights)),
        ciede2000=float(np.average([r.ciede2000 for r in rows], weights=weights)),
        n=sum(weights),
    )
