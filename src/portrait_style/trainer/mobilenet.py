"""MobileNetV2 (Sandler et al. 2018) laid out exactly like torchvision's, without torchvision.

Module names and shapes match torchvision's `mobilenet_v2()`, so its ImageNet state dict
(`mobilenet_v2-b0353104.pth`) loads with strict=True. Only used as a frozen feature extractor for the
optional perceptual (content) and Gram (style) losses; nothing requires the weights file.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import nn

from portrait_style.errors import InputError, ModelError

# t (expansion), c (output channels), n (repeats), s (first stride): the paper's Table 2
SETTINGS = [
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
]
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def conv_bn_relu(cin: int, cout: int, kernel: int = 3, stride: int = 1, groups: int = 1) -> nn.Sequential:
    """torchvision's Conv2dNormActivation: keys .0 (conv) and .1 (batch norm)."""
    return nn.Sequential(
        nn.Conv2d(cin, cout, kernel, stride, (kernel - 1) // 2, groups=groups, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU6(inplace=True),
    )


class InvertedResidual(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int, expansion: int):
        super().__init__()
        hidden = cin * expansion
        self.use_res_connect = stride == 1 and cin == cout
        layers = [conv_bn_relu(cin, hidden, 1)] if expansion != 1 else []
        layers += [
            conv_bn_relu(hidden, hidden, 3, stride, groups=hidden),
            nn.Conv2d(hidden, cout, 1, bias=False),
            nn.BatchNorm2d(cout),
        ]
        self.conv = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv(x) if self.use_res_connect else self.conv(x)


class MobileNetV2(nn.Module):
    def __init__(self, num_classes: int = 1000):
        super().__init__()
        layers: list[nn.Module] = [conv_bn_relu(3, 32, stride=2)]
        cin = 32
        for t, c, n, s in SETTINGS:
            for i in range(n):
                layers.append(InvertedResidual(cin, c, s if i == 0 else 1, t))
                cin = c
        layers.append(conv_bn_relu(cin, 1280, 1))
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(1280, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = nn.functional.adaptive_avg_pool2d(self.features(x), 1).flatten(1)
        return self.classifier(x)


def load_mobilenet_v2(path: str | os.PathLike) -> MobileNetV2:
    """ImageNet MobileNetV2 from torchvision's state dict file, loaded strictly, in eval mode."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"perceptual weights not found: {path}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unpickling failure means "not a weights file"
        raise ModelError(f"cannot read perceptual weights {path}: {exc}") from None
    model = MobileNetV2()
    try:
        model.load_state_dict(state, strict=True)
    except (RuntimeError, TypeError, AttributeError) as exc:
        raise ModelError(f"{path} is not torchvision's MobileNetV2 state dict: {str(exc)[:300]}") from None
    return model.eval()


class MobileNetFeatures(nn.Module):
    """Frozen MobileNetV2 feature maps at 1/2, 1/4, 1/8 and 1/16 resolution for images in [-1, 1]."""

    TAPS = (1, 3, 6, 13)  # indices into `features`: ends of the 16-, 24-, 32- and 96-channel stages

    def __init__(self, net: MobileNetV2):
        super().__init__()
        self.features = net.features[: max(self.TAPS) + 1]
        self.requires_grad_(False)
        self.eval()
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    def train(self, mode: bool = True) -> MobileNetFeatures:
        return super().train(False)  # batch-norm statistics stay ImageNet's

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = ((x + 1.0) * 0.5 - self.mean) / self.std
        out = []
        for i, layer in enumerate(self.features):
            x = layer(x)
            if i in self.TAPS:
                out.append(x)
        return out
