"""Run under torchrun by test_processes.py: does DDP keep every rank's networks identical?

Each rank starts from different weights and trains on different data; DDP must broadcast rank 0's
weights at construction and average gradients every step, so all ranks end with the same weights.
Rank 0 prints one line per network: its parameter sums on every rank.
"""

import torch
import torch.distributed as dist

from portrait_style.trainer import distributed
from portrait_style.trainer.config import TrainConfig, resolve, with_family_defaults
from portrait_style.trainer.cut_model import CUTModel

info = distributed.setup("cpu")
cfg = with_family_defaults(
    TrainConfig(
        content_dir="a",
        style_dir="b",
        family="generator",
        size=32,
        batch_size=2,
        nce_patches=16,
        d_channels=16,
    )
)
cfg = resolve(cfg, n_style_images=4)
torch.manual_seed(100 + info.rank)
model = CUTModel(cfg, info.device, distributed=True)
for step in range(3):
    torch.manual_seed(1000 * info.rank + step)
    model.set_input(torch.rand(2, 3, 32, 32) * 2 - 1, torch.rand(2, 3, 32, 32) * 2 - 1)
    model.optimize_parameters(step)
for name in ("netG", "netD", "netF", "ema"):
    module = model.ema.model if name == "ema" else getattr(model, name)
    total = torch.tensor([sum(p.double().sum().item() for p in module.parameters())], dtype=torch.float64)
    gathered = [torch.zeros(1, dtype=torch.float64) for _ in range(info.world_size)]
    dist.all_gather(gathered, total)
    if info.is_main:
        print(name, *(f"{g.item():.12e}" for g in gathered))
del model  # DDP wrappers must go before the process group (see distributed.teardown)
distributed.teardown()
