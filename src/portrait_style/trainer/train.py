"""Learn a style from examples: `train(cfg)` runs CUT on two image folders and writes a style file.

Reads top to bottom: settings and data, networks, (resume), the loop, the result. One process by
default; under `torchrun --nproc_per_node N -m portrait_style.trainer ...` every process trains on
its own batches and DistributedDataParallel averages the gradients; only rank 0 writes anything.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader

from portrait_style.config import FaceConfig
from portrait_style.engine.checkpoint import StyleMeta, save_style
from portrait_style.errors import ModelError
from portrait_style.hardware import cpu_name
from portrait_style.trainer import distributed, run_files
from portrait_style.trainer.config import TrainConfig, default_cache_dir, resolve, validate
from portrait_style.trainer.cut_model import CUTModel
from portrait_style.trainer.data import UnpairedBatches, load_set, sample_inputs, set_kinds
from portrait_style.trainer.images import find_images
from portrait_style.trainer.interrupt import StopOnInterrupt, ignore_sigint
from portrait_style.trainer.monitor import Monitor, make_grid

log = logging.getLogger(__name__)
# settings about this machine rather than the style: kept out of the style file's metadata
LOCAL_FIELDS = ("out_dir", "overwrite", "cache_dir", "device", "num_workers", "progress")


def train(cfg: TrainConfig, resume: bool = False) -> Path:
    """Train (or, with resume, continue training) and return the path of the deployable style file."""
    validate(cfg)  # the defaults that depend on the data are filled once the images are found (resolve)
    info = distributed.setup(cfg.device)
    try:
        path = _train(cfg, resume, info)
    except BaseException:
        distributed.teardown(clean=False)
        raise
    distributed.teardown()
    return path


def _train(cfg: TrainConfig, resume: bool, info: distributed.Dist) -> Path:
    t_start = time.perf_counter()
    progress = _progress_fn(cfg.progress and info.is_main)

    # -- settings and run folder ---------------------------------------------------------------------
    content_paths = find_images(cfg.content_dir, "content")
    style_paths = find_images(cfg.style_dir, "style")
    cfg = _resolve(cfg, content_paths, style_paths, info)
    run_dir = Path(cfg.out_dir)
    distributed.main_first(
        lambda: run_files.prepare_run_dir(run_dir, resume, cfg.overwrite), info, others_too=False
    )
    checkpoint = None
    if resume:
        checkpoint = run_files.load_checkpoint(run_files.checkpoint_path(run_dir))
        run_files.check_compatible(checkpoint["config"], cfg, run_files.checkpoint_path(run_dir))
    if cfg.family == "look":
        from portrait_style.look.train import train_look

        return train_look(cfg, info, checkpoint, content_paths, style_paths, t_start)

    # -- data ----------------------------------------------------------------------------------------
    content_kind, style_kind = set_kinds(cfg)
    content = distributed.main_first(
        lambda: load_set(cfg, "content", content_paths, content_kind, progress), info
    )
    style = distributed.main_first(lambda: load_set(cfg, "style", style_paths, style_kind, progress), info)
    if info.is_main:
        log.info(
            "content: %d %s from %d files; style: %d %s from %d files%s",
            len(content.images), content.kind, content.files, len(style.images), style.kind, style.files,
            " (few-shot)" if cfg.few_shot else "",
        )  # fmt: skip

    # -- networks ------------------------------------------------------------------------------------
    torch.manual_seed(cfg.seed)  # the same initial weights on every rank (DDP also broadcasts rank 0's)
    model = CUTModel(cfg, info.device, distributed=info.enabled)
    start_step, wall_before = 0, 0.0
    if checkpoint is not None:
        model.load_state_dict(checkpoint["model"])
        start_step, wall_before = int(checkpoint["step"]), float(checkpoint.get("wall_time_s", 0.0))
        if info.is_main:
            log.info("resuming %s at step %d of %d", run_dir, start_step, cfg.steps)
    if info.is_main:
        run_files.write_config(run_dir, cfg)
    if info.device.type == "cuda":
        torch.backends.cudnn.benchmark = True

    # -- the loop ------------------------------------------------------------------------------------
    loader = DataLoader(
        UnpairedBatches(content, style, cfg, rank=info.rank),
        batch_size=None,  # each item already is a whole batch
        sampler=range(start_step, cfg.steps),
        num_workers=_num_workers(cfg, info),
        pin_memory=info.device.type == "cuda",
        worker_init_fn=ignore_sigint,  # Ctrl-C is the main process's business (see interrupt.py)
    )
    fixed = sample_inputs(content, cfg.num_samples, cfg.size).to(info.device)
    monitor = Monitor(run_dir, cfg.steps, start_step, enabled=info.is_main, progress=cfg.progress)
    step, losses = start_step, {}
    t_loop = time.perf_counter()

    def wall_time() -> float:
        return wall_before + time.perf_counter() - t_start

    def save(final: bool) -> Path:
        """Checkpoint + style file from the current EMA weights (rank 0 writes, the others wait)."""
        if info.is_main:
            run_files.save_checkpoint(run_dir, step, model.state_dict(), cfg, wall_time())
            meta = _style_meta(cfg, step, info, content, style, wall_time(), losses, final)
            save_style(cfg.style_path(), model.ema.model, meta)
        distributed.barrier(info)
        return cfg.style_path()

    with StopOnInterrupt() as interrupt:
        for real_A, real_B in loader:
            torch.manual_seed(_step_seed(cfg.seed, info.rank, step))  # randomness is a function of the step
            lr = _lr_at(cfg, step)
            model.set_lr(lr)
            model.set_input(real_A, real_B)
            step_losses = model.optimize_parameters(step)
            step += 1
            logged, stop = end_of_step(
                cfg, info, monitor, step, step_losses, lr, lambda: _sample_grid(model, fixed), save, interrupt
            )
            losses = logged or losses
            if stop:
                break
    monitor.close()
    return finish(cfg, info, interrupt.requested, step, start_step, t_loop, save)


# -- helpers ------------------------------------------------------------------------------------------
def end_of_step(cfg, info, monitor, step, step_losses, lr, sample_grid, save, interrupt):
    """Bookkeeping after step `step` (both families): logs, a divergence check, sample grids,
    checkpoints. Returns (the losses as floats when logged else None, whether to stop now)."""
    monitor.step()
    log_now = step % cfg.log_every == 0 or step == cfg.steps
    losses = None
    if log_now:
        losses = {k: float(v) for k, v in step_losses.items()}
        if not all(np.isfinite(v) for v in losses.values()):
            raise ModelError(f"training diverged at step {step} (losses {losses}); try a lower --lr")
        monitor.scalars(step, losses, lr)
    if cfg.sample_every and (step % cfg.sample_every == 0 or step == cfg.steps):
        monitor.samples(step, sample_grid())
    if cfg.checkpoint_every and step % cfg.checkpoint_every == 0 and step < cfg.steps:
        save(final=False)
    # processes must stop at the same step, so in a multi-process run they agree at log steps
    stop = (log_now or not info.enabled) and not distributed.all_ok(not interrupt.requested, info)
    return losses, stop


def finish(cfg, info, interrupted: bool, step: int, start_step: int, t_loop: float, save) -> Path:
    """End of a run, for both families: save and stop on Ctrl-C, else save the final style file."""
    if interrupted and step < cfg.steps:
        save(final=False)
        if info.is_main:
            log.warning(
                "interrupted at step %d of %d; saved %s (continue with --resume)",
                step, cfg.steps, cfg.out_dir,
            )  # fmt: skip
        raise KeyboardInterrupt
    path = save(final=True)
    if info.is_main:
        seconds = time.perf_counter() - t_loop
        log.info(
            "trained %d steps in %.0f s (%.3f s/step); style written to %s",
            step - start_step, seconds, seconds / max(1, step - start_step), path,
        )  # fmt: skip
    return path


def _lr_at(cfg: TrainConfig, step: int) -> float:
    """Constant, then linear decay to zero over the last (1 - lr_decay_start) of the steps (as CUT)."""
    decay_from = int(cfg.lr_decay_start * cfg.steps)
    if step < decay_from:
        return cfg.lr
    return cfg.lr * (cfg.steps - step) / max(1, cfg.steps - decay_from)


def _step_seed(seed: int, rank: int, step: int) -> int:
    return int(np.random.SeedSequence([seed, rank, step, 0x5EED]).generate_state(1, np.uint64)[0] >> 1)


def _num_workers(cfg: TrainConfig, info: distributed.Dist) -> int:
    if cfg.num_workers is not None:
        return cfg.num_workers
    return 4 if info.device.type == "cuda" else 0  # on CPU the cores are better spent on the step itself


def _resolve(cfg: TrainConfig, content_paths, style_paths, info: distributed.Dist) -> TrainConfig:
    """`resolve`, the look preset 'auto' chosen from the style photos (look/auto_preset.py) and logged."""
    from portrait_style.look import auto_preset
    from portrait_style.look.data import face_checker

    why = ""

    def choose() -> str:
        nonlocal why
        has_face = face_checker(Path(cfg.cache_dir or default_cache_dir()), cfg.face_detector)
        preset, why = auto_preset.choose(style_paths, content_paths, has_face)
        return preset

    resolved = resolve(cfg, len(style_paths), choose)
    if info.is_main and cfg.family == "look" and resolved.look_preset != cfg.look_preset and why:
        log.info("look preset '%s': %s", resolved.look_preset, why)
    return resolved


def _progress_fn(enabled: bool):
    if not enabled:
        return iter
    from tqdm import tqdm

    return lambda items: tqdm(items, desc="reading images", unit="img", leave=False)


@torch.no_grad()
def _sample_grid(model: CUTModel, fixed: torch.Tensor) -> np.ndarray:
    model.netG.eval()
    try:
        rows = [fixed, model.netG.generate(fixed), model.ema.model.generate(fixed)]
    finally:
        model.netG.train()
    return make_grid(rows)


def _hardware(info: distributed.Dist) -> str:
    if info.device.type == "cuda":
        return f"{info.world_size} x {torch.cuda.get_device_name(info.device)}"
    return f"{info.world_size} x CPU process ({cpu_name()}, {torch.get_num_threads()} threads each)"


def style_meta(
    cfg, step, info, content, style, wall_time_s, losses, final, method, training=None, **fields
) -> StyleMeta:
    """The style file's header (both families): the run's names and licence, and what it says about how
    it was trained (`training`: family-specific entries; `fields`: other StyleMeta fields, e.g. arch)."""
    record = {
        "steps": step,
        "target_steps": cfg.steps,
        "completed": final and step >= cfg.steps,
        "batch_size": cfg.batch_size * info.world_size,
        "processes": info.world_size,
        "hardware": _hardware(info),
        "wall_time_s": round(wall_time_s, 1),
        "method": method,
        "data": {
            "content": {"source": cfg.content_dir, **content.summary()},
            "style": {"source": cfg.style_dir, **style.summary()},
        },
        "final_losses": {k: round(v, 6) for k, v in losses.items()},
        "config": {k: v for k, v in cfg.to_dict().items() if k not in LOCAL_FIELDS},
        **(training or {}),
    }
    return StyleMeta(
        name=cfg.name,
        resolution=cfg.size,
        mode=cfg.mode,
        description=cfg.description,
        license=cfg.license,
        attribution=cfg.attribution,
        training=record,
        **fields,
    )


def _style_meta(cfg, step, info, content, style, wall_time_s, losses, final) -> StyleMeta:
    gan = {"lsgan": "LSGAN", "hinge": "hinge"}[cfg.gan_loss]
    features = bool(cfg.perceptual_weights)  # the MobileNetV2 losses exist only with its weights
    method = (
        f"{cfg.method.upper()} (Park et al. 2020): PatchNCE x{cfg.lambda_nce:g}"
        f"{' + identity NCE' if cfg.nce_idt else ''}, {gan} PatchGAN"
        f"{' (spectral norm)' if cfg.spectral_norm else ''}"
        f"{f', DiffAugment {cfg.diffaugment}' if cfg.diffaugment else ''}"
        f"{f', L1 identity x{cfg.lambda_idt_l1:g}' if cfg.lambda_idt_l1 > 0 else ''}"
        f"{f', MobileNetV2 content x{cfg.lambda_perceptual:g}' if features and cfg.lambda_perceptual else ''}"
        f"{f', Gram style x{cfg.lambda_style:g}' if features and cfg.lambda_style else ''}"
        f"{', few-shot patches' if cfg.few_shot else ''}; EMA {cfg.ema_decay:g}"
    )
    extra = {"crop_scale": FaceConfig().crop_scale} if cfg.mode == "face" else None
    return style_meta(cfg, step, info, content, style, wall_time_s, losses, final, method, extra)
