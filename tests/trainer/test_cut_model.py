import io
import math
from dataclasses import replace

import pytest
import torch

from portrait_style.trainer.config import TrainConfig, resolve, with_family_defaults
from portrait_style.trainer.cut_model import CUTModel

CPU = torch.device("cpu")


def _cfg(**changes) -> TrainConfig:
    base = with_family_defaults(
        TrainConfig(
            content_dir="a",
            style_dir="b",
            family="generator",
            size=32,
            batch_size=2,
            nce_patches=32,
            d_channels=16,
        )
    )
    return resolve(replace(base, **changes), n_style_images=4)


def _batch(seed: int):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(2, 3, 32, 32, generator=g) * 2 - 1, torch.rand(2, 3, 32, 32, generator=g) * 2 - 1


def _snapshot(module):
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def test_a_step_updates_G_D_F_and_the_average():
    torch.manual_seed(0)
    model = CUTModel(_cfg(), CPU)
    before = {n: _snapshot(m) for n, m in [("G", model.netG), ("D", model.netD), ("F", model.netF)]}
    ema_before = _snapshot(model.ema.model)
    for step in range(2):
        model.set_input(*_batch(step))
        losses = model.optimize_parameters(step)
    assert all(math.isfinite(v.item()) for v in losses.values())
    assert losses["G_GAN"] > 0 and losses["NCE"] > 0 and losses["NCE_Y"] > 0 and losses["D"] > 0
    for name, module in [("G", model.netG), ("D", model.netD), ("F", model.netF)]:
        after = module.state_dict()
        assert any(not torch.equal(before[name][k], after[k]) for k in after), f"{name} did not change"
    # the average moved towards G, but is not G
    g, ema = model.netG.state_dict(), model.ema.model.state_dict()
    key = "blocks.0.expand.weight"
    assert not torch.equal(ema[key], ema_before[key]) and not torch.equal(ema[key], g[key])


def test_fastcut_has_no_identity_term_and_l1_identity_is_optional():
    torch.manual_seed(0)
    model = CUTModel(_cfg(method="fastcut", lambda_idt_l1=1.0, gan_loss="hinge"), CPU)
    model.set_input(*_batch(0))
    losses = model.optimize_parameters(0)
    assert losses["NCE_Y"].item() == 0.0 and losses["idt"].item() > 0
    assert losses["NCE"].item() > 0  # weighted x10 in FastCUT


def test_state_dict_round_trip():
    torch.manual_seed(0)
    model = CUTModel(_cfg(), CPU)
    model.set_input(*_batch(0))
    model.optimize_parameters(0)
    buffer = io.BytesIO()  # through bytes, as a checkpoint goes: and only plain data may be in it
    torch.save(model.state_dict(), buffer)
    buffer.seek(0)
    state = torch.load(buffer, weights_only=True)
    torch.manual_seed(1)
    fresh = CUTModel(_cfg(), CPU)
    fresh.load_state_dict(state)
    for a, b in [(model.netG, fresh.netG), (model.netD, fresh.netD), (model.ema.model, fresh.ema.model)]:
        for k, v in a.state_dict().items():
            assert torch.equal(v, b.state_dict()[k]), k
    assert fresh.optimizer_G.state_dict()["state"][0]["step"] == 1
    # and both take the same next step
    for m in (model, fresh):
        torch.manual_seed(7)
        m.set_input(*_batch(1))
        m.optimize_parameters(1)
    assert torch.equal(model.netG.head.weight, fresh.netG.head.weight)


def test_lr_is_set_on_every_optimizer():
    model = CUTModel(_cfg(), CPU)
    model.set_lr(1e-5)
    assert {g["lr"] for opt in model.optimizers.values() for g in opt.param_groups} == {1e-5}


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_mixed_precision_step_on_cuda():
    model = CUTModel(_cfg(), torch.device("cuda"))
    assert model.amp_dtype in (torch.bfloat16, torch.float16)
    model.set_input(*_batch(0))
    losses = model.optimize_parameters(0)
    assert all(math.isfinite(v.item()) for v in losses.values())


def test_generator_starts_from_init_weights(tmp_path):
    from portrait_style.engine.checkpoint import StyleMeta, save_style
    from portrait_style.engine.model import Generator
    from portrait_style.errors import InputError

    cfg = _cfg()
    torch.manual_seed(7)
    source = Generator(tuple(cfg.gen_channels), cfg.gen_blocks, cfg.gen_expansion)
    path = save_style(tmp_path / "init.safetensors", source, StyleMeta(name="init"))
    model = CUTModel(replace(cfg, init_weights=str(path)), torch.device("cpu"))
    for (name, a), b in zip(source.state_dict().items(), model.netG.state_dict().values(), strict=True):
        assert torch.equal(a, b), name
    for a, b in zip(source.state_dict().values(), model.ema.model.state_dict().values(), strict=True):
        assert torch.equal(a, b)  # the average starts from the same weights
    other = save_style(tmp_path / "other.safetensors", Generator(n_blocks=1), StyleMeta(name="other"))
    with pytest.raises(InputError, match="init_weights"):
        CUTModel(replace(cfg, init_weights=str(other)), torch.device("cpu"))
