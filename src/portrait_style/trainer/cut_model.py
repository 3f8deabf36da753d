"""Contrastive Unpaired Translation (Park et al. 2020): one training step, laid out like the paper.

G maps content to style; a PatchGAN D judges style-ness; PatchNCE keeps each output patch tied to the
input patch at the same place, which preserves identity and pose without any cycle. With nce_idt
(CUT), the same NCE loss on style images keeps G from changing what is already in style (FastCUT
turns it off). DiffAugment goes in front of D for small style sets; an EMA of G is what is saved.
"""

from __future__ import annotations

import contextlib

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from portrait_style.engine.model import Generator
from portrait_style.trainer.config import TrainConfig
from portrait_style.trainer.diffaugment import diff_augment
from portrait_style.trainer.ema import EMA
from portrait_style.trainer.losses import FeatureLosses, GANLoss, PatchNCELoss
from portrait_style.trainer.mobilenet import MobileNetFeatures, load_mobilenet_v2
from portrait_style.trainer.networks import PatchDiscriminator, PatchSampleMLP, encoder_channels


class _Methods(nn.Module):
    """Routes `Generator.generate` / `.encode` through forward() so DistributedDataParallel syncs them."""

    def __init__(self, module: nn.Module):
        super().__init__()
        self.module = module

    def forward(self, method: str, *args):
        return getattr(self.module, method)(*args)


def load_initial_weights(netG: nn.Module, path: str) -> None:
    """Copy a style checkpoint's generator weights into `netG`; the architectures must match."""
    from portrait_style.engine.checkpoint import load_style
    from portrait_style.errors import InputError

    source, meta = load_style(path)
    if meta.arch_args != netG.arch_args:
        raise InputError(
            f"init_weights {path} has generator {meta.arch_args}, this run uses {netG.arch_args}"
        )
    netG.load_state_dict(source.state_dict())


class CUTModel:
    def __init__(self, cfg: TrainConfig, device: torch.device, distributed: bool = False):
        self.cfg, self.device = cfg, device
        self.nce_layers = list(cfg.nce_layers)
        self.netG = Generator(tuple(cfg.gen_channels), cfg.gen_blocks, cfg.gen_expansion).to(device)
        if cfg.init_weights:
            load_initial_weights(self.netG, cfg.init_weights)
        self.netD = PatchDiscriminator(cfg.d_channels, cfg.d_layers, cfg.spectral_norm).to(device)
        self.netF = PatchSampleMLP(encoder_channels(self.netG, cfg.nce_layers), cfg.nce_dim).to(device)
        self.criterionGAN = GANLoss(cfg.gan_loss)
        self.criterionNCE = PatchNCELoss(cfg.nce_temperature)
        self.feature_losses = None  # content and style losses on MobileNetV2, when its weights are given
        if cfg.perceptual_weights and (cfg.lambda_perceptual > 0 or cfg.lambda_style > 0):
            features = MobileNetFeatures(load_mobilenet_v2(cfg.perceptual_weights))
            self.feature_losses = FeatureLosses(features).to(device)

        adam = {"lr": cfg.lr, "betas": (cfg.beta1, cfg.beta2)}
        self.optimizer_G = torch.optim.Adam(self.netG.parameters(), **adam)
        self.optimizer_D = torch.optim.Adam(self.netD.parameters(), **adam)
        self.optimizer_F = torch.optim.Adam(self.netF.parameters(), **adam)
        self.optimizers = {"G": self.optimizer_G, "D": self.optimizer_D, "F": self.optimizer_F}

        # mixed precision on CUDA: bf16 where the GPU has it (no loss scaling needed), else fp16 + scaler
        amp = cfg.amp
        if amp == "auto":
            amp = "off" if device.type != "cuda" else ("bf16" if torch.cuda.is_bf16_supported() else "fp16")
        self.amp_dtype = (
            {"bf16": torch.bfloat16, "fp16": torch.float16}.get(amp) if device.type == "cuda" else None
        )
        fp16 = self.amp_dtype is torch.float16
        self.scaler_D = torch.amp.GradScaler(device.type, enabled=fp16)
        self.scaler_G = torch.amp.GradScaler(device.type, enabled=fp16)

        # the modules as the training step calls them: DDP wrappers in a multi-process run
        def wrap(module: nn.Module) -> nn.Module:
            if not distributed:
                return module
            return DistributedDataParallel(
                module, device_ids=[device.index] if device.type == "cuda" else None
            )

        self.G, self.D, self.F = wrap(_Methods(self.netG)), wrap(self.netD), wrap(self.netF)
        self.ema = EMA(self.netG, cfg.ema_decay)  # after wrapping: DDP has given every rank rank 0's weights

    # -- the step ---------------------------------------------------------------------------------------
    def set_input(self, real_A: torch.Tensor, real_B: torch.Tensor) -> None:
        self.real_A = real_A.to(self.device, non_blocking=True)
        self.real_B = real_B.to(self.device, non_blocking=True)

    def forward(self) -> None:
        use_idt = self.cfg.nce_idt or self.cfg.lambda_idt_l1 > 0
        real = torch.cat([self.real_A, self.real_B]) if use_idt else self.real_A
        fake = self.G("generate", real)
        self.fake_B = fake[: self.real_A.size(0)]
        self.idt_B = fake[self.real_A.size(0) :] if use_idt else None

    def optimize_parameters(self, step: int) -> dict[str, torch.Tensor]:
        with self.autocast():
            self.forward()

        # update D
        self.netD.requires_grad_(True)
        self.optimizer_D.zero_grad(set_to_none=True)
        with self.autocast():
            self.loss_D = self.compute_D_loss()
        self.backward_and_step(self.loss_D, self.scaler_D, [self.optimizer_D])

        # update G and the NCE heads
        self.netD.requires_grad_(False)
        self.optimizer_G.zero_grad(set_to_none=True)
        self.optimizer_F.zero_grad(set_to_none=True)
        with self.autocast():
            self.loss_G = self.compute_G_loss()
        self.backward_and_step(self.loss_G, self.scaler_G, [self.optimizer_G, self.optimizer_F])

        self.ema.update(self.netG, step)
        return self.current_losses()

    def compute_D_loss(self) -> torch.Tensor:
        """Fakes (detached: D's step must not move G) scored fake, style images scored real."""
        fake = self.augment(self.fake_B.detach())
        real = self.augment(self.real_B)
        pred_fake, pred_real = self.D(torch.cat([fake, real])).chunk(2)
        self.loss_D_fake = self.criterionGAN(pred_fake, False)
        self.loss_D_real = self.criterionGAN(pred_real, True)
        return (self.loss_D_fake + self.loss_D_real) * 0.5

    def compute_G_loss(self) -> torch.Tensor:
        cfg = self.cfg
        zero = self.real_A.new_zeros((), dtype=torch.float32)
        self.loss_G_GAN = zero
        if cfg.lambda_gan > 0:  # D is frozen here, so the unwrapped module is called (no DDP sync needed)
            pred_fake = self.netD(self.augment(self.fake_B))
            self.loss_G_GAN = self.criterionGAN(pred_fake, True, for_discriminator=False) * cfg.lambda_gan
        self.loss_NCE = self.loss_NCE_Y = zero
        if cfg.lambda_nce > 0:
            self.loss_NCE = self.calculate_NCE_loss(self.real_A, self.fake_B)
            if cfg.nce_idt:
                self.loss_NCE_Y = self.calculate_NCE_loss(self.real_B, self.idt_B)
        loss_NCE_both = (self.loss_NCE + self.loss_NCE_Y) * 0.5 if cfg.nce_idt else self.loss_NCE
        self.loss_idt = zero
        if cfg.lambda_idt_l1 > 0:
            self.loss_idt = nn.functional.l1_loss(self.idt_B.float(), self.real_B) * cfg.lambda_idt_l1
        self.loss_perceptual = self.loss_style = zero
        if self.feature_losses is not None:
            self.loss_perceptual, self.loss_style = self.compute_feature_losses()
        return self.loss_G_GAN + loss_NCE_both + self.loss_idt + self.loss_perceptual + self.loss_style

    def compute_feature_losses(self) -> tuple[torch.Tensor, torch.Tensor]:
        """MobileNetV2 content loss (output vs input) and Gram style loss (output vs style images)."""
        cfg, losses = self.cfg, self.feature_losses
        feats_fake = losses(self.fake_B)
        content = style = feats_fake[0].new_zeros(())
        with torch.no_grad():
            feats_A = losses(self.real_A) if cfg.lambda_perceptual > 0 else None
            feats_B = losses(self.real_B) if cfg.lambda_style > 0 else None
        if feats_A is not None:
            content = losses.content(feats_A, feats_fake) * cfg.lambda_perceptual
        if feats_B is not None:
            style = losses.style(feats_B, feats_fake) * cfg.lambda_style
        return content, style

    def calculate_NCE_loss(self, src: torch.Tensor, tgt: torch.Tensor) -> torch.Tensor:
        """PatchNCE between G's encoder features of the input (keys) and of the output (queries)."""
        feats_q = self.G("encode", tgt)
        feat_q = [feats_q[i] for i in self.nce_layers]
        with torch.no_grad():  # keys get no gradient in CUT: skip building their graph
            feats_k = self.G("encode", src)
            feat_k = [feats_k[i] for i in self.nce_layers]
            feat_k_pool, sample_ids = self.F(feat_k, self.cfg.nce_patches, None)
        feat_q_pool, _ = self.F(feat_q, self.cfg.nce_patches, sample_ids)
        total = 0.0
        for f_q, f_k in zip(feat_q_pool, feat_k_pool, strict=True):
            total = total + self.criterionNCE(f_q, f_k, src.size(0)).mean() * self.cfg.lambda_nce
        return total / len(self.nce_layers)

    # -- helpers ----------------------------------------------------------------------------------------
    def augment(self, x: torch.Tensor) -> torch.Tensor:
        return diff_augment(x, self.cfg.diffaugment) if self.cfg.diffaugment else x

    def autocast(self):
        if self.amp_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.amp_dtype)

    @staticmethod
    def backward_and_step(loss: torch.Tensor, scaler: torch.amp.GradScaler, optimizers: list) -> None:
        scaler.scale(loss).backward()
        for opt in optimizers:
            scaler.step(opt)
        scaler.update()

    def set_lr(self, lr: float) -> None:
        for opt in self.optimizers.values():
            for group in opt.param_groups:
                group["lr"] = lr

    def current_losses(self) -> dict[str, torch.Tensor]:
        names = ["D", "D_real", "D_fake", "G", "G_GAN", "NCE", "NCE_Y", "idt", "perceptual", "style"]
        return {n: getattr(self, f"loss_{n}").detach().float() for n in names}

    # -- checkpoints ------------------------------------------------------------------------------------
    def state_dict(self) -> dict:
        state = {"G": self.netG.state_dict(), "D": self.netD.state_dict(), "F": self.netF.state_dict()}
        state["G_ema"] = self.ema.model.state_dict()
        state["optimizers"] = {k: opt.state_dict() for k, opt in self.optimizers.items()}
        state["scalers"] = {"D": self.scaler_D.state_dict(), "G": self.scaler_G.state_dict()}
        return state

    def load_state_dict(self, state: dict) -> None:
        self.netG.load_state_dict(state["G"])
        self.netD.load_state_dict(state["D"])
        self.netF.load_state_dict(state["F"])
        self.ema.model.load_state_dict(state["G_ema"])
        for k, opt in self.optimizers.items():
            opt.load_state_dict(state["optimizers"][k])
        self.scaler_D.load_state_dict(state["scalers"]["D"])
        self.scaler_G.load_state_dict(state["scalers"]["G"])
