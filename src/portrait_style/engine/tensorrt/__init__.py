"""TensorRT 10/11 engines for styles: the version gate, building, the engine cache, and running them.

    versions.py  what differs between TensorRT 10 and 11 (builder flags, which ONNX graph)
    build.py     optimisation profiles, ONNX -> engine, the check that fp16 really is FP16
    cache.py     engines and the timing cache on disk, keyed by everything an engine depends on
    runtime.py   a deserialized engine run on torch CUDA tensors (the only module that needs torch)

`backends/tensorrt_backend.py` puts them together behind the Backend interface. Nothing here imports
`tensorrt` itself: the caller passes the module in (`versions.import_tensorrt()`), so tests pass a fake.
"""
