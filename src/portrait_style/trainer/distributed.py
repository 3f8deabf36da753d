"""Multi-process training under torchrun: process group, device per rank, and rank-0-first setup.

Without torchrun (no WORLD_SIZE in the environment) everything here degrades to one process.
gloo on CPU, nccl on CUDA. Only rank 0 writes files and logs.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import torch
import torch.distributed as dist

from portrait_style.errors import InputError, PortraitStyleError

T = TypeVar("T")


@dataclass(frozen=True)
class Dist:
    rank: int
    local_rank: int
    world_size: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1


def pick_device(name: str, local_rank: int = 0) -> torch.device:
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda":
        name = f"cuda:{local_rank}"
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise InputError(f"device {name} requested but this PyTorch sees no CUDA GPU")
    try:
        return torch.device(name)
    except RuntimeError:
        raise InputError(f"unknown device '{name}': use auto, cpu, cuda or cuda:N") from None


def setup(device_name: str) -> Dist:
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    device = pick_device(device_name, local_rank)
    if world_size > 1 and not dist.is_initialized():
        if device.type == "cuda":
            torch.cuda.set_device(device)
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return Dist(rank, local_rank, world_size, device)


def teardown(clean: bool = True) -> None:
    """Leave the process group; on a clean exit together, so no rank destroys it while another still
    talks to it. After an error there is no barrier: a rank that failed alone must exit, not wait.

    Release DistributedDataParallel-wrapped modules before calling this; one that outlives the group is
    torn down at interpreter exit against a dead gloo context and can abort the process.
    """
    if dist.is_initialized():
        try:
            if clean:
                dist.barrier()
        finally:
            dist.destroy_process_group()


def all_ok(ok: bool, info: Dist) -> bool:
    """True when `ok` holds on every rank (a collective: every rank must call it)."""
    if not info.enabled:
        return ok
    flag = torch.tensor([1 if ok else 0], device=info.device)
    dist.all_reduce(flag, op=dist.ReduceOp.MIN)
    return bool(flag.item())


def main_first(fn: Callable[[], T], info: Dist, others_too: bool = True) -> T | None:
    """Run `fn` on rank 0, then (if others_too) on the other ranks, which then find rank 0's caches.

    An error on rank 0 is raised there and stops the other ranks with a short error of their own,
    instead of leaving them waiting in the next collective.
    """
    result, error = None, None
    if info.is_main:
        try:
            result = fn()
        except Exception as exc:  # noqa: BLE001 - re-raised below, after the other ranks are told
            error = exc
    if not all_ok(error is None, info):
        if error is not None:
            raise error
        raise PortraitStyleError("stopped: the main process (rank 0) failed during setup; see its error")
    if not info.is_main and others_too:
        result = fn()
    return result


def barrier(info: Dist) -> None:
    if info.enabled:
        dist.barrier()
