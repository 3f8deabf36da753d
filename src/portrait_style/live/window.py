"""A preview window with Tk (Python's standard library): the frame, the overlay, and keys.

Why Tk: the base install's OpenCV is `opencv-python-headless`, which has no highgui windows, and
installing `opencv-python` beside it breaks both (they are the same `cv2` module). Tk comes with Python
(Debian: python3-tk), is BSD-style licensed, needs no extra wheel, and shows an RGB frame without PIL:
the frame goes in as PPM bytes. The window runs in the calling (main) thread: each shown frame and each
idle poll lets Tk handle its events, so keys work while frames come and while none do.
"""

from __future__ import annotations

import numpy as np

from portrait_style.engine.frame import FramePacket
from portrait_style.errors import OutputError
from portrait_style.live.controls import KEYS, LiveControls


class WindowSink:
    overlay = True
    keys = True

    def __init__(self, controls: LiveControls, title: str = "portrait-style live"):
        try:
            import tkinter as tk
        except ImportError:
            raise OutputError(
                "--output window needs Tk, which this Python lacks (Debian: apt install python3-tk);"
                " use --output web instead"
            ) from None
        try:
            self.root = tk.Tk()
        except tk.TclError as exc:
            raise OutputError(f"cannot open a window ({exc}); use --output web or virtualcam") from None
        self.controls = controls
        self.root.title(title)
        self.root.configure(background="black")
        self.photo = tk.PhotoImage(master=self.root, width=320, height=240)
        self.label = tk.Label(self.root, image=self.photo, borderwidth=0, background="black")
        self.label.pack()
        self.root.bind("<Key>", self._on_key)
        self.root.protocol("WM_DELETE_WINDOW", lambda: controls.handle("quit"))
        self.root.update()
        self.shown = 0

    def _on_key(self, event) -> None:
        command = KEYS.get(event.keysym) or KEYS.get(event.char or "")
        if command:
            self.controls.handle(command)

    def show(self, view: np.ndarray, packet: FramePacket) -> None:
        h, w = view.shape[:2]
        ppm = b"P6 %d %d 255\n" % (w, h) + np.ascontiguousarray(view, np.uint8).tobytes()
        self.photo.configure(data=ppm, format="PPM", width=w, height=h)
        self.shown += 1
        self.poll()

    def poll(self) -> None:
        self.root.update()  # draw, and run the key handlers

    def close(self) -> None:
        try:
            self.root.destroy()
        except Exception:  # already gone (the window manager closed it)
            pass
