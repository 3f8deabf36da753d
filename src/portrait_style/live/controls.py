"""What the viewer can change while it runs: the same commands from window keys and web endpoints.

next-style / prev-style: cycle through the styles; mode: face <-> frame mode; split: before/after, the
left half unstyled; mirror: flip left-right (a selfie preview); snapshot: save the next shown frame as
a PNG; overlay: show/hide the figures; quit: end the run (normally, exit code 0).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

COMMANDS = ("next-style", "prev-style", "mode", "split", "mirror", "snapshot", "overlay", "quit")
KEYS = {  # window key (Tk keysym) -> command
    "n": "next-style",
    "Right": "next-style",
    "p": "prev-style",
    "Left": "prev-style",
    "f": "mode",
    "b": "split",
    "m": "mirror",
    "s": "snapshot",
    "space": "snapshot",
    "o": "overlay",
    "q": "quit",
    "Escape": "quit",
}
KEY_HELP = "n/p style  f face/frame  b before/after  m mirror  s snapshot  o overlay  q quit"


class StopLive(Exception):
    """The viewer asked to stop (quit key, web button, time limit): a normal end of the run."""


@dataclass
class LiveControls:
    styles: list[str]
    mode: str = "face"
    style_index: int = 0
    split: bool = False
    mirror: bool = False
    overlay: bool = True
    snapshots_pending: int = 0
    quit: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        if not self.styles:
            raise ValueError("at least one style is needed")
        self._lock = threading.Lock()

    @property
    def style(self) -> str:
        return self.styles[self.style_index]

    def handle(self, command: str) -> None:
        """Apply one command (from a key or an HTTP request); ValueError for an unknown one."""
        if command not in COMMANDS:
            raise ValueError(f"unknown command {command!r}; expected one of {', '.join(COMMANDS)}")
        with self._lock:
            if command in ("next-style", "prev-style"):
                step = 1 if command == "next-style" else -1
                self.style_index = (self.style_index + step) % len(self.styles)
            elif command == "mode":
                self.mode = "frame" if self.mode == "face" else "face"
            elif command in ("split", "mirror", "overlay"):
                setattr(self, command, not getattr(self, command))
            elif command == "snapshot":
                self.snapshots_pending += 1
            else:
                self.quit.set()

    def take_snapshot(self) -> bool:
        with self._lock:
            if self.snapshots_pending:
                self.snapshots_pending -= 1
                return True
            return False

    def check(self) -> None:
        if self.quit.is_set():
            raise StopLive

    def state(self) -> dict:
        return {
            "style": self.style,
            "styles": list(self.styles),
            "mode": self.mode,
            "split": self.split,
            "mirror": self.mirror,
            "overlay": self.overlay,
        }
