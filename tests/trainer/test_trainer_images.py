import numpy as np
import pytest
from conftest import content_images, write_rgb

from portrait_style.errors import InputError
from portrait_style.trainer.images import find_images, read_all, resize_short_side


def test_find_images_recurses_sorted_and_skips_hidden_and_non_images(tmp_path):
    write_rgb(tmp_path / "b.jpg", np.zeros((8, 8, 3), np.uint8))
    write_rgb(tmp_path / "sub" / "a.png", np.zeros((8, 8, 3), np.uint8))
    write_rgb(tmp_path / ".hidden" / "c.png", np.zeros((8, 8, 3), np.uint8))
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / "face.tem").write_text("x")
    found = find_images(tmp_path, "content")
    assert [p.relative_to(tmp_path).as_posix() for p in found] == ["b.jpg", "sub/a.png"]


def test_list_file_names_images_relative_to_itself(tmp_path):
    write_rgb(tmp_path / "imgs" / "a.png", np.zeros((8, 8, 3), np.uint8))
    write_rgb(tmp_path / "imgs" / "b.png", np.zeros((8, 8, 3), np.uint8))
    listing = tmp_path / "train.txt"
    listing.write_text("# held out: b\nimgs/a.png\n\n")
    assert find_images(listing, "style") == [tmp_path / "imgs" / "a.png"]
    listing.write_text("imgs/zzz.png\n")
    with pytest.raises(InputError, match="missing"):
        find_images(listing, "style")


def test_missing_or_empty_folder_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="content folder not found"):
        find_images(tmp_path / "nope", "content")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no images"):
        find_images(tmp_path / "empty", "style")


def test_read_all_returns_rgb_and_lists_unreadable_files(tmp_path):
    folder = content_images(tmp_path / "c")  # includes a greyscale and an RGBA file
    (folder / "broken.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    (folder / "empty.png").write_bytes(b"")
    images, bad = read_all(find_images(folder, "content"), lambda im: im)
    assert sorted(p.name for p in bad) == ["broken.jpg", "empty.png"]
    assert len(images) == 4
    assert all(im.dtype == np.uint8 and im.ndim == 3 and im.shape[2] == 3 for im in images)


def test_resize_short_side():
    out = resize_short_side(np.zeros((100, 300, 3), np.uint8), 36)
    assert out.shape == (36, 108, 3)
    assert resize_short_side(np.zeros((10, 12, 3), np.uint8), 20).shape == (20, 24, 3)


def test_one_image_is_a_style_set_of_one_and_other_files_are_refused(tmp_path):
    still = tmp_path / "still.png"
    write_rgb(still, np.zeros((8, 8, 3), np.uint8))
    assert find_images(still, "style") == [still]
    notes = tmp_path / "notes.md"
    notes.write_text("x")
    with pytest.raises(InputError, match="a folder, an image or a .txt list"):
        find_images(notes, "style")
