import torch

from portrait_style.engine.model import Generator
from portrait_style.trainer.networks import PatchDiscriminator, PatchSampleMLP, encoder_channels


def test_patch_discriminator_scores_patches():
    d = PatchDiscriminator(channels=16, n_layers=3, spectral_norm=True)
    out = d(torch.zeros(2, 3, 64, 64))
    assert out.shape == (2, 1, 6, 6)  # 64 -> 32 -> 16 -> 8 -> 7 -> 6
    assert any("parametrizations" in name for name, _ in d.named_parameters())
    plain = PatchDiscriminator(channels=16, n_layers=2, spectral_norm=False)
    assert any(isinstance(m, torch.nn.InstanceNorm2d) for m in plain.modules())
    assert plain(torch.zeros(1, 3, 64, 64)).shape == (1, 1, 14, 14)


def test_spectral_norm_bounds_the_layer_gain():
    torch.manual_seed(0)
    d = PatchDiscriminator(channels=8, n_layers=1, spectral_norm=True)
    with torch.no_grad():
        for m in d.modules():
            if isinstance(m, torch.nn.Conv2d):
                m.parametrizations.weight.original.mul_(100.0)
    for _ in range(20):  # power iterations converge in training mode
        d(torch.randn(1, 3, 32, 32))
    d.eval()
    first = d.model[0]
    sigma = torch.linalg.matrix_norm(first.weight.reshape(first.weight.shape[0], -1), ord=2)
    assert 0.9 < sigma.item() < 1.1


def test_patch_sample_mlp_samples_the_same_places_for_query_and_key():
    g = Generator()
    layers = (0, 1, 2, 3, 6)
    channels = encoder_channels(g, layers)
    assert channels == [3, 16, 32, 64, 64]
    f = PatchSampleMLP(channels, dim=32)
    x = torch.rand(2, 3, 32, 32) * 2 - 1
    feats = [g.encode(x)[i] for i in layers]
    pooled, ids = f(feats, num_patches=16)
    assert [p.shape for p in pooled] == [(32, 32)] * 5  # 2 images x 16 patches, 32-d
    assert torch.allclose(pooled[2].norm(dim=1), torch.ones(32), atol=1e-5)
    again, ids2 = f(feats, num_patches=16, patch_ids=ids)
    assert all(torch.equal(a, b) for a, b in zip(ids, ids2, strict=True))
    assert all(torch.allclose(a, b) for a, b in zip(pooled, again, strict=True))
    # layer 3 is at 1/4 resolution: 8 x 8 = 64 places; asking for more takes them all
    pooled, ids = f(feats, num_patches=1000)
    assert ids[3].numel() == 64 and pooled[3].shape == (128, 32)
