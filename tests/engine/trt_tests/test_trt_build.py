"""TensorRT engine building, caching and checking, against a fake `tensorrt` module (no GPU, no TensorRT)."""

from __future__ import annotations

import json
import logging
import os
import sys

import pytest
import torch

from portrait_style.engine.backends import BACKENDS, BackendSpec, available_backends, load_backend
from portrait_style.engine.checkpoint import save_style
from portrait_style.engine.model import Generator
from portrait_style.engine.style_meta import read_meta
from portrait_style.engine.tensorrt import build, cache, versions
from portrait_style.errors import ModelError
from tests.engine.trt_tests.fake_tensorrt import called, make_tensorrt

H200 = cache.Gpu("NVIDIA H200", (9, 0))


def engine(trt, style, precision="fp16", options=None, gpu=H200) -> bytes:
    return build.engine_bytes(trt, style, precision, options or {}, gpu)


def builds(trt) -> int:
    return len(called(trt, "build_serialized_network"))


# -- the version gate --------------------------------------------------------------------------------


@pytest.mark.parametrize("precision", ["fp16", "fp32"])
def test_tensorrt_10_sets_the_fp16_builder_flag_on_the_fp32_graph(generator, exports, precision):
    trt = make_tensorrt("10.13.3.9")
    engine(trt, generator, precision)
    assert exports == ["fp32"] and called(trt, "parse_from_file")[0][0].endswith("-fp32.onnx")
    assert called(trt, "create_network") == [(0,)]
    assert called(trt, "set_flag") == ([(trt.BuilderFlag.FP16,)] if precision == "fp16" else [])


@pytest.mark.parametrize("precision", ["fp16", "fp32"])
def test_tensorrt_11_parses_the_graph_of_that_precision_without_builder_flags(generator, exports, precision):
    trt = make_tensorrt("11.1.0.106")
    assert not hasattr(trt.BuilderFlag, "FP16")  # removed in 11.0; using it would raise AttributeError
    engine(trt, generator, precision)
    assert exports == [precision]
    assert called(trt, "create_network") == [(0,)]  # strongly typed is the only mode in 11.x
    assert called(trt, "set_flag") == []
    assert called(trt, "parse_from_file")[0][0].endswith(f"-{precision}.onnx")


@pytest.mark.parametrize("version", ["8.6.1", "9.3.0.post12.dev1", "12.0.0"])
def test_other_tensorrt_versions_are_refused_in_one_line(generator, exports, version):
    trt = make_tensorrt("10.13.3.9")
    trt.__version__ = version
    with pytest.raises(ModelError, match="10.x and 11.x") as err:
        engine(trt, generator)
    assert "\n" not in str(err.value) and exports == []


@pytest.mark.parametrize("precision", ["int8", "bf16"])
def test_only_fp32_and_fp16_engines_are_built(precision):
    with pytest.raises(ModelError, match="fp32 or fp16"):
        versions.recipe(make_tensorrt("10.13.3.9"), precision)


# -- optimisation profiles ---------------------------------------------------------------------------


def test_face_mode_profile_is_face_crops_in_batches_up_to_8(generator):
    profile = build.profile_for(read_meta(generator), {})
    assert profile == (("image", (1, 64, 64, 3), (1, 256, 256, 3), (8, 256, 256, 3)),)
    bigger = build.profile_for(read_meta(generator), {"max_batch": 4, "max_side": 510})
    assert bigger == (("image", (1, 64, 64, 3), (1, 256, 256, 3), (4, 508, 508, 3)),)  # sides: multiples of 4


def test_frame_mode_look_profile_is_one_frame_up_to_1920_with_face_tables(look):
    meta = read_meta(look)
    assert build.profile_for(meta, {}) == (
        ("image", (1, 64, 64, 3), (1, 1080, 1920, 3), (1, 1920, 1920, 3)),
        ("faces", (1, 4, 4), (1, 4, 4), (1, 4, 4)),
    )
    meta.frame_size = 512  # frames are scaled to a 512 shorter side: tune for those
    image, faces = build.profile_for(meta, {"max_batch": 2})
    assert image == ("image", (1, 64, 64, 3), (1, 512, 908, 3), (2, 1920, 1920, 3))
    assert faces == ("faces", (1, 4, 4), (1, 4, 4), (2, 4, 4))


def test_the_builder_gets_every_input_of_the_profile(look, exports):
    trt = make_tensorrt("10.13.3.9")
    engine(trt, look, "fp32", {"workspace_mb": 512})
    profile = build.profile_for(read_meta(look), {})
    assert called(trt, "set_shape") == list(profile)
    assert called(trt, "set_memory_pool_limit") == [(trt.MemoryPoolType.WORKSPACE, 512 << 20)]


def test_a_graph_whose_inputs_differ_from_the_metadata_is_refused(generator, exports, monkeypatch):
    trt = make_tensorrt("10.13.3.9")
    monkeypatch.setattr(build, "profile_for", lambda meta, options: (("pixels", (1,), (1,), (1,)),))
    with pytest.raises(ModelError, match="has inputs"):
        engine(trt, generator)


# -- the engine cache ----------------------------------------------------------------------------------


def test_the_same_key_is_built_once(generator, exports, cache):
    trt = make_tensorrt("10.13.3.9")
    first = engine(trt, generator)
    assert engine(trt, generator) == first
    assert builds(trt) == 1 and len(called(trt, "parse_from_file")) == 1
    sidecar = json.loads(next(cache.glob("*.engine.json")).read_text())
    assert sidecar["key"]["gpu"] == "NVIDIA H200" and sidecar["key"]["capability"] == "9.0"
    assert sidecar["key"]["tensorrt"] == "10.13.3.9" and sidecar["size"] == len(first)


def _reweigh(style):
    torch.manual_seed(7)
    save_style(style, Generator(channels=(8, 16, 32), n_blocks=2, expansion=2), read_meta(style))


def _other_graph(ctx):  # e.g. a new exporter version, or an FP16 graph made differently
    export = build.cached_onnx
    ctx["monkeypatch"].setattr(build, "cached_onnx", lambda *a: _renamed(export(*a)))


def _renamed(onnx_path):
    return onnx_path.rename(onnx_path.with_name("v3-" + onnx_path.name))


KEY_CHANGES = {
    "weights": lambda ctx: _reweigh(ctx["style"]),
    "onnx graph": _other_graph,
    "tensorrt version": lambda ctx: ctx.update(trt=make_tensorrt("10.14.1.48")),
    "gpu name": lambda ctx: ctx.update(gpu=cache.Gpu("NVIDIA L40S", (9, 0))),
    "compute capability": lambda ctx: ctx.update(gpu=cache.Gpu("NVIDIA H200", (9, 1))),
    "precision": lambda ctx: ctx.update(precision="fp32"),
    "profile": lambda ctx: ctx.update(options={"max_side": 512}),
    "workspace": lambda ctx: ctx.update(options={"workspace_mb": 1024}),
}


@pytest.mark.parametrize("part", sorted(KEY_CHANGES))
def test_any_key_part_that_differs_builds_a_new_engine(generator, exports, cache, monkeypatch, part):
    trt = make_tensorrt("10.13.3.9")
    ctx = {"style": generator, "trt": trt, "gpu": H200, "precision": "fp16", "options": {}}
    ctx["monkeypatch"] = monkeypatch

    def run():
        return engine(ctx["trt"], ctx["style"], ctx["precision"], ctx["options"], ctx["gpu"])

    run()
    KEY_CHANGES[part](ctx)
    before = builds(ctx["trt"])
    run()
    assert builds(ctx["trt"]) == before + 1, f"a different {part} reused the old engine"
    assert len(list(cache.glob("*.engine"))) == 2
    run()
    assert builds(ctx["trt"]) == before + 1  # and that one is cached in turn


def _entry(cache):
    (path,) = cache.glob("*.engine")
    return path, path.with_name(path.name + ".json")


DAMAGE = {
    "truncated": lambda path, sidecar: path.write_bytes(path.read_bytes()[:-3]),
    "changed": lambda path, sidecar: path.write_bytes(path.read_bytes().replace(b"profile", b"PROFILE")),
    "no sidecar": lambda path, sidecar: sidecar.unlink(),
    "garbled sidecar": lambda path, sidecar: sidecar.write_text("{not json"),
    "foreign key": lambda path, sidecar: sidecar.write_text(
        sidecar.read_text().replace('"NVIDIA H200"', '"NVIDIA A100"')
    ),
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_a_damaged_entry_is_rebuilt_with_a_one_line_warning(generator, exports, cache, caplog, damage):
    trt = make_tensorrt("10.13.3.9")
    good = engine(trt, generator)
    DAMAGE[damage](*_entry(cache))
    with caplog.at_level(logging.WARNING, logger="portrait_style.engine.tensorrt.cache"):
        assert engine(trt, generator) == good
    assert builds(trt) == 2
    (warning,) = [r for r in caplog.records if r.name == "portrait_style.engine.tensorrt.cache"]
    assert "building it again" in warning.getMessage() and "\n" not in warning.getMessage()
    path, sidecar = _entry(cache)
    assert json.loads(sidecar.read_text())["size"] == path.stat().st_size  # the new entry is whole


def test_writes_are_atomic_and_leave_no_temporary_files(generator, exports, cache, monkeypatch, caplog):
    trt = make_tensorrt("10.13.3.9")
    engine(trt, generator)
    names = sorted(p.name for p in cache.iterdir())
    assert len(names) == 3 and names[0].endswith(".engine") and names[1].endswith(".engine.json")
    assert names[2].startswith("timing-")

    def refuse(src, dst):  # e.g. the disk filled up: the rename never happens
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    engine(trt, generator, "fp32")  # builds and runs; only saving fails
    assert sorted(p.name for p in cache.iterdir()) == names
    assert any("could not save the TensorRT engine" in r.getMessage() for r in caplog.records)


def test_an_unwritable_cache_folder_falls_back_to_a_temporary_one(generator, exports, tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should go")
    monkeypatch.setenv("PORTRAIT_STYLE_CACHE", str(blocker))
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    trt = make_tensorrt("10.13.3.9")
    engine(trt, generator)
    engine(trt, generator)
    assert (
        builds(trt) == 1 and len(list((tmp_path / "tmp" / "portrait-style-tensorrt").glob("*.engine"))) == 1
    )


def test_the_timing_cache_is_saved_and_given_to_the_next_build(generator, look, exports, cache, caplog):
    trt = make_tensorrt("10.13.3.9")
    engine(trt, generator)
    engine(trt, look, "fp32")  # another style, same GPU and TensorRT: same timing cache
    assert called(trt, "create_timing_cache") == [(b"",), (b"fake-timing-cache",)]
    assert [args[1] for args in called(trt, "set_timing_cache")] == [False, False]  # strict device check
    (timing,) = cache.glob("timing-*.cache")
    timing.write_bytes(b"made on another GPU")
    with caplog.at_level(logging.WARNING):
        engine(trt, generator, "fp32")
    assert called(trt, "create_timing_cache")[-2:] == [(b"made on another GPU",), (b"",)]
    assert any("refused the saved timing cache" in r.getMessage() for r in caplog.records)
    assert timing.read_bytes() == b"fake-timing-cache"


# -- checking that fp16 is fp16 --------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["10.13.3.9", "11.1.0.106"])
def test_the_inspector_finds_fp16_layers_in_an_fp16_engine(generator, exports, version):
    trt = make_tensorrt(version)
    engine(trt, generator, "fp16")
    assert called(trt, "get_engine_information") == [(trt.LayerInformationFormat.JSON,)]


def test_an_fp16_engine_without_fp16_layers_fails_loudly_and_is_not_cached(generator, exports, cache):
    trt = make_tensorrt("10.13.3.9", fp16_kernels=False)  # TensorRT timed FP32 faster everywhere
    with pytest.raises(ModelError, match="without a single FP16 layer") as err:
        engine(trt, generator, "fp16")
    assert "\n" not in str(err.value)
    assert list(cache.glob("*.engine")) == []
    engine(trt, generator, "fp32")  # fp32 is not checked
    assert len(called(trt, "get_engine_information")) == 1


def _layer(kind, *tensors):
    return {"Name": kind.lower(), "LayerType": kind, "Inputs": [], "Outputs": list(tensors)}


def test_half_layers_reads_both_inspector_schemas():
    fp16_10 = {"Name": "y", "Format/Datatype": "Channel major FP16 format where channel % 8 == 0"}
    fp16_11 = {"Name": "y", "Format": "Row major linear FP16 format (kLINEAR)", "DataType": "Half"}
    myelin = {"Name": "y", "Format/Datatype": "Half"}
    fp32_named_half = {"Name": "upper_half", "Format/Datatype": "Row major linear FP32 format"}
    info = {
        "Layers": [
            _layer("Reformat", fp16_10),  # only converts: not a layer computing in FP16
            _layer("CaskConvolution", fp32_named_half),
            _layer("Convolution10", fp16_10),
            _layer("Convolution11", fp16_11),
            _layer("kgen", myelin),
        ]
    }
    assert build.half_layers(json.dumps(info)) == ["convolution10", "convolution11", "kgen"]
    assert build.half_layers(json.dumps({"Layers": ["conv1", "conv2"]})) == []  # names only: no detail


# -- without TensorRT ----------------------------------------------------------------------------------


def test_missing_tensorrt_is_one_model_error_line(generator, monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorrt", None)  # `import tensorrt` raises ImportError
    from portrait_style.engine.backends.tensorrt_backend import TensorRTBackend

    for attempt in (versions.import_tensorrt, lambda: TensorRTBackend(generator, BackendSpec("tensorrt"))):
        with pytest.raises(ModelError, match="pip install tensorrt") as err:
            attempt()
        assert "\n" not in str(err.value) and "--backend torch" in str(err.value)


@pytest.mark.skipif(torch.cuda.is_available(), reason="here TensorRT may be available")
@pytest.mark.parametrize("with_fake", [False, True])
def test_the_backend_table_lists_tensorrt_as_unavailable_here(generator, monkeypatch, with_fake):
    if with_fake:  # TensorRT importable but no CUDA: still unavailable (engines run on torch CUDA tensors)
        monkeypatch.setitem(sys.modules, "tensorrt", make_tensorrt("10.13.3.9"))
    else:
        monkeypatch.setitem(sys.modules, "tensorrt", None)
    (row,) = [k for k in BACKENDS if k.name == "tensorrt"]
    assert not row.is_available() and row not in available_backends()
    assert set(row.options) == {"cuda_graphs", "max_batch", "max_side", "workspace_mb"}
    with pytest.raises(ModelError, match="not available"):
        load_backend(generator, BackendSpec("tensorrt"))
    assert BackendSpec("tensorrt", options={"workspace_mb": "512"}).options == {"workspace_mb": 512}
