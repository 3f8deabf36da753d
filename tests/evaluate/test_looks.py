import numpy as np
import pytest
from skimage import data

from portrait_style.evaluate.looks import LOOKS, get_look


@pytest.fixture(scope="module")
def astronaut():
    return data.astronaut()[::2, ::2].copy()  # 256x256 keeps the tests quick


@pytest.mark.parametrize("name", sorted(LOOKS))
def test_look_keeps_shape_and_dtype_and_changes_the_image(name, astronaut):
    out = LOOKS[name](astronaut)
    assert out.shape == astronaut.shape and out.dtype == np.uint8
    assert np.abs(out.astype(int) - astronaut.astype(int)).mean() > 3


@pytest.mark.parametrize("name", sorted(LOOKS))
def test_look_is_deterministic_and_pure(name, astronaut):
    before = astronaut.copy()
    a = LOOKS[name](astronaut)
    b = LOOKS[name](astronaut)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(astronaut, before)  # input untouched


@pytest.mark.parametrize("name", sorted(LOOKS))
def test_look_is_spatially_varying(name):
    grey = np.full((96, 128, 3), 128, np.uint8)
    out = LOOKS[name](grey).astype(int)
    # A flat grey frame must come out different in the corners than in the centre.
    assert np.abs(out[0, 0] - out[48, 64]).sum() > 15
    assert np.abs(out[-1, -1] - out[48, 64]).sum() > 15


@pytest.mark.parametrize("name", sorted(LOOKS))
def test_look_has_a_global_colour_part(name):
    # Two flat images of different grey level map to different, non-proportional colours at the centre.
    dark = LOOKS[name](np.full((32, 32, 3), 40, np.uint8))[16, 16].astype(int)
    light = LOOKS[name](np.full((32, 32, 3), 200, np.uint8))[16, 16].astype(int)
    assert not np.array_equal(dark, np.full(3, 40)) and not np.array_equal(light, np.full(3, 200))
    assert len(set(light.tolist())) > 1  # grey in, tinted out


def test_look_rejects_non_rgb_uint8():
    with pytest.raises(ValueError):
        LOOKS["faded-warm"](np.zeros((8, 8), np.uint8))
    with pytest.raises(ValueError):
        LOOKS["faded-warm"](np.zeros((8, 8, 3), np.float32))


def test_get_look_unknown_name():
    with pytest.raises(ValueError, match="unknown look"):
        get_look("nope")
