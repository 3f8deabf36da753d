"""What a run leaves in its folder, written atomically:

    <run>/config.toml            the resolved settings (re-run with `train --config`)
    <run>/checkpoints/last.pt    everything needed to resume: networks, EMA, optimizers, step, settings
    <run>/<name>.safetensors     the deployable style (EMA generator + metadata)
    <run>/samples/step_N.png     sample grids;  <run>/tb/  TensorBoard logs

Checkpoints hold only tensors and plain containers and are read with torch.load(weights_only=True),
so opening one never runs pickled code. There is no RNG state in them on purpose: every step reseeds
from (seed, rank, step) (see train.py), so the step number is all a resumed run needs to draw exactly
the random numbers the uninterrupted run would have.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import replace
from pathlib import Path

import torch

from portrait_style.errors import InputError, OutputError
from portrait_style.fileutil import atomic_path
from portrait_style.trainer.config import TrainConfig, dump_toml

CHECKPOINT_FORMAT = 1
# settings a checkpoint's tensors depend on: a resumed run must not change them
SHAPE_FIELDS = (
    "family", "look_faces", "look_grid", "look_context", "look_context_colour", "look_chroma", "look_local",
    "look_regions", "look_adaptive", "look_levels", "mode", "size",
    "gen_channels",
    "gen_blocks", "gen_expansion", "d_channels", "d_layers", "spectral_norm", "nce_layers", "nce_dim",
)  # fmt: skip
# what a shape field meant in a run saved before the field existed
ABSENT_MEANS = {"look_levels": False, "look_context_colour": True}


def checkpoint_path(run_dir: Path) -> Path:
    return run_dir / "checkpoints" / "last.pt"


def prepare_run_dir(run_dir: Path, resume: bool, overwrite: bool = False) -> None:
    """Create the run folder and prove it is writable, before any slow work."""
    try:
        (run_dir / "checkpoints").mkdir(parents=True, exist_ok=True)
        probe = run_dir / ".write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise OutputError(f"cannot write to output folder {run_dir}: {exc.strerror or exc}") from None
    ckpt = checkpoint_path(run_dir)
    if resume and not ckpt.is_file():
        raise InputError(f"nothing to resume: no checkpoint at {ckpt}")
    if not resume and ckpt.is_file():
        if not overwrite:
            raise OutputError(
                f"{run_dir} already holds a training run: pass --resume to continue it, --overwrite to"
                " start again, or choose another --name / --out-dir"
            )
        # the folder is a run of ours (it has our checkpoint), so its artefacts are ours to clear
        ckpt.unlink()
        for folder in ("tb", "samples"):
            shutil.rmtree(run_dir / folder, ignore_errors=True)


def write_config(run_dir: Path, cfg: TrainConfig) -> Path:
    path = run_dir / "config.toml"
    with atomic_path(path) as tmp:  # overwrite is an action, not a setting: re-running the file must not wipe
        tmp.write_text(dump_toml(replace(cfg, overwrite=False)), encoding="utf-8")
    return path


def save_checkpoint(
    run_dir: Path, step: int, model_state: dict, cfg: TrainConfig, wall_time_s: float
) -> Path:
    path = checkpoint_path(run_dir)
    state = {
        "format": CHECKPOINT_FORMAT,
        "step": step,
        "wall_time_s": wall_time_s,
        "config": cfg.to_dict(),
        "model": model_state,
    }
    with atomic_path(path) as tmp:
        torch.save(state, tmp)
    return path


def load_checkpoint(path: str | os.PathLike) -> dict:
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - truncated file, foreign pickle, ...: one clear line
        raise InputError(f"cannot read checkpoint {path}: {str(exc).splitlines()[0][:200]}") from None
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise InputError(f"{path} is not a portrait-style training checkpoint (format {CHECKPOINT_FORMAT})")
    return state


def check_compatible(saved: dict, cfg: TrainConfig, path: Path) -> None:
    """A resumed run may change steps, lr, logging...; not anything the saved tensors' shapes depend on."""
    current = cfg.to_dict()
    diffs = [
        f"{k}: {saved.get(k, ABSENT_MEANS.get(k))!r} -> {current[k]!r}"
        for k in SHAPE_FIELDS
        if _norm(saved.get(k, ABSENT_MEANS.get(k))) != _norm(current[k])
    ]
    if diffs:
        raise InputError(f"cannot resume {path} with changed settings ({'; '.join(diffs)})")


def _norm(value):
    return list(value) if isinstance(value, (list, tuple)) else value
