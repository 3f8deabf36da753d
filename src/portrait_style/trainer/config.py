"""Training settings: one frozen dataclass, its defaults, and its round trip through TOML files.

`TrainConfig` is what `train()` takes. Fields left as None or "auto" are decided once the data has
been scanned (`resolve`); the resolved copy is what the run directory and checkpoints record, so a run
can be repeated or resumed from its `config.toml` alone.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

from portrait_style.errors import InputError

FEW_SHOT_MAX = 10  # a style folder with this many images or fewer is learned from patches (few-shot)
DIFFAUGMENT_MAX = 1000  # style sets smaller than this get DiffAugment on the discriminator's inputs

FAMILIES = ("look", "generator")
LOOK_INITS = ("identity", "statistics", "face-statistics")
# What each model family assumes when a setting is left unset (None): a look is fitted in minutes on
# whole frames; the generator is a GAN over face crops that wants a GPU and many steps.
FAMILY_DEFAULTS = {
    # a look: small frames, but many of them per step, so each step compares the whole content set (not
    # a few people) with the style set; measured on the look benchmark: batch 8 at 128 px ~26 dB, the
    # whole set (76) at 64 px 30.8 dB, in about a minute on 2 CPU cores
    "look": {"mode": "frame", "size": 64, "steps": 400, "batch_size": 64, "lr": 5e-3},
    "generator": {"mode": "face", "size": 256, "steps": 20000, "batch_size": 4, "lr": 2e-4},
}

# What a look is made of, by the kind of style photos (`look_preset`); a look_* setting given explicitly
# wins. Chosen 2026-11-29 on the built-in styles and the ground-truth benchmark (benchmarks/RESULTS.md).
LOOK_PRESETS = {
    # the style photos show the same kind of shot as yours (same people, backdrops and framing, graded):
    # every part, fitted from the identity (the ground-truth benchmark, three seeds: 30.0-34.9 dB with
    # MATCHED_SCALE; 29.1-33.8 before it). The
    # saturation mix too since 2026-11-30: same-seed runs with it against without, local-contrast +0.9 to
    # +1.2 dB over three seeds, faded-warm +1.4 / +0.5, auto-levels -0.2 to +0.5, teal-orange-film -0.7
    # to +0.7, face-light -0.8 on one; it costs 2.8 ms at 1080p on the CPU (17.1 -> 19.9 ms,
    # benchmarks/RESULTS.md). The context in luma since 2026-12-01 (three seeds each, mean dB against
    # colour: local-contrast 30.57 / 30.45, teal-orange-film 30.70 / 30.30, auto-levels 32.98 / 32.65,
    # faded-warm 34.78 / 34.52, face-light 32.87 / 33.01, within its seeds' spread; thirteenth round)
    "matched": {
        "look_faces": False, "look_position": 0.5,
        "look_match": "colour,position,surround,detail,stats,faces", "look_context": True,
        "look_context_colour": False, "look_chroma": True, "look_init": "identity", "look_regions": False,
        "look_adaptive": True, "look_local": True, "look_zones": 3, "look_levels": True,
    },
    # a grade from photos of other people or scenes: one colour function from the sets' statistics,
    # colours matched, a saturation mix (the built-in `mono`); on such sets "matched" drew halos
    "grade": {
        "look_faces": False, "look_position": 0.0, "look_match": "colour", "look_context": False,
        "look_context_colour": True, "look_chroma": True, "look_init": "statistics", "look_regions": False,
        "look_adaptive": False, "look_local": True, "look_zones": 1, "look_levels": False, "look_grid": 16,
    },
    # portraits of other people before other backdrops, or one portrait: a colour function for the skin
    # and one for the backdrop, blended around each face (the built-in `studio` and `high-key`)
    "portraits": {
        "look_faces": True, "look_position": 0.0, "look_match": "colour,faces", "look_context": False,
        "look_context_colour": True, "look_chroma": False, "look_init": "face-statistics",
        "look_regions": True, "look_adaptive": False, "look_local": False, "look_zones": 1,
        "look_levels": False, "look_grid": 16,
    },
}  # fmt: skip
# A "matched" look's training size and grid side, by whether it reads faces (`look_faces`). Without faces:
# trained at 96² (at 64² one 4-pixel block of the model is 6 % of the frame's side, too coarse for the
# local contrast and glow these looks learn) on a 32 x 32 grid. Measured on the look benchmark (three
# seeds, mean dB, against 64² and a 16 grid; benchmarks/RESULTS.md, twelfth round): local-contrast 30.45
# (29.65), teal-orange-film 30.30 (29.55), auto-levels 32.65 (30.83), faded-warm 34.52 (33.69), every seed
# of those four over 30; about 1.6x the training time. With faces the 64² and 16 stay: face-light on 96²
# and 32 collapsed on one seed of three with the context in colour (24.4 dB, blocky patches on the faces;
# 33.7 and 33.2 on the others); in luma (the thirteenth round) it did not (32.92 / 32.70 / 32.57), but
# gained nothing over 64² and 16 (32.87 on the mean) in twice the time.
MATCHED_SCALE = {False: {"size": 96, "look_grid": 32}, True: {"size": 64, "look_grid": 16}}
# The default: the preset is chosen from the style photos when training starts (`resolve`,
# look/auto_preset.py): "matched" for photos of the content's kind of shot (for one still: a graded frame
# of the content's own shot), else "portraits" when both sides show faces; else "matched" for a set,
# "grade" for one still. One portrait of someone else fitted as "matched" turned the content's white
# shirts and backdrop dark and the faces' shadows purple (2026-11-30, one Congress portrait for 40
# London faces).
AUTO_PRESET = "auto"
PRESET_NAMES = (AUTO_PRESET, *LOOK_PRESETS)

# CUT and FastCUT (Park et al. 2020, sec. 4): FastCUT drops the identity NCE term and weights NCE up.
METHOD_DEFAULTS = {
    "cut": {"lambda_nce": 1.0, "nce_idt": True},
    "fastcut": {"lambda_nce": 10.0, "nce_idt": False},
}


def _f(default, help: str):  # noqa: A002 - `help` reads best next to argparse
    if isinstance(default, (list, tuple)):
        return field(default=tuple(default), metadata={"help": help})
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class TrainConfig:
    # -- data -----------------------------------------------------------------------------------------
    content_dir: str = _f("", "photos to restyle (domain A): a folder (searched recursively) or a .txt list")
    style_dir: str = _f(
        "", "examples of the look (domain B): a folder, a .txt list of image paths, or one image (a still)"
    )
    name: str = _f("style", "style name; also the file name of the result")
    out_dir: str | None = _f(None, "run folder (default runs/<name>)")
    family: str = _f(
        "look",
        "what to learn: 'look' for photographic looks (grade, tone curve, film stock, vignette, glow, local"
        " contrast, light on the face): fitted unpaired in minutes on a CPU, runs on whole frames at full"
        " resolution, cannot alter faces; 'generator' for paintings and textures (brush strokes): a CUT GAN"
        " on face crops or frames, wants a GPU and many steps",
    )
    overwrite: bool = _f(
        False, "start afresh in an out_dir that holds a run (its checkpoint, logs, samples go)"
    )
    mode: str | None = _f(
        None, "'face': aligned face crops, 'frame': whole frames (default: frame for a look, face otherwise)"
    )
    size: int | None = _f(
        None,
        "training resolution, square side, multiple of 4 (default: look 64, 96 with the"
        " matched preset unless it reads faces; generator 256)",
    )
    few_shot: bool | None = _f(
        None, "learn from patches of 1-10 exemplars (default: when <= 10 style images)"
    )
    cache_dir: str | None = _f(None, "face-crop cache (default $XDG_CACHE_HOME/portrait-style/crops)")
    face_detector: str = _f("auto", "face detector for face mode: auto | mtcnn | yunet | haar")
    # -- optimisation ---------------------------------------------------------------------------------
    steps: int | None = _f(None, "training steps (default: look 400, generator 20000)")
    batch_size: int | None = _f(
        None, "images per step per process (default: look 64, at most the set, generator 4)"
    )
    lr: float | None = _f(None, "Adam learning rate (default: look 5e-3; generator 2e-4 for G, D, NCE heads)")
    lr_decay_start: float = _f(0.5, "fraction of the steps after which lr decays linearly to 0")
    beta1: float = _f(0.5, "Adam beta1")
    beta2: float = _f(0.999, "Adam beta2")
    seed: int = _f(0, "random seed")
    # -- the look family ------------------------------------------------------------------------------
    look_preset: str = _f(
        AUTO_PRESET,
        "look: what the style photos are, which sets the look_* settings left unset: 'matched' (the same"
        " kind of shot as yours, graded), 'grade' (photos of other people or scenes: a colour grade),"
        " 'portraits' (portraits of other people and backdrops, or one portrait: light on the face, another"
        " tone behind it); 'auto' (default): 'matched' when the style photos show your kind of shot (for one"
        " still: a graded frame of it), else 'portraits' when both sides show faces, else 'matched' for a set"
        " and 'grade' for one still",
    )
    look_faces: bool | None = _f(
        None, "look: light that follows the faces (detects faces in training and at run time)"
    )
    look_position: float | None = _f(
        None,
        "look: weight of frame position when matching the style (0 for a style still of another kind of"
        " scene, e.g. a landscape for portraits: the look is then the same all over the frame)",
    )
    look_match: str | None = _f(
        None,
        "look: what is matched with the style photos, comma-separated: colour and any of position,"
        " surround, detail (local contrast), stats (per-image adaptation), faces; for style photos of other"
        " people or scenes, 'colour' alone is the robust choice",
    )
    look_context: bool | None = _f(
        None,
        "look: local changes may depend on the surrounding colours (glow, local contrast); --no-look-context"
        " keeps them to smooth fields of position, faces and image statistics (no halos; for style photos"
        " of other people or scenes)",
    )
    look_context_colour: bool | None = _f(
        None,
        "look: the surroundings read in colour; --no-look-context-colour: in luma only (the tone around a"
        " pixel, not its hue: carries better to people more colourful than the training photos)",
    )
    look_chroma: bool | None = _f(
        None,
        "look: a last per-image saturation mix (luma kept, chroma scaled): a greyscale or strongly"
        " (de)saturated look is one parameter away",
    )
    look_init: str | None = _f(
        None,
        "look: start from the 'identity' or from the two sets' 'statistics' (a tone curve matching their"
        " luma, saturation and toning from their chroma: a classical colour transfer to refine);"
        " 'face-statistics' takes them from the skin around detected faces only (style photos of other"
        " backdrops)",
    )
    look_regions: bool | None = _f(
        None,
        "look: a face region and a background region, each with its own colour function, blended by a"
        " soft field around each face (a key light on the face, another tone behind it); needs --look-faces",
    )
    look_adaptive: bool | None = _f(
        None,
        "look: colour functions that follow each image's statistics (auto levels, exposure);"
        " --no-look-adaptive: the same for every frame (steadier; for style photos unlike yours)",
    )
    look_local: bool | None = _f(
        None,
        "look: place-dependent gain and offset (vignette, light on the face, glow); --no-look-local: one"
        " colour function per image, the same all over the frame (style photos framed unlike yours)",
    )
    look_zones: int | None = _f(
        None,
        "look: the frames cut into N x N zones, each matched with the same zone of the style photos as well"
        " as the whole frame (with look_position > 0): 3 for sets framed alike, such as aligned portraits;"
        " 1 (no zones) for sets laid out at random, whose zones differ by chance",
    )
    look_levels: bool | None = _f(
        None,
        "look: each image's darkest and brightest colours stretched towards a learned range by a learned"
        " amount before the colour functions (auto levels that carry better to photos unlike the training"
        " sets); --no-look-levels: none",
    )
    look_grid: int | None = _f(None, "look: side of the frame-relative context grid (default: by preset)")
    # 64 rather than 128: the same looks in 55-60 % of the time (the look benchmark, 2026-11-30, means of
    # three seeds: auto-levels 30.53 dB against 30.46, face-light 33.31 / 33.31, faded-warm 32.88 / 32.67,
    # local-contrast 28.60 / 28.42, teal-orange-film 29.66 / 29.65; 2.0-3.0 min a look against 3.6-5.0);
    # 32 moved single runs by -0.41 to +0.71 dB from 64's (benchmarks/RESULTS.md, tenth round)
    look_pixels: int = _f(64, "look: pixels per image compared with the style set at each step")
    look_projections: int = _f(128, "look: random projections of the sliced-Wasserstein distance")
    # -- objective (generator) ------------------------------------------------------------------------
    method: str = _f("cut", "'cut' or 'fastcut' (sets the NCE defaults below)")
    gan_loss: str = _f("lsgan", "adversarial loss: lsgan | hinge")
    lambda_gan: float = _f(1.0, "weight of the adversarial loss")
    lambda_nce: float | None = _f(None, "weight of PatchNCE (default: 1 for cut, 10 for fastcut)")
    nce_idt: bool | None = _f(None, "identity NCE on style images (default: on for cut, off for fastcut)")
    nce_layers: tuple[int, ...] = _f((0, 1, 2, 3, 6), "indices into Generator.encode() used by PatchNCE")
    nce_patches: int = _f(256, "patch locations sampled per layer")
    nce_dim: int = _f(256, "output width of the PatchNCE MLP heads")
    nce_temperature: float = _f(0.07, "PatchNCE temperature")
    lambda_idt_l1: float = _f(0.0, "weight of an L1 identity loss |G(style) - style|")
    lambda_perceptual: float = _f(1.0, "weight of the MobileNetV2 content loss (needs perceptual_weights)")
    lambda_style: float = _f(
        0.0, "weight of the MobileNetV2 Gram style loss vs the style images (needs perceptual_weights)"
    )
    perceptual_weights: str | None = _f(
        None, "torchvision mobilenet_v2-b0353104.pth; enables the content and style losses"
    )
    diffaugment: str = _f("auto", "DiffAugment policy, e.g. 'color,translation,cutout'; 'none'; or 'auto'")
    # -- networks -------------------------------------------------------------------------------------
    gen_channels: tuple[int, ...] = _f((16, 32, 64), "generator widths at 1, 1/2, 1/4 resolution")
    gen_blocks: int = _f(6, "generator body blocks")
    gen_expansion: int = _f(4, "generator inverted-residual expansion")
    init_weights: str | None = _f(
        None, "start the generator from this style checkpoint (fine-tuning, or an identity warm-up)"
    )
    d_channels: int = _f(64, "discriminator base width")
    d_layers: int = _f(3, "discriminator stride-2 layers (3: 70x70 patches)")
    spectral_norm: bool = _f(True, "spectral norm in the discriminator (otherwise instance norm)")
    ema_decay: float = _f(0.999, "decay of the generator's exponential moving average (what is saved)")
    # -- bookkeeping ----------------------------------------------------------------------------------
    sample_every: int = _f(500, "steps between sample grids (PNG + TensorBoard); 0: never")
    checkpoint_every: int = _f(1000, "steps between resumable checkpoints; 0: only at the end")
    log_every: int = _f(10, "steps between TensorBoard scalars")
    num_samples: int = _f(4, "content images in each sample grid")
    progress: bool = _f(True, "show a progress bar")
    device: str = _f("auto", "auto | cpu | cuda | cuda:N")
    amp: str = _f("auto", "mixed precision on CUDA: auto | bf16 | fp16 | off")
    num_workers: int | None = _f(None, "data-loading worker processes (default: 0 on CPU, 4 on CUDA)")
    # -- what the style file says about itself --------------------------------------------------------
    license: str = _f("", "licence of the training data / resulting weights")
    attribution: str = _f("", "credit for the training data")
    description: str = _f("", "one line describing the look")

    def run_dir(self) -> Path:
        return Path(self.out_dir) if self.out_dir else Path("runs") / self.name

    def style_path(self) -> Path:
        return self.run_dir() / f"{self.name}.safetensors"

    def to_dict(self) -> dict:
        return asdict(self)


def with_family_defaults(cfg: TrainConfig) -> TrainConfig:
    """Fill the settings left unset with the defaults of the chosen model family and look preset."""
    if cfg.family not in FAMILY_DEFAULTS:
        raise InputError(f"family must be one of {', '.join(FAMILIES)}: '{cfg.family}'")
    if cfg.look_preset not in PRESET_NAMES:
        raise InputError(f"look_preset must be one of {', '.join(PRESET_NAMES)}: '{cfg.look_preset}'")
    # 'auto' before the style photos are counted (checking flags): read as the set's preset
    preset = "matched" if cfg.look_preset == AUTO_PRESET else cfg.look_preset
    defaults = FAMILY_DEFAULTS[cfg.family] | LOOK_PRESETS[preset]
    if preset == "matched":
        faces = defaults["look_faces"] if cfg.look_faces is None else cfg.look_faces
        scale = MATCHED_SCALE[bool(faces)]
        defaults |= scale if cfg.family == "look" else {"look_grid": scale["look_grid"]}
    unset = {k: v for k, v in defaults.items() if getattr(cfg, k) is None}
    return replace(cfg, **unset)


def _match_ok(match: str) -> bool:
    from portrait_style.look.objective import feature_weights

    try:
        feature_weights(0.5, match)
    except ValueError:
        return False
    return True


def validate(cfg: TrainConfig) -> None:
    """Reject settings that cannot work, with one line each, before anything slow happens."""
    from portrait_style.engine.style_meta import SIZE_MULTIPLE
    from portrait_style.trainer.diffaugment import check_policy

    cfg = with_family_defaults(cfg)
    checks = [
        (cfg.mode in ("face", "frame"), f"mode must be 'face' or 'frame', not '{cfg.mode}'"),
        (
            cfg.family != "look" or cfg.mode == "frame",
            "a look runs on the whole frame: drop --mode face (or train --family generator)",
        ),
        (
            not cfg.look_faces or cfg.family == "look",
            "look_faces belongs to the look family (--family look)",
        ),
        (cfg.look_grid >= 4, f"look_grid must be >= 4: {cfg.look_grid}"),
        (1 <= cfg.look_zones <= 8, f"look_zones must be in 1..8: {cfg.look_zones}"),
        (not cfg.look_regions or cfg.look_faces, "look_regions needs look_faces (--look-faces)"),
        (
            cfg.look_init in LOOK_INITS,
            f"look_init must be one of {', '.join(LOOK_INITS)}: '{cfg.look_init}'",
        ),
        (0.0 <= cfg.look_position <= 10.0, f"look_position must be in [0, 10]: {cfg.look_position}"),
        (
            _match_ok(cfg.look_match),
            f"look_match takes colour and any of position, surround, detail, stats,"
            f" faces: '{cfg.look_match}'",
        ),
        (
            cfg.look_pixels >= 16 and cfg.look_projections >= 1,
            "look_pixels must be >= 16 and look_projections >= 1",
        ),
        (
            cfg.size >= 32 and cfg.size % SIZE_MULTIPLE == 0,
            f"size must be >= 32 and a multiple of 4: {cfg.size}",
        ),
        (cfg.steps >= 1, f"steps must be >= 1: {cfg.steps}"),
        (cfg.batch_size >= 1, f"batch_size must be >= 1: {cfg.batch_size}"),
        (cfg.lr > 0 and math.isfinite(cfg.lr), f"lr must be positive: {cfg.lr}"),
        (cfg.method in METHOD_DEFAULTS, f"method must be one of {sorted(METHOD_DEFAULTS)}: '{cfg.method}'"),
        (cfg.gan_loss in ("lsgan", "hinge"), f"gan_loss must be 'lsgan' or 'hinge': '{cfg.gan_loss}'"),
        (0.0 <= cfg.ema_decay < 1.0, f"ema_decay must be in [0, 1): {cfg.ema_decay}"),
        (cfg.amp in ("auto", "bf16", "fp16", "off"), f"amp must be auto|bf16|fp16|off: '{cfg.amp}'"),
        (len(cfg.gen_channels) == 3, f"gen_channels needs 3 widths: {cfg.gen_channels}"),
        (bool(cfg.name) and "/" not in cfg.name and "\\" not in cfg.name, f"bad style name: '{cfg.name}'"),
        (cfg.log_every >= 1, f"log_every must be >= 1: {cfg.log_every}"),
        (
            cfg.sample_every >= 0 and cfg.checkpoint_every >= 0,
            "sample_every and checkpoint_every must be >= 0",
        ),
        (cfg.nce_patches >= 1 and cfg.nce_temperature > 0, "nce_patches must be >= 1, nce_temperature > 0"),
        (
            cfg.lambda_style <= 0 or bool(cfg.perceptual_weights),
            "the style loss (lambda_style) needs the MobileNetV2 weights: give perceptual_weights",
        ),
    ]
    n_feats = 4 + cfg.gen_blocks  # Generator.encode: input, stem, down1, down2, one per block
    bad_layers = [i for i in cfg.nce_layers if not 0 <= i < n_feats]
    checks.append((not bad_layers, f"nce_layers {bad_layers} out of range 0..{n_feats - 1}"))
    for ok, message in checks:
        if not ok:
            raise InputError(message)
    if cfg.diffaugment not in ("auto", "none"):
        try:
            check_policy(cfg.diffaugment)
        except ValueError as exc:
            raise InputError(str(exc)) from None
    if not cfg.content_dir:
        raise InputError("no content folder given (content_dir / --content)")
    if not cfg.style_dir:
        raise InputError("no style folder given (style_dir / --style)")


def resolve(
    cfg: TrainConfig, n_style_images: int, auto_preset: Callable[[], str] = lambda: "matched"
) -> TrainConfig:
    """Fill every None/'auto' that depends on the method or the data; the result is what gets recorded.

    auto_preset: the look preset that fits the style photos (look/auto_preset.py), asked only when the
    look preset is 'auto'."""
    if cfg.family == "look" and cfg.look_preset == AUTO_PRESET:
        cfg = replace(cfg, look_preset=auto_preset())
        validate(cfg)  # the chosen preset with the flags given (e.g. no faces for portraits' regions)
    cfg = with_family_defaults(cfg)
    method = METHOD_DEFAULTS[cfg.method]
    few_shot = cfg.few_shot if cfg.few_shot is not None else n_style_images <= FEW_SHOT_MAX
    policy = cfg.diffaugment
    if policy == "auto":
        # Few exemplars: the full policy of Zhao et al. Otherwise leave colour alone, since colour is
        # often the very thing a photographic style is about, and geometry augmentations suffice.
        policy = (
            "color,translation,cutout"
            if few_shot
            else ("translation,cutout" if n_style_images < DIFFAUGMENT_MAX else "")
        )
    elif policy == "none":
        policy = ""
    return replace(
        cfg,
        out_dir=str(cfg.run_dir()),
        few_shot=few_shot,
        lambda_nce=method["lambda_nce"] if cfg.lambda_nce is None else cfg.lambda_nce,
        nce_idt=method["nce_idt"] if cfg.nce_idt is None else cfg.nce_idt,
        diffaugment=policy,
        cache_dir=cfg.cache_dir or str(default_cache_dir()),
    )


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "portrait-style" / "crops"


# -- files ------------------------------------------------------------------------------------------
def from_dict(data: dict, source: str = "config") -> TrainConfig:
    known = {f.name for f in fields(TrainConfig)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise InputError(f"unknown setting(s) in {source}: {', '.join(unknown)}")
    data = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
    return TrainConfig(**data)


def load_toml(path: str | os.PathLike) -> dict:
    """Settings from a TOML file (flat keys, as `dump_toml` writes them)."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    path = Path(path)
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        raise InputError(f"config file not found: {path}") from None
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"cannot read config file {path}: {exc}") from None
    from_dict(data, str(path))  # reject unknown keys now, with the file's name in the message
    return data


def dump_toml(cfg: TrainConfig) -> str:
    """Flat TOML; None values are left out (TOML has no null) and read back as their None defaults."""
    lines = ["# portrait-style training settings (resolved). Re-run with: portrait-style train --config FILE"]
    for key, value in cfg.to_dict().items():
        if value is None:
            continue
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, (int, float)):
            text = repr(value)
        elif isinstance(value, (list, tuple)):
            text = "[" + ", ".join(repr(v) for v in value) + "]"
        else:  # JSON string escapes are a subset of TOML basic-string escapes
            text = json.dumps(str(value), ensure_ascii=False)
        lines.append(f"{key} = {text}")
    return "\n".join(lines) + "\n"
