import os

import cv2
import numpy as np
import pytest
from skimage import data

from portrait_style.engine.image_io import is_image_path, list_images, read_image, write_image
from portrait_style.errors import InputError, OutputError
from tests.media import MARKER, frame_image, jpeg_with_orientation


@pytest.fixture(scope="module")
def photo():
    return data.astronaut()[::4, ::4].copy()  # 128 x 128 RGB


@pytest.mark.parametrize("suffix", [".png", ".bmp"])
def test_lossless_round_trip_keeps_rgb_order(tmp_path, photo, suffix):
    path = tmp_path / f"a{suffix}"
    write_image(path, photo)
    assert np.array_equal(read_image(path), photo)


@pytest.mark.parametrize("suffix", [".jpg", ".jpeg", ".webp"])
def test_lossy_round_trip(tmp_path, photo, suffix):
    path = tmp_path / f"a{suffix}"
    write_image(path, photo)
    image = read_image(path)
    assert image.shape == photo.shape and image.dtype == np.uint8
    assert np.abs(image.astype(int) - photo).mean() < 4


# EXIF orientation -> where the stored top-left marker is once the photo is shown upright.
@pytest.mark.parametrize("orientation, corner", [(1, (0, 0)), (3, (-1, -1)), (6, (0, -1)), (8, (-1, 0))])
def test_exif_orientation_is_applied(tmp_path, orientation, corner):
    path = tmp_path / "phone.jpg"
    path.write_bytes(jpeg_with_orientation(frame_image(0, 64, 48), orientation))
    image = read_image(path)
    assert image.shape == ((48, 64, 3) if orientation in (1, 3) else (64, 48, 3))
    h, w = image.shape[:2]
    m = MARKER // 2
    rows = slice(0, m) if corner[0] == 0 else slice(h - m, h)
    cols = slice(0, m) if corner[1] == 0 else slice(w - m, w)
    assert image[rows, cols].min() > 200


def test_grey_16_bit_and_alpha_become_rgb_uint8(tmp_path):
    grey = np.arange(64, dtype=np.uint8).reshape(8, 8) * 4
    cv2.imwrite(str(tmp_path / "grey.png"), grey)
    assert np.array_equal(read_image(tmp_path / "grey.png"), np.repeat(grey[..., None], 3, axis=2))

    deep = (np.arange(64, dtype=np.uint16).reshape(8, 8) * 1028)[..., None].repeat(3, axis=2)
    cv2.imwrite(str(tmp_path / "deep.png"), deep)
    assert np.array_equal(read_image(tmp_path / "deep.png"), (deep // 257).astype(np.uint8))

    bgra = np.zeros((4, 4, 4), np.uint8)
    bgra[..., 2] = 200  # red
    bgra[:2, ..., 3] = 255  # top half opaque, bottom half transparent
    cv2.imwrite(str(tmp_path / "cutout.png"), bgra)
    image = read_image(tmp_path / "cutout.png")
    assert image.shape == (4, 4, 3)
    assert (image[:2] == (200, 0, 0)).all() and (image[2:] == 255).all()  # transparent shows as white


def test_unreadable_images_are_input_errors(tmp_path):
    (tmp_path / "notes.jpg").write_text("not an image")
    (tmp_path / "empty.png").write_bytes(b"")
    for name, message in [
        ("missing.png", "no such file"),
        ("notes.jpg", "as an image"),
        ("empty.png", "as an image"),
    ]:
        with pytest.raises(InputError, match=message):
            read_image(tmp_path / name)
    with pytest.raises(InputError, match="not a file"):
        read_image(tmp_path)


def test_write_is_atomic_and_checks_its_arguments(tmp_path, photo):
    with pytest.raises(OutputError, match="does not exist"):
        write_image(tmp_path / "missing" / "a.png", photo)
    with pytest.raises(OutputError, match="must end in"):
        write_image(tmp_path / "a.gif", photo)
    with pytest.raises(ValueError):
        write_image(tmp_path / "a.png", photo[..., 0])
    write_image(tmp_path / "a.png", photo)
    assert os.listdir(tmp_path) == ["a.png"]  # no temporary file left beside it


def test_list_images_finds_image_files_sorted(tmp_path):
    for name in ["b.PNG", "a.jpg", "c.webp", "d.bmp", "e.jpeg", "notes.txt", ".hidden.jpg", "clip.mp4"]:
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "folder.jpg").mkdir()
    assert [p.name for p in list_images(tmp_path)] == ["a.jpg", "b.PNG", "c.webp", "d.bmp", "e.jpeg"]
    with pytest.raises(InputError, match="no such folder"):
        list_images(tmp_path / "nowhere")
    with pytest.raises(InputError, match="not a folder"):
        list_images(tmp_path / "a.jpg")


def test_is_image_path():
    assert is_image_path("x/Portrait.JPG") and is_image_path("a.webp")
    assert not is_image_path("clip.mp4") and not is_image_path("noext")
