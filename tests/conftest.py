"""Shared test setup: put the repository root on sys.path so tests can `from tests.media import make_video`
however pytest is started (`pytest` or `python -m pytest`)."""

import sys
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parents[1])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)
