"""Training objectives: adversarial (LSGAN, hinge), PatchNCE (CUT), perceptual content and Gram style."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from portrait_style.trainer.mobilenet import MobileNetFeatures


class GANLoss(nn.Module):
    """LSGAN (Mao et al. 2017) or hinge (Lim & Ye 2017) loss on PatchGAN score maps.

    `criterion(pred, target_is_real)` is the generator's loss and the discriminator's loss on fakes
    when `for_discriminator` is set, so both read like the paper.
    """

    def __init__(self, mode: str = "lsgan"):
        super().__init__()
        if mode not in ("lsgan", "hinge"):
            raise ValueError(f"unknown GAN loss {mode!r}")
        self.mode = mode

    def forward(
        self, pred: torch.Tensor, target_is_real: bool, for_discriminator: bool = True
    ) -> torch.Tensor:
        pred = pred.float()
        if self.mode == "lsgan":
            return F.mse_loss(pred, torch.full_like(pred, 1.0 if target_is_real else 0.0))
        if not for_discriminator:  # hinge, generator side: raise D's score on fakes
            return -pred.mean()
        return F.relu(1.0 - pred).mean() if target_is_real else F.relu(1.0 + pred).mean()


class PatchNCELoss(nn.Module):
    """InfoNCE between corresponding patches (Park et al. 2020, eq. 2).

    A patch of the output (query) should match the input patch at the same place (positive) rather
    than the other sampled patches of the same image (negatives). Keys are detached, as in CUT.
    """

    def __init__(self, temperature: float = 0.07):
        super().__init__()
        self.temperature = temperature

    def forward(self, feat_q: torch.Tensor, feat_k: torch.Tensor, batch_size: int) -> torch.Tensor:
        """feat_q, feat_k: [N * P, D] L2-normalised, N images of P patches each. Returns [N * P] losses."""
        feat_q, feat_k = feat_q.float(), feat_k.detach().float()
        dim = feat_q.shape[1]
        l_pos = (feat_q * feat_k).sum(dim=1, keepdim=True)  # [N*P, 1]
        q = feat_q.view(batch_size, -1, dim)
        k = feat_k.view(batch_size, -1, dim)
        n_patches = q.shape[1]
        l_neg = torch.bmm(q, k.transpose(2, 1))  # [N, P, P]: every query against every key of its image
        diagonal = torch.eye(n_patches, device=q.device, dtype=torch.bool)[None]
        l_neg = l_neg.masked_fill(diagonal, -10.0).view(-1, n_patches)  # the positive is not a negative
        logits = torch.cat([l_pos, l_neg], dim=1) / self.temperature
        target = torch.zeros(logits.shape[0], dtype=torch.long, device=logits.device)
        return F.cross_entropy(logits, target, reduction="none")


class FeatureLosses(nn.Module):
    """Losses on frozen MobileNetV2 features, computed once per image batch by `__call__`.

    content: squared distance of channel-normalised feature maps at 1/4-1/16 resolution, averaged over
    positions and summed over taps (LPIPS without the learned weights): keeps what the photo shows.
    style: distance between Gram matrices (Gatys et al. 2016) at all taps, against the mean Gram of
    the style batch: texture and palette statistics without positions, which is what a painting
    learned from one exemplar has to offer.
    """

    CONTENT_TAPS = slice(1, None)  # the 1/2-resolution tap is too close to pixels to be "content"

    def __init__(self, features: MobileNetFeatures):
        super().__init__()
        self.features = features

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        return [f.float() for f in self.features(x)]

    def content(self, feats_x: list[torch.Tensor], feats_y: list[torch.Tensor]) -> torch.Tensor:
        loss = feats_y[0].new_zeros(())
        for fx, fy in zip(feats_x[self.CONTENT_TAPS], feats_y[self.CONTENT_TAPS], strict=True):
            fx, fy = F.normalize(fx, dim=1, eps=1e-6), F.normalize(fy, dim=1, eps=1e-6)
            loss = loss + (fx - fy).pow(2).sum(dim=1).mean()
        return loss

    def style(self, feats_style: list[torch.Tensor], feats_y: list[torch.Tensor]) -> torch.Tensor:
        loss = feats_y[0].new_zeros(())
        for fs, fy in zip(feats_style, feats_y, strict=True):
            target = gram(fs).mean(dim=0, keepdim=True)
            loss = loss + (gram(fy) - target).pow(2).sum(dim=(1, 2)).mean()
        return loss


def gram(f: torch.Tensor) -> torch.Tensor:
    """[N, C, H, W] -> [N, C, C] channel correlations, normalised by the number of positions."""
    n, c, h, w = f.shape
    flat = f.reshape(n, c, h * w)
    return torch.bmm(flat, flat.transpose(1, 2)) / (h * w)
