"""The runtime's I/O mapping against a fake engine, with CPU tensors (no CUDA here).

Covered: TensorRT types -> torch dtypes, reading names, modes and profile ranges from the engine, and
`bind`: input shapes and addresses set, outputs allocated with the shape and type the context reports and
their addresses set; the fake context reads and writes those addresses, so a wrong address or size shows.
Not covered here (needs CUDA): `Engine` itself (deserialising on a device, its CUDA stream, the stream
ordering, CUDA graph capture and replay); `test_trt_real.py` runs it where TensorRT and a GPU are.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from portrait_style.engine.tensorrt import runtime
from portrait_style.errors import ModelError
from tests.engine.trt_tests.fake_tensorrt import called, make_tensorrt

FACES = [[1, 4, 4], [1, 4, 4], [2, 4, 4]]
PROFILE = {"image": [[1, 64, 64, 3], [1, 128, 128, 3], [2, 256, 256, 3]], "faces": FACES}


def fake_engine(trt, with_faces=True):
    profile = PROFILE if with_faces else {"image": PROFILE["image"]}
    built = json.dumps({"profile": profile, "half": False, "detailed": True}).encode()
    return trt.Runtime(trt.Logger(trt.Logger.WARNING)).deserialize_cuda_engine(built)


@pytest.mark.parametrize("version", ["10.13.3.9", "11.1.0.106"])
def test_tensor_io_reads_names_modes_types_and_ranges(version):
    trt = make_tensorrt(version)
    io = runtime.tensor_io(trt, fake_engine(trt))
    assert io.inputs == ("image", "faces") and io.outputs == ("styled",)
    assert io.dtypes == {"image": torch.uint8, "faces": torch.float32, "styled": torch.uint8}
    assert io.ranges == {"image": ((1, 64, 64, 3), (2, 256, 256, 3)), "faces": ((1, 4, 4), (2, 4, 4))}


def test_every_tensorrt_type_we_can_meet_has_a_torch_dtype():
    trt = make_tensorrt()
    for name, dtype in runtime.TORCH_DTYPES.items():
        assert runtime.torch_dtype(trt.DataType[name]) == dtype
    with pytest.raises(ModelError, match="FP8"):
        runtime.torch_dtype(trt.DataType.FP8)


def test_bind_sets_shapes_and_addresses_and_allocates_the_outputs():
    trt = make_tensorrt()
    engine = fake_engine(trt)
    io, context = runtime.tensor_io(trt, engine), engine.create_execution_context()
    image = torch.from_numpy(np.random.default_rng(0).integers(0, 256, (2, 64, 96, 3), dtype=np.uint8))
    faces = torch.zeros(2, 4, 4)
    faces[1, 0] = torch.tensor([0.1, -0.2, 0.5, 1.0])  # image 1 has a face: the fake leaves it unchanged
    outputs = runtime.bind(context, io, {"image": image, "faces": faces})
    styled = outputs["styled"]
    assert styled.shape == image.shape and styled.dtype == torch.uint8
    assert called(trt, "set_input_shape") == [("image", (2, 64, 96, 3)), ("faces", (2, 4, 4))]
    addresses = dict(called(trt, "set_tensor_address"))
    assert addresses == {"image": image.data_ptr(), "faces": faces.data_ptr(), "styled": styled.data_ptr()}
    assert context.execute_async_v3(0)
    assert torch.equal(styled[0], 255 - image[0]) and torch.equal(styled[1], image[1])


def test_a_shape_outside_the_profile_says_which_option_to_raise():
    trt = make_tensorrt()
    engine = fake_engine(trt, with_faces=False)
    io, context = runtime.tensor_io(trt, engine), engine.create_execution_context()
    with pytest.raises(ModelError, match="max_side or max_batch") as err:
        runtime.bind(context, io, {"image": torch.zeros(1, 1080, 1920, 3, dtype=torch.uint8)})
    assert "(2, 256, 256, 3)" in str(err.value) and "\n" not in str(err.value)


def test_bind_refuses_a_tensor_of_the_wrong_type_or_layout():
    trt = make_tensorrt()
    engine = fake_engine(trt, with_faces=False)
    io, context = runtime.tensor_io(trt, engine), engine.create_execution_context()
    with pytest.raises(ValueError, match="uint8"):
        runtime.bind(context, io, {"image": torch.zeros(1, 64, 64, 3)})
    with pytest.raises(ValueError, match="contiguous"):
        runtime.bind(context, io, {"image": torch.zeros(1, 64, 64, 3, dtype=torch.uint8).transpose(1, 2)})
