"""Learn a style from examples: a CUT (contrastive unpaired translation) trainer for the engine's Generator.

    from portrait_style.trainer.config import TrainConfig
    from portrait_style.trainer.train import train

    style_file = train(TrainConfig(content_dir="photos/", style_dir="looks/", name="studio"))

Command line: `portrait-style train --help`; several GPUs: `torchrun --nproc_per_node N -m
portrait_style.trainer ...`. Files, one job each: config (settings), images / face_crops / augment / data
(the two image sets and their batches), networks / mobilenet (D, PatchNCE heads, perceptual backbone),
losses / diffaugment, cut_model (one training step), ema, distributed, interrupt, monitor, run_files
(checkpoints and run folder), train (the loop), cli.
"""
