"""Atomic file writes: a reader sees the old file or the complete new one, never half of one."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

from portrait_style.errors import OutputError

# Virtual file systems of the kernel: nothing a user means as an output folder lives there.
_SYSTEM_ROOTS = ("/proc", "/sys", "/dev")
_WRITABLE_UNDER_SYSTEM = ("/dev/shm",)  # tmpfs: a real place for files


def current_umask() -> int:
    """The process umask, read without changing it where the system allows (Linux: /proc/self/status)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)  # elsewhere: the classic swap (not thread-safe, but brief)
    os.umask(mask)
    return mask


def final_mode(path: Path) -> int:
    """The permission bits a plain `open(path, "w")` would leave: the existing file's, else 0o666 & ~umask."""
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return 0o666 & ~current_umask()


def check_writable_dir(directory: str | os.PathLike) -> Path:
    """Raise `OutputError` in the user's words unless a file can be created in `directory`."""
    directory = Path(directory)
    resolved = str(directory.resolve()) if directory.exists() else str(directory.absolute())
    inside = [r for r in _SYSTEM_ROOTS if resolved == r or resolved.startswith(r + "/")]
    if not any(resolved == w or resolved.startswith(w + "/") for w in _WRITABLE_UNDER_SYSTEM):
        for root in inside:
            raise OutputError(
                f"cannot write to {directory}: {root} is a system folder, not a place for files"
            )
    if not directory.exists():
        raise OutputError(f"output folder does not exist: {directory}")
    if not directory.is_dir():
        raise OutputError(f"not a folder: {directory}")
    try:
        fd, probe = tempfile.mkstemp(prefix=".write-test.", dir=directory)
    except OSError as exc:
        raise OutputError(f"cannot write to {directory}: {exc.strerror or exc}") from None
    os.close(fd)
    os.unlink(probe)
    return directory


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside `path`; on success it is renamed over `path`, on failure deleted.

    The temporary name keeps the real suffix (or `suffix`) so libraries that pick a format from the
    extension (FFmpeg, OpenCV) still do the right thing. The final file gets the permissions a normal
    write would give it (the umask's, or those of the file it replaces), not the temporary file's 0600.
    """
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        check_writable_dir(directory)  # says why: a system folder, missing, or not a folder
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=suffix or path.suffix, dir=directory)
    except OSError as exc:
        check_writable_dir(directory)  # a clearer reason when there is one
        raise OutputError(f"cannot write to {directory}: {exc.strerror}") from None
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        with contextlib.suppress(OSError):  # a file system without modes (some mounts): keep what it has
            os.chmod(tmp_path, final_mode(path))
        os.replace(tmp_path, path)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise
