"""Bad input fails early with one clear line, never with a silently empty model."""

from pathlib import Path

import numpy as np
import pytest
from conftest import content_images, write_rgb

from portrait_style.errors import InputError, OutputError
from portrait_style.trainer.train import train


def _assert_no_style_written(cfg):
    assert not list(Path(cfg.out_dir).glob("*.safetensors")) if Path(cfg.out_dir).exists() else True


def test_missing_and_empty_folders(tiny, tmp_path):
    with pytest.raises(InputError, match="content folder not found"):
        train(tiny(content_dir=str(tmp_path / "nope")))
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "readme.txt").write_text("no images here")
    with pytest.raises(InputError, match="no images .* in style folder"):
        train(tiny(style_dir=str(tmp_path / "empty")))


def test_a_folder_of_corrupt_images(tiny, tmp_path):
    folder = tmp_path / "corrupt"
    folder.mkdir()
    for i in range(3):
        (folder / f"{i}.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    cfg = tiny(content_dir=str(folder))
    with pytest.raises(InputError, match="none of the 3 content images .* could be read") as info:
        train(cfg)
    assert "\n" not in str(info.value)
    _assert_no_style_written(cfg)


def test_face_mode_without_faces_is_a_clear_error(tiny, tmp_path):
    folder = tmp_path / "no_faces"
    y, x = np.mgrid[0:96, 0:128]
    for i in range(2):
        write_rgb(folder / f"{i}.png", np.stack([x + i, y, x + y], -1).astype(np.uint8))
    cfg = tiny(content_dir=str(folder), mode="face", face_detector="mtcnn")
    with pytest.raises(InputError, match="no faces found in any of the 2 content images .*--mode frame"):
        train(cfg)
    _assert_no_style_written(cfg)
    # the style side too (unless few-shot, where style images are only a source of patches)
    from skimage import data

    faces = write_rgb(tmp_path / "faces" / "astronaut.png", data.astronaut()).parent
    with pytest.raises(InputError, match="no faces found in any of the 2 style images .*--few-shot"):
        train(
            tiny(
                content_dir=str(faces),
                style_dir=str(folder),
                mode="face",
                face_detector="mtcnn",
                few_shot=False,
            )
        )


def test_face_mode_trains_on_a_face(tiny, tmp_path):
    from skimage import data

    from portrait_style.engine.checkpoint import load_style

    write_rgb(tmp_path / "faces" / "astronaut.png", data.astronaut())
    content_images(tmp_path / "faces", n=1)  # plus a photo without a face: skipped, not fatal
    faces = str(tmp_path / "faces")
    cfg = tiny(content_dir=faces, mode="face", face_detector="mtcnn", steps=1, few_shot=True)
    _, meta = load_style(train(cfg))
    assert meta.mode == "face" and meta.training["crop_scale"] > 0
    assert meta.training["data"]["content"]["face_crops"] == 1
    assert list(Path(cfg.cache_dir).glob("*.npz"))  # detection cached for the next run


def test_unwritable_output_fails_before_training(tiny, tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    cfg = tiny(out_dir=str(blocker / "run"), content_dir=str(tmp_path / "content"))
    with pytest.raises(OutputError, match="cannot write to output folder"):
        train(cfg)


def test_bad_settings_fail_before_reading_anything(tiny):
    with pytest.raises(InputError, match="size"):
        train(tiny(size=30))
