"""Fit a look: `train(cfg)` with `family="look"` lands here.

Reads top to bottom: data, model, (resume), the loop, the result. Each step renders a batch of content
frames through the look and moves the distribution of their pixel features (look/objective.py) towards
the style set's, with Adam. Everything random in a step is drawn from generators seeded by (seed, rank,
step), so a resumed run repeats the uninterrupted one exactly. Under torchrun each process renders its
own batch and DistributedDataParallel averages the gradients; only rank 0 writes anything.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
import torch

from portrait_style.engine.checkpoint import save_style
from portrait_style.look import objective
from portrait_style.look.data import FrameSet, load_frames
from portrait_style.look.init import init_from_statistics
from portrait_style.look.model import ARCH_NAME, LookNet
from portrait_style.trainer import distributed, run_files
from portrait_style.trainer.config import TrainConfig
from portrait_style.trainer.interrupt import StopOnInterrupt
from portrait_style.trainer.monitor import Monitor, make_grid

log = logging.getLogger(__name__)
STYLE_POOL_PIXELS = 8192  # style pixels kept per style image (the pool each step samples from)
ROUGHNESS = 1e-2  # weight of the curve-smoothness prior


def look_net(cfg: TrainConfig) -> LookNet:
    """A new look model shaped by the run's look_* settings (family defaults and preset applied)."""
    return LookNet(
        grid=cfg.look_grid,
        uses_faces=cfg.look_faces,
        context=cfg.look_context,
        context_colour=cfg.look_context_colour,
        chroma=cfg.look_chroma,
        local=cfg.look_local,
        regions=cfg.look_regions,
        adaptive=cfg.look_adaptive,
        levels=cfg.look_levels,
    )


class _Render(torch.nn.Module):
    """The look's float graph as `forward`, so DistributedDataParallel can wrap it."""

    def __init__(self, net: LookNet):
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor, faces: torch.Tensor | None) -> torch.Tensor:
        return self.net.render(x.permute(0, 2, 3, 1), faces).permute(0, 3, 1, 2)


def train_look(
    cfg: TrainConfig, info: distributed.Dist, checkpoint: dict | None, content_paths, style_paths, t_start
) -> Path:
    """The run folder is ready and `checkpoint` (when resuming) read: trainer/train.py did both."""
    from portrait_style.trainer.train import _lr_at, _progress_fn, _step_seed, end_of_step, finish

    progress = _progress_fn(cfg.progress and info.is_main)
    run_dir = Path(cfg.out_dir)

    # -- data ----------------------------------------------------------------------------------------
    find_faces = cfg.look_faces or cfg.look_init == "face-statistics"

    def load(role: str, paths) -> FrameSet:
        source = cfg.content_dir if role == "content" else cfg.style_dir
        return load_frames(
            paths, role, source, cfg.size, find_faces, Path(cfg.cache_dir), cfg.face_detector, progress
        )

    content = distributed.main_first(lambda: load("content", content_paths), info)
    style = distributed.main_first(lambda: load("style", style_paths), info)
    device = info.device
    content_images = content.images.to(device)
    content_faces = content.faces.to(device) if cfg.look_faces else None
    weights = _weights(cfg, content, style)
    cut = _zones(cfg)
    pool = _style_pool(style, content, cfg.seed, weights, cfg.look_faces, cut).to(device)
    if info.is_main:
        log.info(
            "look: %d content frames, %d style frames (%d style pixels in the pool)%s%s",
            len(content.images), len(style.images), len(pool), ", faces on" if cfg.look_faces else "",
            _ends_note(weights),
        )  # fmt: skip

    # -- model ---------------------------------------------------------------------------------------
    torch.manual_seed(cfg.seed)
    net = look_net(cfg).to(device)
    if cfg.look_init != "identity" and checkpoint is None:
        seeded = torch.Generator().manual_seed(cfg.seed)
        regions = (content.faces, style.faces) if cfg.look_init == "face-statistics" else (None, None)
        start = init_from_statistics(net, content.images, style.images, seeded, *regions)
        if info.is_main:
            log.info("look: started from the sets' statistics (%s): %s", cfg.look_init, start)
    render = _Render(net)
    if info.enabled:
        render = torch.nn.parallel.DistributedDataParallel(render)
    optimizer = torch.optim.Adam(net.parameters(), lr=cfg.lr, betas=(0.9, 0.99))
    start_step, wall_before = 0, 0.0
    if checkpoint is not None:
        net.load_state_dict(checkpoint["model"]["look"])
        optimizer.load_state_dict(checkpoint["model"]["optimizer"])
        start_step, wall_before = int(checkpoint["step"]), float(checkpoint.get("wall_time_s", 0.0))
    if info.is_main:
        run_files.write_config(run_dir, cfg)

    # -- the loop ------------------------------------------------------------------------------------
    picks = np.linspace(0, len(content_images) - 1, min(cfg.num_samples, len(content_images))).round()
    picks = torch.from_numpy(picks.astype(np.int64)).to(device)  # sample grids: spread over the set
    fixed = content_images[picks]
    fixed_faces = None if content_faces is None else content_faces[picks]
    monitor = Monitor(run_dir, cfg.steps, start_step, enabled=info.is_main, progress=cfg.progress)
    step, losses = start_step, {}
    t_loop = time.perf_counter()

    def state() -> dict:
        return {"look": net.state_dict(), "optimizer": optimizer.state_dict()}

    def save(final: bool) -> Path:
        if info.is_main:
            wall = wall_before + time.perf_counter() - t_start
            run_files.save_checkpoint(run_dir, step, state(), cfg, wall)
            save_style(
                cfg.style_path(),
                net,
                _style_meta(cfg, step, info, content, style, wall, losses, final, weights),
            )
        distributed.barrier(info)
        return cfg.style_path()

    def grid() -> np.ndarray:
        return _sample_grid(net, fixed, fixed_faces)

    with StopOnInterrupt() as interrupt:
        while step < cfg.steps:
            gen = torch.Generator().manual_seed(_step_seed(cfg.seed, info.rank, step))
            lr = _lr_at(cfg, step)
            for group in optimizer.param_groups:
                group["lr"] = lr
            # the whole content set when it fits in a batch (no noise from which people were drawn)
            idx = torch.randperm(len(content_images), generator=gen)[: cfg.batch_size].to(device)
            faces = None if content_faces is None else content_faces[idx]
            out = render(content_images[idx], faces)
            feats, zones = objective.sample_pixels(
                objective.pixel_features(out, faces, weights), cfg.look_pixels, gen, cut
            )
            sw = objective.look_distance(feats, zones, pool, cfg.look_projections, gen)
            terms = {"SW": sw.detach()}
            loss = sw + ROUGHNESS * objective.curve_roughness(net)
            if pool.bands is not None:  # local contrast, scale by scale
                bands = objective.band_distance(out, pool.bands, pool.slack)
                terms["bands"] = bands.detach()
                loss = loss + objective.BAND_WEIGHT * bands
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            step += 1
            logged, stop = end_of_step(cfg, info, monitor, step, terms, lr, grid, save, interrupt)
            losses = logged or losses
            if stop:
                break
    monitor.close()
    return finish(cfg, info, interrupt.requested, step, start_step, t_loop, save)


def _weights(cfg: TrainConfig, content: FrameSet, style: FrameSet) -> dict[str, float]:
    """The feature groups' weights, and where image statistics are matched, how much of each photo's
    ends of range (`objective.ends_weight`: only as far as the style photos agree on them)."""
    weights = objective.feature_weights(cfg.look_position, cfg.look_match)
    if weights["stats"]:
        weights["ends"] = objective.ends_weight(content.images, style.images)
    return weights


def _ends_note(weights: dict[str, float]) -> str:
    """The ends' weight in words, for the log and the style card ('' where statistics are not matched)."""
    return f", each photo's ends of range at weight {weights['ends']:.2f}" if "ends" in weights else ""


def _zones(cfg: TrainConfig) -> int:
    """Side of the zone cut the loss matches zone by zone: 1 (none) where frame position is not matched."""
    return (
        cfg.look_zones if objective.feature_weights(cfg.look_position, cfg.look_match)["position"] > 0 else 1
    )


def _style_pool(
    style: FrameSet, content: FrameSet, seed: int, weights: dict, faces: bool, cut: int
) -> objective.StylePixels:
    """Feature vectors of up to STYLE_POOL_PIXELS random pixels of every style frame, with their zones,
    and the frames' mean band energies when local contrast (the detail group) is matched."""
    gen = torch.Generator().manual_seed(seed)
    rows, zones = [], []
    with torch.no_grad():
        for start in range(0, len(style.images), 16):
            images = style.images[start : start + 16]
            table = style.faces[start : start + 16] if faces else None
            feats = objective.pixel_features(images, table, weights)
            count = min(STYLE_POOL_PIXELS, feats.shape[2] * feats.shape[3])
            picked, zone = objective.sample_pixels(feats, count, gen, cut)
            rows.append(picked)
            zones.append(zone)
    pool = (torch.cat(rows), torch.cat(zones), cut)
    if not weights["detail"]:
        return objective.StylePixels(*pool)
    with torch.no_grad():
        bands = torch.cat([objective.band_energies(images) for images in style.images.split(16)])
        plain = torch.cat([objective.band_energies(images) for images in content.images.split(16)])
    return objective.StylePixels(*pool, bands.mean(0), objective.band_slack(plain, bands))


@torch.no_grad()
def _sample_grid(net: LookNet, fixed: torch.Tensor, faces: torch.Tensor | None) -> np.ndarray:
    out = net.render(fixed.permute(0, 2, 3, 1), faces).permute(0, 3, 1, 2).clamp(0, 1)
    return make_grid([fixed * 2 - 1, out * 2 - 1])


def _describe(cfg: TrainConfig) -> str:
    """What the trained look can do, in words, from the settings that shaped it."""
    parts = ["pixelwise tone curves and colour"]
    if cfg.look_regions:
        parts.append("one colour function for the faces and one for the backdrop")
    if cfg.look_chroma:
        parts.append("a saturation mix")
    if cfg.look_local:
        where = "local context, frame position" if cfg.look_context else "frame position"
        parts.append(f"place-dependent light from {where}{', face position' if cfg.look_faces else ''}")
    if cfg.look_adaptive:
        parts.append("weights adapted to each image's statistics")
    if cfg.look_levels:
        parts.append("a levels stretch of each image's range")
    return "; ".join(parts)


def _style_meta(cfg, step, info, content, style, wall_time_s, losses, final, weights):
    from portrait_style.trainer.train import style_meta

    zones = _zones(cfg)
    method = (
        f"look model ({_describe(cfg)}), fitted unpaired by sliced-Wasserstein matching of pixel features"
        + f" ({cfg.look_match}{_ends_note(weights)}; {cfg.look_projections} projections,"
        + f" {cfg.look_pixels} pixels per image"
        + (f"; also in each of {zones} x {zones} zones of the frame)" if zones > 1 else ")")
    )
    if weights["detail"]:
        method += f" and of the sets' mean local contrast in {len(objective.BANDS)} bands of scale"
    if cfg.look_init != "identity":
        where = (
            "the skin and the backdrop around detected faces"
            if cfg.look_init == "face-statistics"
            else "whole images"
        )
        method = f"{method}, started from the two sets' colour statistics ({where})"
    return style_meta(cfg, step, info, content, style, wall_time_s, losses, final, method, arch=ARCH_NAME)
