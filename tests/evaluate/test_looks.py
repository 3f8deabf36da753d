import cv2
import numpy as np
import pytest
from skimage import data
from skimage.metrics import peak_signal_noise_ratio

from portrait_style.engine.faces.geometry import MAX_FACES
from portrait_style.evaluate.looks import FACE_LOOKS, LOOKS, get_look


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(peak_signal_noise_ratio(a, b, data_range=255))


# Looks with a fixed frame-position part (vignette, light falloff) that shows even on a flat frame.
POSITIONAL = ["teal-orange-film", "faded-warm"]


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


@pytest.mark.parametrize("name", POSITIONAL)
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


def _faces(*rows):
    """A face table with the given (cx, cy, size) rows marked valid."""
    table = np.zeros((MAX_FACES, 4), np.float32)
    for row, (cx, cy, size) in zip(table, rows, strict=False):
        row[:] = (cx, cy, size, 1.0)
    return table


def test_look_registry():
    assert {"auto-levels", "local-contrast", "face-light"} <= set(LOOKS)
    assert FACE_LOOKS <= set(LOOKS) and "face-light" in FACE_LOOKS
    assert get_look("face-light") is LOOKS["face-light"]


@pytest.mark.parametrize("name", sorted(set(LOOKS) - FACE_LOOKS))
def test_looks_without_faces_ignore_the_face_table(name, astronaut):
    np.testing.assert_array_equal(
        LOOKS[name](astronaut, faces=_faces((0.0, 0.0, 0.5))), LOOKS[name](astronaut)
    )


@pytest.mark.parametrize("name", sorted(LOOKS))
def test_look_means_the_same_at_any_size(name):
    # Frame-relative units: the look of a half-size image is the half-size look (up to resampling).
    big = data.astronaut()
    small = cv2.resize(big, (256, 256), interpolation=cv2.INTER_AREA)
    faces = _faces((0.0, -0.2, 0.45))
    shrunk = cv2.resize(LOOKS[name](big, faces=faces), (256, 256), interpolation=cv2.INTER_AREA)
    assert psnr(LOOKS[name](small, faces=faces), shrunk) > 38


@pytest.mark.parametrize("name", ["auto-levels", "local-contrast", "face-light"])
def test_new_looks_are_clearly_visible(name, astronaut):
    # Doing nothing must score well below 25 dB against the look.
    assert psnr(astronaut, LOOKS[name](astronaut, faces=_faces((0.0, -0.2, 0.45)))) < 24


def test_auto_levels_undoes_exposure_and_white_balance(astronaut):
    base = astronaut.astype(np.float32)
    dark = np.round(base * 0.6).astype(np.uint8)  # about 3/4 of a stop under
    bright = np.round(base * 0.95).astype(np.uint8)
    tinted = np.round(base * np.array([0.8, 0.9, 0.95], np.float32) + 8).astype(np.uint8)  # cool, lifted
    out_dark, out_bright, out_tinted = (LOOKS["auto-levels"](im) for im in (dark, bright, tinted))
    assert psnr(dark, bright) < 22  # the inputs differ a lot...
    assert psnr(out_dark, out_bright) > 38  # ...their looks hardly at all
    assert np.abs(out_dark.astype(int) - out_bright.astype(int)).mean() < 1.0
    assert psnr(out_tinted, out_bright) > 35


def test_auto_levels_of_a_flat_image_is_defined():
    out = LOOKS["auto-levels"](np.full((16, 16, 3), 77, np.uint8))
    assert len(np.unique(out.reshape(-1, 3), axis=0)) == 1  # still flat: no division by a zero range


def _local_std(image: np.ndarray, sigma: float) -> float:
    lum = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)
    mean = cv2.GaussianBlur(lum, (0, 0), sigma)
    var = cv2.GaussianBlur(lum * lum, (0, 0), sigma) - mean * mean
    return float(np.sqrt(np.maximum(var, 0.0)).mean())


def test_local_contrast_raises_local_standard_deviation(astronaut):
    out = LOOKS["local-contrast"](astronaut)
    sigma = 0.02 * float(np.hypot(*astronaut.shape[:2]))  # a scale the look boosts
    assert _local_std(out, sigma) > 1.25 * _local_std(astronaut, sigma)
    # A flat frame has no local contrast to boost: only the (cool) grade is left, the same everywhere.
    flat = LOOKS["local-contrast"](np.full((40, 60, 3), 128, np.uint8))
    assert len(np.unique(flat.reshape(-1, 3), axis=0)) == 1 and flat[0, 0, 2] > flat[0, 0, 0]


def test_face_light_brightens_near_the_face_and_follows_it():
    grey = np.full((120, 160, 3), 110, np.uint8)
    look = LOOKS["face-light"]
    face = _faces((-0.3, 0.0, 0.4))  # centre at x = 56, y = 60; 48 px tall
    lit, unlit = look(grey, faces=face).astype(int), look(grey).astype(int)
    key = (54, 37)  # (y, x): above and to the frame's left of the face centre, where the key light is
    assert lit[key].sum() > unlit[key].sum() + 60  # brighter than without the face
    assert lit[key].sum() > lit[60, 75].sum() + 15  # brighter than the face's other side
    assert lit[key].sum() > lit[5, 150].sum() + 60  # and than the backdrop far from the face
    moved = look(grey, faces=_faces((0.4, 0.0, 0.4))).astype(int)
    assert np.abs(moved - lit).mean() > 5
    assert moved[key].sum() < lit[key].sum() - 60  # the light went with the face
    assert moved[54, 93].sum() > moved[60, 130].sum() + 60  # key of the moved face at x = 112 - 19
    # Two faces: each gets its light.
    both = look(grey, faces=_faces((-0.3, 0.0, 0.4), (0.4, 0.0, 0.4))).astype(int)
    assert both[key].sum() > unlit[key].sum() + 60 and both[54, 93].sum() > unlit[54, 93].sum() + 60


def test_face_light_without_faces_is_a_global_grade_and_dimming():
    grey = np.full((48, 64, 3), 150, np.uint8)
    look = LOOKS["face-light"]
    none = look(grey)
    np.testing.assert_array_equal(none, look(grey, faces=np.zeros((MAX_FACES, 4), np.float32)))
    # Rows marked invalid are ignored whatever they hold.
    ignored = _faces((0.0, 0.0, 0.5))
    ignored[:, 3] = 0.0
    np.testing.assert_array_equal(none, look(grey, faces=ignored))
    assert len(np.unique(none.reshape(-1, 3), axis=0)) == 1  # the same everywhere
    assert none[0, 0].sum() < grey[0, 0].astype(int).sum() - 60 and none[0, 0, 0] > none[0, 0, 2]


def test_face_light_rejects_a_malformed_face_table(astronaut):
    with pytest.raises(ValueError, match="faces"):
        LOOKS["face-light"](astronaut, faces=np.zeros((4, 3), np.float32))


def test_face_light_is_deterministic_with_faces(astronaut):
    faces = _faces((0.0, -0.2, 0.45))
    before = faces.copy()
    np.testing.assert_array_equal(
        LOOKS["face-light"](astronaut, faces=faces), LOOKS["face-light"](astronaut, faces=faces)
    )
    np.testing.assert_array_equal(faces, before)
