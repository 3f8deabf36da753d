"""What a caller asks of a backend: runtime x device x precision x options, checked once against the table.

    BackendSpec("onnxruntime", "cpu", "fp32", {"threads": 2})
    BackendSpec.parse("torch", "cuda:1", "fp16", ["cuda_graphs=false"])   # the CLI's strings

`auto` in any field means "the first row of `BACKENDS` that is available and fits the other fields";
`resolve` (in `backends/__init__.py`) turns a spec into one row and a spec with no `auto` left, or one
clear error line (OptionError, exit 2, for what no row takes; ModelError, exit 4, for
a row this machine lacks). The option vocabulary is `OPTIONS`; each row says which of them it takes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from portrait_style.options import OptionError

PRECISIONS = ("fp32", "fp16", "bf16", "int8")
DEVICE_PATTERN = re.compile(r"^(auto|cpu|cuda(:\d+)?)$")


@dataclass(frozen=True)
class Option:
    name: str
    kind: type  # int or bool
    help: str
    lo: int = 1
    hi: int = 1 << 16

    def parse(self, value: object) -> int | bool:
        """A CLI string or a Python value -> the option's value; one OptionError line when it does not fit."""
        if self.kind is bool:
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in ("1", "true", "yes", "on"):
                return True
            if text in ("0", "false", "no", "off"):
                return False
            raise OptionError(f"backend option {self.name} takes true or false, not {value!r}")
        try:
            number = int(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise OptionError(f"backend option {self.name} takes a whole number, not {value!r}") from None
        if isinstance(value, bool) or not self.lo <= number <= self.hi:
            raise OptionError(f"backend option {self.name} must be in {self.lo}..{self.hi}: {value!r}")
        return number


OPTIONS: dict[str, Option] = {
    o.name: o
    for o in (
        Option("threads", int, "ONNX Runtime intra-op threads (default: one per core)", 1, 1024),
        Option("spinning", bool, "ONNX Runtime idle threads spin (faster alone, slower beside other stages)"),
        Option("cuda_graphs", bool, "capture each input shape once as a CUDA graph and replay it"),
        Option("channels_last", bool, "torch: NHWC memory layout for the convolutions"),
        Option("max_batch", int, "TensorRT profile: the most images (faces) in one call", 1, 64),
        Option("max_side", int, "TensorRT profile: the longest image side the engine accepts", 16, 8192),
        Option("workspace_mb", int, "TensorRT builder: whole workspace pool, MiB (default: all)", 1, 1 << 20),
    )
}


@dataclass(frozen=True)
class BackendSpec:
    backend: str = "auto"  # runtime name from the table, or auto
    device: str = "auto"  # auto | cpu | cuda | cuda:N
    precision: str = "auto"  # auto | one of PRECISIONS
    options: Mapping[str, object] = field(default_factory=dict)

    @classmethod
    def parse(
        cls, backend: str = "auto", device: str = "auto", precision: str = "auto", options: Iterable[str] = ()
    ) -> BackendSpec:
        """From the CLI's strings; `options` are KEY=VALUE items."""
        pairs = {}
        for item in options:
            key, sep, value = item.partition("=")
            if not sep:
                raise OptionError(f"backend option {item!r} is not KEY=VALUE (e.g. threads=2)")
            pairs[key.strip().replace("-", "_")] = value.strip()
        return cls(backend, device, precision, pairs)

    def __post_init__(self) -> None:
        if not DEVICE_PATTERN.match(self.device):
            raise OptionError(f"unknown device '{self.device}'; choose auto, cpu, cuda or cuda:N")
        if self.precision not in ("auto", *PRECISIONS):
            raise OptionError(
                f"unknown precision '{self.precision}'; choose from auto, {', '.join(PRECISIONS)}"
            )
        parsed = {}
        for key, value in dict(self.options).items():
            if key not in OPTIONS:
                raise OptionError(f"unknown backend option '{key}'; choose from {', '.join(OPTIONS)}")
            parsed[key] = OPTIONS[key].parse(value)
        object.__setattr__(self, "options", parsed)

    @property
    def device_kind(self) -> str:
        """'cuda:1' -> 'cuda': what a table row's device names."""
        return self.device.partition(":")[0]

    def label(self) -> str:
        """e.g. 'onnxruntime cpu fp32 threads=2'."""
        opts = " ".join(f"{k}={v}" for k, v in sorted(self.options.items()))
        return " ".join(x for x in (self.backend, self.device, self.precision, opts) if x)
