"""Peer architectures, rebuilt layer for layer, so their speed is measured on the same machine and run.

TransformerNet is the generator of fast-neural-style (Johnson et al. 2016), as in pytorch/examples'
`fast_neural_style/neural_style/transformer_net.py`: 9x9 and 3x3 convolutions with reflection padding,
instance norm, five residual blocks at 1/4 resolution with 128 channels. Weights are random: only
speed is compared.
"""

from __future__ import annotations

import torch
from torch import nn


class ConvLayer(nn.Sequential):
    def __init__(self, cin: int, cout: int, k: int, stride: int, upsample: int | None = None):
        layers: list[nn.Module] = [nn.Upsample(scale_factor=upsample, mode="nearest")] if upsample else []
        layers += [nn.ReflectionPad2d(k // 2), nn.Conv2d(cin, cout, k, stride)]
        super().__init__(*layers)


class ResidualBlock(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(
            ConvLayer(channels, channels, 3, 1),
            nn.InstanceNorm2d(channels, affine=True),
            nn.ReLU(),
            ConvLayer(channels, channels, 3, 1),
            nn.InstanceNorm2d(channels, affine=True),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


def _conv_norm_relu(cin: int, cout: int, k: int, stride: int, upsample: int | None = None) -> list[nn.Module]:
    return [ConvLayer(cin, cout, k, stride, upsample), nn.InstanceNorm2d(cout, affine=True), nn.ReLU()]


class TransformerNet(nn.Sequential):
    """Float NCHW in [0, 255] -> float NCHW, as in fast-neural-style."""

    def __init__(self):
        super().__init__(
            *_conv_norm_relu(3, 32, 9, 1),
            *_conv_norm_relu(32, 64, 3, 2),
            *_conv_norm_relu(64, 128, 3, 2),
            *(ResidualBlock(128) for _ in range(5)),
            *_conv_norm_relu(128, 64, 3, 1, upsample=2),
            *_conv_norm_relu(64, 32, 3, 1, upsample=2),
            ConvLayer(32, 3, 9, 1),
        )
