import numpy as np

from portrait_style.trainer import augment


def _image(h=90, w=120):
    y, x = np.mgrid[0:h, 0:w]
    return np.stack([x * 2 % 256, y * 2 % 256, (x + y) % 256], axis=-1).astype(np.uint8)


def test_jitter_crop_is_square_sized_and_a_function_of_the_generator():
    image = _image()
    a = augment.jitter_crop(image, 64, np.random.default_rng(1))
    b = augment.jitter_crop(image, 64, np.random.default_rng(1))
    assert a.shape == (64, 64, 3) and a.dtype == np.uint8
    assert np.array_equal(a, b)
    crops = {augment.jitter_crop(image, 64, np.random.default_rng(s)).tobytes() for s in range(8)}
    assert len(crops) > 1  # position and zoom vary


def test_jitter_crop_of_an_exact_size_image_keeps_most_of_it():
    image = _image(72, 72)  # a face crop at 1.125 x 64
    crop = augment.jitter_crop(image, 64, np.random.default_rng(0))
    assert crop.shape == (64, 64, 3)


def test_random_patch_covers_several_scales():
    # an exemplar kept at twice the training size (64); red = x, so a patch's red span is its side
    x = np.broadcast_to(np.arange(160, dtype=np.uint8), (128, 160))
    image = np.stack([x, np.zeros_like(x), np.zeros_like(x)], axis=-1)
    rng = np.random.default_rng(0)
    spans = []
    for _ in range(100):
        patch = augment.random_patch(image, 64, rng)
        assert patch.shape == (64, 64, 3)
        spans.append(int(patch[..., 0].max()) - int(patch[..., 0].min()))
    # sides are log-uniform between 0.75 x 64 = 48 and the shorter side, 128
    assert 40 <= min(spans) < 60 and 110 < max(spans) <= 128


def test_random_patch_upsamples_tiny_exemplars():
    assert augment.random_patch(_image(20, 30), 64, np.random.default_rng(0)).shape == (64, 64, 3)


def test_flip_and_brightness():
    image = _image(8, 10)
    flips = [augment.random_flip(image, np.random.default_rng(s)) for s in range(10)]
    assert any(np.array_equal(f, image[:, ::-1]) for f in flips)
    assert any(np.array_equal(f, image) for f in flips)
    grey = np.full((4, 4, 3), 100, np.uint8)
    values = {int(augment.random_brightness(grey, np.random.default_rng(s))[0, 0, 0]) for s in range(10)}
    assert len(values) > 1 and min(values) >= 85 and max(values) <= 115


def test_to_tensor_batch_range_and_layout():
    batch = augment.to_tensor_batch([np.zeros((4, 6, 3), np.uint8), np.full((4, 6, 3), 255, np.uint8)])
    assert tuple(batch.shape) == (2, 3, 4, 6)
    assert batch[0].min().item() == -1.0 and batch[1].max().item() == 1.0
