"""The training-only networks: a PatchGAN discriminator and CUT's PatchNCE projection heads.

(The generator is the engine's own `Generator`: what is trained is exactly what runs.)
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm as _spectral_norm


def init_weights(module: nn.Module, gain: float = 0.02) -> None:
    """pix2pix/CUT initialisation: N(0, gain) convolution and linear weights, zero biases."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, gain)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


class PatchDiscriminator(nn.Module):
    """pix2pix's N-layer PatchGAN: one real/fake score per overlapping patch (70x70 with 3 layers).

    With spectral_norm the convolutions are spectrally normalised and there is no normalisation
    layer; otherwise instance norm, as in CycleGAN/CUT.
    """

    def __init__(self, channels: int = 64, n_layers: int = 3, spectral_norm: bool = True):
        super().__init__()
        self.arch_args = {"channels": channels, "n_layers": n_layers, "spectral_norm": spectral_norm}

        def conv(cin: int, cout: int, stride: int, norm: bool) -> list[nn.Module]:
            layer = nn.Conv2d(cin, cout, 4, stride, padding=1, bias=spectral_norm or not norm)
            layers = [_spectral_norm(layer) if spectral_norm else layer]
            if norm and not spectral_norm:
                layers.append(nn.InstanceNorm2d(cout))
            return layers + [nn.LeakyReLU(0.2, inplace=True)]

        layers = conv(3, channels, 2, norm=False)
        width = channels
        for i in range(1, n_layers + 1):
            out = channels * min(2**i, 8)
            layers += conv(width, out, 2 if i < n_layers else 1, norm=True)
            width = out
        last = nn.Conv2d(width, 1, 4, 1, padding=1)
        layers.append(_spectral_norm(last) if spectral_norm else last)
        self.model = nn.Sequential(*layers)
        init_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


class PatchSampleMLP(nn.Module):
    """CUT's PatchSampleF: sample feature-map locations, project each through a 2-layer MLP, L2-normalise.

    One MLP per encoder layer used by PatchNCE. The same locations are used for a real image's
    features and its translation's, which is what makes corresponding patches positives.
    """

    def __init__(self, in_channels: list[int], dim: int = 256):
        super().__init__()
        self.arch_args = {"in_channels": list(in_channels), "dim": dim}
        self.mlps = nn.ModuleList(
            nn.Sequential(nn.Linear(c, dim), nn.ReLU(inplace=True), nn.Linear(dim, dim)) for c in in_channels
        )
        init_weights(self)

    def forward(
        self, feats: list[torch.Tensor], num_patches: int, patch_ids: list[torch.Tensor] | None = None
    ) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """feats: [N, C, H, W] per layer -> ([N * P, dim] per layer, the sampled flat locations)."""
        out, ids = [], []
        for k, (feat, mlp) in enumerate(zip(feats, self.mlps, strict=True)):
            n, c, h, w = feat.shape
            flat = feat.permute(0, 2, 3, 1).reshape(n, h * w, c)
            if patch_ids is None:
                idx = torch.randperm(h * w, device=feat.device)[: min(num_patches, h * w)]
            else:
                idx = patch_ids[k]
            sample = flat[:, idx, :].reshape(-1, c)
            out.append(nn.functional.normalize(mlp(sample), dim=1, eps=1e-7))
            ids.append(idx)
        return out, ids


def encoder_channels(generator: nn.Module, layers: tuple[int, ...], size: int = 32) -> list[int]:
    """Channel count of each chosen `Generator.encode` feature map (read off one small forward pass)."""
    device = next(generator.parameters()).device
    with torch.no_grad():
        feats = generator.encode(torch.zeros(1, 3, size, size, device=device))
    return [feats[i].shape[1] for i in layers]
