"""The one interface every inference backend implements."""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from portrait_style.engine.backends.spec import BackendSpec


class Backend(ABC):
    """Runs a style generator: uint8 RGB batch [N, H, W, 3] in, same shape and dtype out.

    H and W must be multiples of the generator's SIZE_MULTIPLE; callers pad (see `api.pad_to_multiple`).
    `spec` is what it runs as, with nothing left on auto (set by `load_backend`).
    """

    name: str = "?"
    spec: BackendSpec = BackendSpec()

    @property
    def device(self) -> str:
        return self.spec.device

    @abstractmethod
    def __call__(self, batch: np.ndarray, faces: np.ndarray | None = None) -> np.ndarray:
        """faces: [N, MAX_FACES, 4] face tables for a look whose light follows the faces (else ignored)."""

    def warmup(self, height: int = 256, width: int = 256, batch: int = 1, runs: int = 3) -> None:
        """Run a few dummy batches so allocation, autotuning and graph capture happen before timing."""
        dummy = np.zeros((batch, height, width, 3), np.uint8)
        for _ in range(runs):
            self(dummy)

    def describe(self) -> str:
        """e.g. 'onnxruntime (cpu, fp32, threads=2)'."""
        opts = [f"{k}={v}" for k, v in sorted(self.spec.options.items())]
        return f"{self.name} ({', '.join([self.spec.device, self.spec.precision, *opts])})"
