"""The real-time generator: what the trainer trains is exactly what the engine runs.

A small encoder-decoder in the fast-neural-style mould, made cheap for CPUs: two strided convolutions
take the image to 1/4 resolution, inverted-residual blocks (1x1 expand, 3x3 depthwise, 1x1 project)
do the work there, and depthwise-separable upsampling with skip connections brings it back.
1.16 GMACs at 256x256 with the defaults (16-20 ms median through ONNX Runtime on the project's 2-core
CPU; benchmarks/RESULTS.md).

There is no normalisation layer on purpose: instance norm makes a crop's look depend on what else is in
the crop, which shows up as flicker in video. Residual branches start small (a learned per-channel
scale, initialised at 0.1) so training is stable without it.

`forward` is the deployed graph: uint8 RGB NHWC in, uint8 RGB NHWC out, normalisation inside, so every
backend (PyTorch and ONNX Runtime today; TensorRT is planned) sees the same contract. The trainer
uses `generate`, which works on float NCHW images in [-1, 1].
"""

from __future__ import annotations

import importlib

import torch
from torch import nn

# SIZE_MULTIPLE: the generator has two stride-2 stages
from portrait_style.engine.style_meta import ARCHITECTURES, GENERATOR_ARCH, SIZE_MULTIPLE  # noqa: F401

ARCH_NAME = GENERATOR_ARCH


def _conv(cin: int, cout: int, k: int = 3, stride: int = 1, groups: int = 1, reflect: bool = False):
    return nn.Conv2d(
        cin, cout, k, stride, padding=k // 2, groups=groups, padding_mode="reflect" if reflect else "zeros"
    )


class InvertedResidual(nn.Module):
    def __init__(self, channels: int, expansion: int):
        super().__init__()
        hidden = channels * expansion
        self.expand = _conv(channels, hidden, 1)
        self.depthwise = _conv(hidden, hidden, 3, groups=hidden)
        self.project = _conv(hidden, channels, 1)
        self.act = nn.ReLU(inplace=True)
        self.scale = nn.Parameter(torch.full((1, channels, 1, 1), 0.1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.scale * self.project(self.act(self.depthwise(self.act(self.expand(x)))))


class UpBlock(nn.Module):
    """Nearest x2, then a depthwise-separable 3x3; the encoder's feature map of that size is added."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.depthwise = _conv(cin, cin, 3, groups=cin)
        self.pointwise = _conv(cin, cout, 1)
        self.act = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        return self.act(self.pointwise(self.depthwise(self.up(x)))) + skip


class Generator(nn.Module):
    def __init__(self, channels: tuple[int, int, int] = (16, 32, 64), n_blocks: int = 6, expansion: int = 4):
        super().__init__()
        c0, c1, c2 = channels
        self.arch_args = {"channels": list(channels), "n_blocks": n_blocks, "expansion": expansion}
        self.stem = _conv(3, c0, 3, reflect=True)
        self.down1 = _conv(c0, c1, 3, stride=2)
        self.down2 = _conv(c1, c2, 3, stride=2)
        self.blocks = nn.ModuleList(InvertedResidual(c2, expansion) for _ in range(n_blocks))
        self.up1 = UpBlock(c2, c1)
        self.up2 = UpBlock(c1, c0)
        self.head = _conv(c0, 3, 3, reflect=True)
        self.act = nn.ReLU(inplace=True)

    # -- training graph -------------------------------------------------------------------------------
    def encode(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Encoder feature maps, shallow to deep: [input, stem, down1, down2, each body block...].

        The trainer's PatchNCE loss samples patches from these (as CUT does with its generator's encoder).
        """
        feats = [x]
        h = self.act(self.stem(x))
        feats.append(h)
        h = self.act(self.down1(h))
        feats.append(h)
        h = self.act(self.down2(h))
        feats.append(h)
        for block in self.blocks:
            h = block(h)
            feats.append(h)
        return feats

    def generate(self, x: torch.Tensor) -> torch.Tensor:
        """Float NCHW in [-1, 1] -> float NCHW in [-1, 1]."""
        s0 = self.act(self.stem(x))
        s1 = self.act(self.down1(s0))
        h = self.act(self.down2(s1))
        for block in self.blocks:
            h = block(h)
        h = self.up2(self.up1(h, s1), s0)
        return torch.tanh(self.head(h))

    # -- deployed graph -------------------------------------------------------------------------------
    def forward(self, image: torch.Tensor) -> torch.Tensor:
        """uint8 RGB [N, H, W, 3] -> uint8 RGB [N, H, W, 3]; H and W multiples of SIZE_MULTIPLE."""
        x = image.permute(0, 3, 1, 2).to(self.head.weight.dtype) * (2.0 / 255.0) - 1.0
        y = self.generate(x)
        y = ((y + 1.0) * 127.5).round().clamp(0.0, 255.0)
        return y.to(torch.uint8).permute(0, 2, 3, 1)


def build(arch: str, arch_args: dict) -> nn.Module:
    """Construct an architecture by name from the arguments a checkpoint stored next to its weights."""
    args = dict(arch_args)
    if "channels" in args:
        args["channels"] = tuple(args["channels"])
    module, name = ARCHITECTURES[arch].split(":")
    return getattr(importlib.import_module(module), name)(**args)


def count_macs(model: nn.Module, example: torch.Tensor | None = None) -> int:
    """Multiply-accumulates of one forward pass on `example` (default: one 256x256 uint8 NHWC image),
    counted from the conv layers' output shapes."""
    total = 0

    def hook(module: nn.Conv2d, _inp, out):
        nonlocal total
        k = module.kernel_size[0] * module.kernel_size[1]
        total += out.numel() * k * module.in_channels // module.groups

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, nn.Conv2d)]
    with torch.no_grad():
        model(torch.zeros(1, 256, 256, 3, dtype=torch.uint8) if example is None else example)
    for h in handles:
        h.remove()
    return total
