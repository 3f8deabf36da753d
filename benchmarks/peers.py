"""The peers' generators, rebuilt from their published source, for speed comparisons in the same run.

Weights are random (nothing is downloaded): only speed is compared, and a convolution costs the same
whatever its weights. Both are run as their projects ship them: eager PyTorch, float32, NCHW float input.

- `TransformerNet`: fast-neural-style (Johnson et al. 2016) as in pytorch/examples,
  fast_neural_style/neural_style/transformer_net.py: reflection-padded 9x9 / 3x3 convolutions with
  affine instance norm, two stride-2 stages to 128 channels at 1/4 resolution, five residual blocks,
  nearest x2 upsampling + 3x3 convolution twice, a 9x9 convolution out. Input float in [0, 255].
- `ResnetGenerator`: CycleGAN's generator (Zhu et al. 2017) as in junyanz/pytorch-CycleGAN-and-pix2pix,
  models/networks.py, with its CycleGAN defaults (`--netG resnet_9blocks --ngf 64 --norm instance
  --no_dropout`): 7x7 reflection-padded stem with 64 channels, two stride-2 convolutions to 256
  channels, nine reflection-padded residual blocks, two transposed convolutions back, a 7x7
  convolution and tanh. Instance norm without affine parameters or running statistics (so the
  convolutions before it carry biases). Input float in [-1, 1].
"""

from __future__ import annotations

import torch
from torch import nn


# -- fast-neural-style ----------------------------------------------------------------------------------
class ConvLayer(nn.Module):
    def __init__(self, cin: int, cout: int, kernel_size: int, stride: int):
        super().__init__()
        self.reflection_pad = nn.ReflectionPad2d(kernel_size // 2)
        self.conv2d = nn.Conv2d(cin, cout, kernel_size, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv2d(self.reflection_pad(x))


class UpsampleConvLayer(nn.Module):
    """Nearest upsampling, then a reflection-padded convolution (instead of a transposed convolution)."""

    def __init__(self, cin: int, cout: int, kernel_size: int, stride: int, upsample: int | None = None):
        super().__init__()
        self.upsample_layer = nn.Upsample(scale_factor=upsample, mode="nearest") if upsample else None
        self.reflection_pad = nn.ReflectionPad2d(kernel_size // 2)
        self.conv2d = nn.Conv2d(cin, cout, kernel_size, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.upsample_layer is not None:
            x = self.upsample_layer(x)
        return self.conv2d(self.reflection_pad(x))


class ResidualBlock(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.conv1 = ConvLayer(channels, channels, 3, 1)
        self.in1 = nn.InstanceNorm2d(channels, affine=True)
        self.conv2 = ConvLayer(channels, channels, 3, 1)
        self.in2 = nn.InstanceNorm2d(channels, affine=True)
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.in2(self.conv2(self.relu(self.in1(self.conv1(x)))))


class TransformerNet(nn.Module):
    """Float NCHW in [0, 255] -> float NCHW (unclamped), as in fast-neural-style."""

    def __init__(self):
        super().__init__()
        self.conv1 = ConvLayer(3, 32, 9, 1)
        self.in1 = nn.InstanceNorm2d(32, affine=True)
        self.conv2 = ConvLayer(32, 64, 3, 2)
        self.in2 = nn.InstanceNorm2d(64, affine=True)
        self.conv3 = ConvLayer(64, 128, 3, 2)
        self.in3 = nn.InstanceNorm2d(128, affine=True)
        self.res = nn.Sequential(*(ResidualBlock(128) for _ in range(5)))
        self.deconv1 = UpsampleConvLayer(128, 64, 3, 1, upsample=2)
        self.in4 = nn.InstanceNorm2d(64, affine=True)
        self.deconv2 = UpsampleConvLayer(64, 32, 3, 1, upsample=2)
        self.in5 = nn.InstanceNorm2d(32, affine=True)
        self.deconv3 = ConvLayer(32, 3, 9, 1)
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.relu(self.in1(self.conv1(x)))
        y = self.relu(self.in2(self.conv2(y)))
        y = self.relu(self.in3(self.conv3(y)))
        y = self.res(y)
        y = self.relu(self.in4(self.deconv1(y)))
        y = self.relu(self.in5(self.deconv2(y)))
        return self.deconv3(y)


# -- CycleGAN -------------------------------------------------------------------------------------------
def _norm(channels: int) -> nn.Module:
    # networks.get_norm_layer("instance")
    return nn.InstanceNorm2d(channels, affine=False, track_running_stats=False)


class ResnetBlock(nn.Module):
    def __init__(self, dim: int):
        super().__init__()
        self.conv_block = nn.Sequential(
            nn.ReflectionPad2d(1),
            nn.Conv2d(dim, dim, 3, padding=0, bias=True),
            _norm(dim),
            nn.ReLU(True),
            nn.ReflectionPad2d(1),
            nn.Conv2d(dim, dim, 3, padding=0, bias=True),
            _norm(dim),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv_block(x)


class ResnetGenerator(nn.Module):
    """Float NCHW in [-1, 1] -> float NCHW in [-1, 1]; H and W multiples of 4."""

    def __init__(self, input_nc: int = 3, output_nc: int = 3, ngf: int = 64, n_blocks: int = 9):
        super().__init__()
        model: list[nn.Module] = [
            nn.ReflectionPad2d(3),
            nn.Conv2d(input_nc, ngf, 7, padding=0, bias=True),
            _norm(ngf),
            nn.ReLU(True),
        ]
        n_downsampling = 2
        for i in range(n_downsampling):
            mult = 2**i
            model += [
                nn.Conv2d(ngf * mult, ngf * mult * 2, 3, stride=2, padding=1, bias=True),
                _norm(ngf * mult * 2),
                nn.ReLU(True),
            ]
        mult = 2**n_downsampling
        model += [ResnetBlock(ngf * mult) for _ in range(n_blocks)]
        for i in range(n_downsampling):
            mult = 2 ** (n_downsampling - i)
            model += [
                nn.ConvTranspose2d(
                    ngf * mult, ngf * mult // 2, 3, stride=2, padding=1, output_padding=1, bias=True
                ),
                _norm(ngf * mult // 2),
                nn.ReLU(True),
            ]
        model += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, output_nc, 7, padding=0), nn.Tanh()]
        self.model = nn.Sequential(*model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


# name -> (constructor, input range): what the benchmarks feed each peer
PEERS = {
    "fast-neural-style TransformerNet": (TransformerNet, (0.0, 255.0)),
    "CycleGAN ResNet-9 (ngf 64)": (ResnetGenerator, (-1.0, 1.0)),
}


def peer_input(name: str, batch: int, height: int, width: int, **to) -> torch.Tensor:
    """A random float NCHW batch in the peer's input range (never zeros: they can time faster)."""
    lo, hi = PEERS[name][1]
    return torch.rand(batch, 3, height, width, **to) * (hi - lo) + lo
