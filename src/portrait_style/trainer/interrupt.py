"""Ctrl-C during training: finish the current step, save a checkpoint, stop.

A KeyboardInterrupt raised in the middle of a step would leave D updated and G not, so the first
SIGINT only sets a flag that the loop checks between steps; a second one interrupts at once.
"""

from __future__ import annotations

import signal
import threading


class StopOnInterrupt:
    def __init__(self):
        self.requested = False
        self._previous = None

    def __enter__(self) -> StopOnInterrupt:
        if threading.current_thread() is threading.main_thread():  # signal handlers live in the main thread
            previous = signal.signal(signal.SIGINT, self._handler)
            self._previous = previous if previous is not None else signal.default_int_handler
        return self

    def _handler(self, signum, frame) -> None:
        self.requested = True
        signal.signal(signal.SIGINT, self._previous)  # a second Ctrl-C: the usual KeyboardInterrupt

    def __exit__(self, *exc) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)


def ignore_sigint(_worker_id: int) -> None:
    """DataLoader worker init: the terminal's Ctrl-C reaches the workers too; let the main process decide."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
