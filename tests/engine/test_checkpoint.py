import json
import os

import pytest
import torch
from safetensors.torch import save_file

from portrait_style.engine.checkpoint import FORMAT_VERSION, StyleMeta, load_style, read_meta, save_style
from portrait_style.engine.model import Generator
from portrait_style.errors import InputError, ModelError


def small_model():
    torch.manual_seed(1)
    return Generator(channels=(8, 16, 32), n_blocks=2, expansion=2)


def test_round_trip_weights_and_metadata(tmp_path):
    model = small_model()
    meta = StyleMeta(
        name="t", resolution=128, mode="frame", license="CC0", attribution="me", training={"steps": 3}
    )
    path = save_style(tmp_path / "t.safetensors", model, meta)
    loaded, got = load_style(path)
    assert got.name == "t" and got.resolution == 128 and got.mode == "frame" and got.training == {"steps": 3}
    assert got.arch_args == model.arch_args and got.format_version == FORMAT_VERSION
    for (k, a), (_, b) in zip(model.state_dict().items(), loaded.state_dict().items(), strict=True):
        assert torch.equal(a, b), k
    assert not loaded.training  # eval mode


def test_write_is_atomic_no_temp_left(tmp_path):
    save_style(tmp_path / "a.safetensors", small_model(), StyleMeta(name="a"))
    assert os.listdir(tmp_path) == ["a.safetensors"]


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="not found"):
        load_style(tmp_path / "nope.safetensors")


def test_not_a_safetensors_file(tmp_path):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\x80\x04 pickle-ish garbage")
    with pytest.raises(ModelError, match="not a portrait-style model"):
        load_style(bad)


def test_foreign_safetensors_without_our_metadata(tmp_path):
    path = tmp_path / "foreign.safetensors"
    save_file({"w": torch.zeros(2)}, str(path))
    with pytest.raises(ModelError, match="no 'portrait_style' metadata"):
        read_meta(path)


def test_newer_format_is_refused_clearly(tmp_path):
    path = tmp_path / "future.safetensors"
    meta = {"name": "x", "format_version": FORMAT_VERSION + 1}
    save_file({"w": torch.zeros(2)}, str(path), metadata={"portrait_style": json.dumps(meta)})
    with pytest.raises(ModelError, match="Upgrade"):
        read_meta(path)


def test_fields_from_a_newer_version_are_ignored_and_bad_metadata_is_clear(tmp_path):
    path = tmp_path / "newer.safetensors"
    meta = {"name": "x", "frame_size": 320, "added_later": {"a": 1}}
    save_file({"w": torch.zeros(2)}, str(path), metadata={"portrait_style": json.dumps(meta)})
    got = read_meta(path)
    assert (got.name, got.frame_size) == ("x", 320)
    save_file({"w": torch.zeros(2)}, str(path), metadata={"portrait_style": "[1, 2]"})
    with pytest.raises(ModelError, match="corrupt model metadata"):
        read_meta(path)


def test_weights_not_matching_architecture(tmp_path):
    path = save_style(tmp_path / "m.safetensors", small_model(), StyleMeta(name="m"))
    raw = json.loads(read_meta_json(path))
    raw["arch_args"]["n_blocks"] = 5
    from safetensors.torch import load_file

    save_file(load_file(str(path)), str(path), metadata={"portrait_style": json.dumps(raw)})
    with pytest.raises(ModelError, match="do not match"):
        load_style(path)


def read_meta_json(path):
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        return f.metadata()["portrait_style"]
