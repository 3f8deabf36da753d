import numpy as np
import pytest
from skimage import data
from skimage.color import rgb2lab

from portrait_style.evaluate.baselines import BASELINES, fit_histogram, fit_identity, fit_reinhard, lab_stats


@pytest.fixture(scope="module")
def style_set():
    # A cool, darker "style": two different images with the same grade, so pooling matters. Mild enough
    # that the transferred colours stay mostly inside the sRGB gamut (Reinhard clips what does not).
    def grade(im):
        return np.clip(im[::4, ::4] * np.array([0.9, 1.0, 1.1]) - 10, 0, 255).astype(np.uint8)

    return [grade(data.rocket()), grade(data.chelsea())]


@pytest.fixture(scope="module")
def content():
    # The astronaut without the big black background: fewer tied values for histogram matching to split.
    return data.astronaut()[:300:2, 120:420:2].copy()


def test_identity_returns_the_input(style_set, content):
    out = fit_identity(style_set)(content)
    np.testing.assert_array_equal(out, content)


def test_reinhard_moves_lab_means_to_the_style_sets(style_set, content):
    target_mean, target_std = lab_stats(style_set)
    before = rgb2lab(content).reshape(-1, 3).mean(0)
    out = fit_reinhard(style_set)(content)
    assert out.shape == content.shape and out.dtype == np.uint8
    after = rgb2lab(out).reshape(-1, 3)
    assert np.abs(before - target_mean).max() > 5  # the test means something
    np.testing.assert_allclose(after.mean(0), target_mean, atol=1.0)
    np.testing.assert_allclose(after.std(0), target_std, rtol=0.15)


def test_histogram_matching_matches_per_channel_distributions(style_set, content):
    out = fit_histogram(style_set)(content)
    assert out.shape == content.shape and out.dtype == np.uint8
    pooled = np.concatenate([im.reshape(-1, 3) for im in style_set])
    q = np.linspace(5, 95, 46)  # compare the inverse CDFs (quantile functions) channel by channel
    for c in range(3):
        target = np.percentile(pooled[:, c], q)
        assert np.abs(np.percentile(content[..., c], q) - target).max() > 40  # far apart before
        # uint8 inputs have tied values that cannot be split, so the match is close, not exact.
        assert np.abs(np.percentile(out[..., c], q) - target).max() <= 10


@pytest.mark.parametrize("name", sorted(set(BASELINES) - {"identity"}))
def test_fitted_baselines_need_style_images(name):
    with pytest.raises(ValueError):
        BASELINES[name]([])
