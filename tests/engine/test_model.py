import numpy as np
import pytest
import torch

from portrait_style.engine.model import ARCH_NAME, Generator, build, count_macs


def test_uint8_in_uint8_out_same_shape():
    model = Generator().eval()
    x = torch.randint(0, 256, (2, 36, 44, 3), dtype=torch.uint8)
    with torch.no_grad():
        y = model(x)
    assert y.dtype == torch.uint8 and y.shape == x.shape


def test_forward_is_generate_with_normalisation_inside():
    torch.manual_seed(0)
    model = Generator().eval()
    x = torch.randint(0, 256, (1, 32, 32, 3), dtype=torch.uint8)
    with torch.no_grad():
        via_generate = model.generate(x.permute(0, 3, 1, 2).float() / 127.5 - 1)
        expected = ((via_generate + 1) * 127.5).round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1)
        assert torch.equal(model(x), expected)


def test_encode_features_shallow_to_deep():
    model = Generator(n_blocks=3)
    feats = model.encode(torch.zeros(1, 3, 64, 64))
    assert len(feats) == 4 + 3
    assert feats[0].shape[1] == 3 and feats[2].shape[-1] == 32 and feats[3].shape[-1] == 16


def test_build_from_stored_arguments_matches():
    model = Generator(channels=(8, 16, 32), n_blocks=2, expansion=2)
    rebuilt = build(ARCH_NAME, model.arch_args)
    assert rebuilt.arch_args == model.arch_args
    assert [p.shape for p in rebuilt.parameters()] == [p.shape for p in model.parameters()]


def test_default_size_is_real_time_budget():
    # The budget for 20 ms at 256² on a 2-core CPU is roughly <= 2 GMACs.
    assert count_macs(Generator()) < 2e9


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_cast_follows_weights_dtype(dtype):
    model = Generator(n_blocks=1).to(dtype).eval()
    with torch.no_grad():
        y = model(torch.full((1, 8, 8, 3), 128, dtype=torch.uint8))
    assert y.dtype == torch.uint8 and np.isfinite(y.numpy()).all()
