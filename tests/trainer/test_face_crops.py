import numpy as np
from conftest import write_rgb
from skimage import data

from portrait_style.config import FaceConfig
from portrait_style.engine.faces.align import face_transform, warp_crop
from portrait_style.engine.faces.detectors import make_detector
from portrait_style.trainer.face_crops import crop_params, face_crops

FACE_CFG = FaceConfig(detector="mtcnn")


def test_crops_are_the_engines_framing_with_a_margin(tmp_path):
    image = data.astronaut()
    path = write_rgb(tmp_path / "astronaut.png", image)
    crops, no_face, bad = face_crops([path], 64, tmp_path / "cache", FACE_CFG, margin=1.125)
    assert (no_face, bad) == ([], [])
    assert len(crops) == 1 and crops[0].shape == (72, 72, 3) and crops[0].dtype == np.uint8
    # the centre 64 x 64 is what the engine feeds the generator at 64 px
    face = make_detector(FACE_CFG).detect(image)[0]
    engine = warp_crop(image, face_transform(face, 64, FACE_CFG.crop_scale), 64)
    centre = crops[0][4:68, 4:68].astype(int)
    assert np.abs(centre - engine.astype(int)).mean() < 2.0


def test_results_are_cached_by_content_and_parameters(tmp_path):
    path = write_rgb(tmp_path / "a.png", data.astronaut())
    cache = tmp_path / "cache"
    face_crops([path], 64, cache, FACE_CFG)
    entries = list(cache.glob("*.npz"))
    assert len(entries) == 1
    # plant a marker in the cache entry: a second run must return it rather than detect again
    marker = np.full((2, 72, 72, 3), 7, np.uint8)
    np.savez(entries[0], crops=marker)
    crops, _, _ = face_crops([path], 64, cache, FACE_CFG)
    assert len(crops) == 2 and all((c == 7).all() for c in crops)
    # other crop parameters -> another entry; a copy of the file under another name -> the same one
    face_crops([path], 48, cache, FACE_CFG)
    assert len(list(cache.glob("*.npz"))) == 2
    copy = tmp_path / "copy.png"
    copy.write_bytes(path.read_bytes())
    face_crops([copy], 64, cache, FACE_CFG)
    assert len(list(cache.glob("*.npz"))) == 2
    assert crop_params(64, 1.125, FACE_CFG) != crop_params(
        64, 1.125, FaceConfig(detector="mtcnn", crop_scale=2.0)
    )


def test_no_face_and_unreadable_are_reported_not_fatal(tmp_path):
    face = write_rgb(tmp_path / "face.png", data.astronaut())
    y, x = np.mgrid[0:120, 0:160]
    blank = write_rgb(tmp_path / "gradient.png", np.stack([x, y, x + y], -1).astype(np.uint8))
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not an image")
    crops, no_face, bad = face_crops([face, blank, broken], 64, tmp_path / "cache", FACE_CFG)
    assert len(crops) == 1 and no_face == [blank] and bad == [broken]
    # "no face" is cached too (as zero crops), so it is not detected again
    assert len(list((tmp_path / "cache").glob("*.npz"))) == 2
