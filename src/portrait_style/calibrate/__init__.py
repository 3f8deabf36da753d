"""`portrait-style calibrate`: what a style may run as on this machine, and how fast.

    precision.py   each reduced precision a backend row allows here, against FP32 on the same frames
                   (PSNR, largest error, NaN/Inf); the ONNX FP16 graph keeps overflowing nodes in FP32
    tuning.py      backend x accepted precision x threads x working size (or faces per batch), timed;
                   the best setting that reaches the target frame rate, else the fastest
    profile.py     the result saved per machine, weights and mode, and found again by `stylize`,
                   `stylize-video`, `live` and `bench` when their backend flags are left on auto
    timing.py      the timing code `bench` shares
    frames.py      the frames measured: --frames (folder, image or video), else synthetic portraits
    cli.py         the subcommand

Importing this package (or profile.py) imports neither torch nor onnxruntime.
"""
