"""Calibration profiles: what `calibrate` measured and chose, saved per machine, weights and mode, and
used by `stylize`, `stylize-video`, `live` and `bench` when their backend flags are left on auto.

    <cache>/profiles/<style>-<weights digest>-<mode>-<machine key>.json

The machine key is a hash of `hardware.machine_name()` (CPU, cores, GPU) and the installed ONNX Runtime,
torch and TensorRT versions, so a profile measured elsewhere, or before an upgrade, is never found.
A frame size of 0 in a profile means frames as they come (the full size was chosen). Rules of use:

- `--backend`, `--device`, `--precision` and `--backend-option` all on their defaults: the profile's
  backend, precision and options are used, and one line on stderr says so and names the file;
- frame mode: its frame size too, unless `--frame-size` was given (explicit flags win);
- `--no-profile`, or any backend flag given: the profile is not used.

Importing this module imports neither torch nor onnxruntime (the CLI imports it for every run).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from portrait_style.engine.backends.spec import BackendSpec
from portrait_style.errors import OutputError, PortraitStyleError

FORMAT = 1
# runtime -> the distributions that install it, first found wins (read from their metadata, not imported)
RUNTIMES = {
    "onnxruntime": ("onnxruntime", "onnxruntime-gpu"),
    "torch": ("torch",),
    "tensorrt": ("tensorrt", "tensorrt-cu12", "tensorrt-cu11"),
}


def _stderr(line: str) -> None:
    print(line, file=sys.stderr)


def runtime_versions() -> dict[str, str]:
    """Installed versions of the runtimes a profile's timings depend on (without importing them)."""
    versions = {}
    for name, dists in RUNTIMES.items():
        for dist in dists:
            try:
                versions[name] = metadata.version(dist)
                break
            except metadata.PackageNotFoundError:
                continue
        else:
            versions[name] = "absent"
    return versions


def machine_identity() -> dict:
    """The machine, its runtimes and the exporter's graph version: a profile measured on another graph
    of the same weights (timings, precision checks) does not apply."""
    from portrait_style.engine.export import EXPORTER_VERSION
    from portrait_style.hardware import machine_name

    ident = {"machine": machine_name(), "versions": runtime_versions(), "graph": EXPORTER_VERSION}
    ident["key"] = hashlib.sha256(json.dumps(ident, sort_keys=True).encode()).hexdigest()[:12]
    return ident


def profiles_dir() -> Path:
    from portrait_style.engine.export import cache_dir

    return cache_dir() / "profiles"


def profile_path(style_path: str | os.PathLike, mode: str, identity: dict | None = None) -> Path:
    from portrait_style.engine.style_meta import weights_digest

    key = (identity or machine_identity())["key"]
    return profiles_dir() / f"{Path(style_path).stem}-{weights_digest(style_path)}-{mode}-{key}.json"


def save_profile(report: dict, style_path: str | os.PathLike, mode: str) -> Path:
    """Write `report` (calibrate's, with its `choice`) atomically where `find_profile` looks."""
    from portrait_style.fileutil import atomic_path

    path = profile_path(style_path, mode, report.get("identity"))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot save the calibration profile in {path.parent}: {exc.strerror}") from None
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(report, indent=1) + "\n")
    return path


@dataclass(frozen=True)
class Profile:
    path: Path
    spec: BackendSpec
    frame_size: int | None  # frame mode: the working size chosen; None in face mode
    report: dict

    def describe(self, frame_size: int | None = None) -> str:
        """e.g. 'onnxruntime cpu fp32 threads=2, frame size 720' ('frame size 0 (as it comes)')."""
        size = self.frame_size if frame_size is None else frame_size
        if size is None:
            return self.spec.label()
        return f"{self.spec.label()}, frame size {size}" + (" (as it comes)" if size == 0 else "")


def find_profile(
    style_path: str | os.PathLike, mode: str, warn: Callable[[str], None] = _stderr
) -> Profile | None:
    """This machine's profile for these weights in this mode, or None. A profile that cannot be used
    (damaged, from another version, naming a backend this machine lacks) is skipped with one line."""
    from portrait_style.engine.backends import resolve

    path = profile_path(style_path, mode)
    if not path.is_file():
        return None
    try:
        report = json.loads(path.read_text())
        if report.get("format") != FORMAT:
            return None
        choice = report["choice"]
        spec = BackendSpec(
            choice["backend"], choice["device"], choice["precision"], choice.get("options", {})
        )
        resolve(spec)
        frame_size = choice.get("frame_size") if mode == "frame" else None
        if frame_size is not None and (not isinstance(frame_size, int) or frame_size < 0):
            raise ValueError(f"frame size {frame_size!r}")
    except (OSError, ValueError, KeyError, TypeError, AttributeError, PortraitStyleError) as exc:
        reason = " ".join(str(exc).split())[:160] or type(exc).__name__
        warn(f"warning: calibration profile {path} is not usable ({reason}); not using it")
        return None
    return Profile(path, spec, frame_size, report)


# -- use -------------------------------------------------------------------------------------------------
def run_settings(
    spec: BackendSpec,
    frame_size: int | None,
    style_path: str | os.PathLike,
    mode: str,
    use_profile: bool = True,
    say: Callable[[str], None] = _stderr,
) -> tuple[BackendSpec, int | None]:
    """(BackendSpec, frame_size) for a run: what was asked, or the calibration profile's where the
    backend was left all on auto (see the module docstring); says on stderr when a profile is used."""
    if not use_profile or spec != BackendSpec():
        return spec, frame_size
    profile = find_profile(style_path, mode, say)
    if profile is None:
        return spec, frame_size
    if frame_size is None:
        frame_size = profile.frame_size
    say(f"using calibration profile {profile.path}: {profile.describe(frame_size)}")
    return profile.spec, frame_size


def stylizer_settings(style_path: str | os.PathLike, mode: str, say: Callable[[str], None] = _stderr) -> dict:
    """Stylizer keyword arguments from the profile (`backend`, and `frame_size` in frame mode), or {}
    when there is none: `run_settings` with every backend flag on auto, for callers without backend flags
    (`bench`)."""
    auto = BackendSpec()
    spec, frame_size = run_settings(auto, None, style_path, mode, True, say)
    if spec is auto:  # no usable profile
        return {}
    return {"backend": spec, "frame_size": frame_size}
