import math

import numpy as np
import pytest
from skimage import data

from portrait_style.evaluate.metrics import ciede2000, psnr, score_set, ssim


@pytest.fixture(scope="module")
def image():
    return data.astronaut()[::4, ::4].copy()


def test_identical_images(image):
    assert psnr(image, image) == math.inf
    assert ssim(image, image) == pytest.approx(1.0)
    assert ciede2000(image, image) == pytest.approx(0.0, abs=1e-9)


def test_known_noise_gives_expected_psnr():
    rng = np.random.default_rng(0)
    base = rng.integers(20, 236, size=(64, 64, 3), dtype=np.uint8)
    # Every pixel moved by exactly +-4 (no clipping at these values): MSE = 16.
    noisy = (base.astype(int) + 4 * rng.choice([-1, 1], size=base.shape)).astype(np.uint8)
    assert psnr(noisy, base) == pytest.approx(10 * math.log10(255**2 / 16), abs=1e-6)


def test_metrics_get_worse_with_more_noise(image):
    rng = np.random.default_rng(1)

    def noisy(sigma):
        return np.clip(image + rng.normal(0, sigma, image.shape), 0, 255).astype(np.uint8)

    small, large = noisy(3), noisy(20)
    assert psnr(small, image) > psnr(large, image)
    assert ssim(small, image) > ssim(large, image)
    assert ciede2000(small, image) < ciede2000(large, image)


def test_ciede2000_sees_a_colour_cast_psnr_calls_small(image):
    cast = np.clip(image.astype(int) + [6, 0, -6], 0, 255).astype(np.uint8)
    assert ciede2000(cast, image) > 2.0


def test_score_set_averages(image):
    shifted = np.clip(image.astype(int) + 10, 0, 255).astype(np.uint8)
    s = score_set([(shifted, image), (image, shifted)])
    assert s.n == 2
    assert s.psnr == pytest.approx(psnr(shifted, image) / 2 + psnr(image, shifted) / 2)
    assert s.ciede2000 == pytest.approx((ciede2000(shifted, image) + ciede2000(image, shifted)) / 2)


def test_shape_mismatch_and_empty_set_are_errors(image):
    with pytest.raises(ValueError, match="shape"):
        psnr(image, image[:-1])
    with pytest.raises(ValueError, match="no"):
        score_set([])
