"""Errors meant for the person at the keyboard.

Anything raised as a `PortraitStyleError` is printed by the CLI as one line on stderr and turned into
its `exit_code`; everything else is a bug and keeps its traceback.
"""


class PortraitStyleError(Exception):
    exit_code = 1


class InputError(PortraitStyleError):
    """A file or folder we were asked to read is missing, unreadable or not what it claims to be."""

    exit_code = 2


class OutputError(PortraitStyleError):
    """We cannot write where we were asked to write."""

    exit_code = 3


class ModelError(PortraitStyleError):
    """Unknown style, bad checkpoint, or a backend that cannot run here."""

    exit_code = 4
