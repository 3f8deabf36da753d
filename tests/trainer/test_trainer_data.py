import logging

import numpy as np
import pytest
import torch
from conftest import write_rgb
from skimage import data

from portrait_style.errors import InputError
from portrait_style.trainer.config import resolve
from portrait_style.trainer.data import UnpairedBatches, load_set, sample_inputs, set_kinds
from portrait_style.trainer.images import find_images


def _sets(cfg):
    cfg = resolve(cfg, len(find_images(cfg.style_dir, "style")))
    kinds = set_kinds(cfg)
    content = load_set(cfg, "content", find_images(cfg.content_dir, "content"), kinds[0])
    style = load_set(cfg, "style", find_images(cfg.style_dir, "style"), kinds[1])
    return cfg, content, style


def test_frame_mode_keeps_whole_images_at_the_working_resolution(tiny):
    cfg, content, style = _sets(tiny(size=32))
    assert (content.kind, style.kind, cfg.few_shot) == ("frames", "frames", False)
    assert len(content.images) == 4 and len(style.images) == 12
    assert all(min(im.shape[:2]) == 36 and im.shape[2] == 3 for im in content.images)  # 32 * 1.125


def test_few_shot_keeps_exemplars_at_twice_the_size(tiny, tmp_path):
    one = write_rgb(tmp_path / "one" / "painting.png", data.astronaut()[::4, ::4])
    cfg, _, style = _sets(tiny(style_dir=str(one.parent)))
    assert cfg.few_shot and style.kind == "exemplars" and len(style.images) == 1
    assert min(style.images[0].shape[:2]) == 64


def test_unreadable_files_are_skipped_with_a_warning_listing_them(tiny, caplog):
    cfg = tiny()
    bad = [f"{cfg.content_dir}/zz_broken.jpg", f"{cfg.content_dir}/zz_empty.png"]
    for path in bad:
        open(path, "wb").write(b"junk")
    with caplog.at_level(logging.WARNING):
        _, content, _ = _sets(cfg)
    assert len(content.images) == 4 and len(content.unreadable) == 2
    assert content.summary()["unreadable"] == 2 and content.summary()["used"] == 4
    assert "zz_broken.jpg" in caplog.text and "zz_empty.png" in caplog.text


def test_all_corrupt_is_an_input_error(tiny, tmp_path):
    folder = tmp_path / "corrupt"
    folder.mkdir()
    for i in range(3):
        (folder / f"{i}.jpg").write_bytes(b"\xff\xd8\xff garbage")
    with pytest.raises(InputError, match="none of the 3 style images"):
        _sets(tiny(style_dir=str(folder)))


def test_batches_are_a_function_of_seed_rank_and_step(tiny):
    cfg, content, style = _sets(tiny(batch_size=3))
    batches = UnpairedBatches(content, style, cfg, rank=0)
    a, b = batches[5]
    assert a.shape == (3, 3, 32, 32) and b.shape == (3, 3, 32, 32) and a.dtype == torch.float32
    assert a.min() >= -1 and a.max() <= 1
    a2, b2 = batches[5]
    assert torch.equal(a, a2) and torch.equal(b, b2)
    assert not torch.equal(a, batches[6][0])
    assert not torch.equal(a, UnpairedBatches(content, style, cfg, rank=1)[5][0])
    assert len(batches) == cfg.steps


def test_sample_inputs_are_fixed_centre_crops(tiny):
    cfg, content, _ = _sets(tiny())
    fixed = sample_inputs(content, 3, 32)
    assert fixed.shape == (3, 3, 32, 32)
    assert torch.equal(fixed, sample_inputs(content, 3, 32))
    assert np.isfinite(fixed.numpy()).all()
