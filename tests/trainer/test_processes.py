"""Real processes: Ctrl-C during training, and a 2-process DistributedDataParallel run (gloo, CPU)."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from portrait_style.engine.checkpoint import load_style
from portrait_style.trainer.run_files import checkpoint_path, load_checkpoint
from portrait_style.trainer.train import train


def _flags(cfg) -> list[str]:
    return [
        "--content-dir", cfg.content_dir, "--style-dir", cfg.style_dir, "--out-dir", cfg.out_dir,
        "--name", cfg.name, "--family", cfg.family, "--mode", cfg.mode, "--size", str(cfg.size),
        "--batch-size", "1",
        "--nce-patches", "16", "--d-channels", "16", "--cache-dir", cfg.cache_dir, "--no-progress",
    ]  # fmt: skip


def _env() -> dict:
    return {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}


def test_ctrl_c_saves_a_checkpoint_and_exits_cleanly(tiny):
    cfg = tiny()
    run = Path(cfg.out_dir)
    cmd = [
        sys.executable,
        "-m",
        "portrait_style.trainer",
        *_flags(cfg),
        "--steps",
        "100000",
        "--log-every",
        "1",
    ]
    proc = subprocess.Popen(cmd, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not (run / "tb").exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)  # tb/ appears when the loop starts
        time.sleep(1.0)
        assert proc.poll() is None, proc.communicate()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert "interrupted at step" in err and "--resume" in err
    assert "Traceback" not in err
    step = load_checkpoint(checkpoint_path(run))["step"]
    assert 1 <= step < 100000
    _, meta = load_style(run / "tiny.safetensors")
    assert meta.training["steps"] == step and meta.training["completed"] is False

    # and the run continues from there
    train(tiny(steps=step + 1), resume=True)
    assert load_checkpoint(checkpoint_path(run))["step"] == step + 1


@pytest.mark.slow
def test_two_process_ddp_run_with_gloo(tiny):
    cfg = tiny()
    cmd = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
        "-m", "portrait_style.trainer", *_flags(cfg), "--steps", "2", "--device", "cpu",
    ]  # fmt: skip
    done = subprocess.run(cmd, env=_env(), capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    path = Path(cfg.out_dir) / "tiny.safetensors"
    assert done.stdout.strip().splitlines()[-1] == str(path)  # printed once, by rank 0
    assert done.stdout.count(str(path)) == 1
    model, meta = load_style(path)
    assert meta.training["processes"] == 2 and meta.training["batch_size"] == 2
    assert meta.training["steps"] == 2 and meta.training["completed"]
    assert load_checkpoint(checkpoint_path(Path(cfg.out_dir)))["step"] == 2


@pytest.mark.slow
def test_ddp_keeps_ranks_identical_despite_different_init_and_data():
    probe = Path(__file__).with_name("ddp_probe.py")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", str(probe)]
    done = subprocess.run(cmd, env=_env(), capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = [
        line.split()
        for line in done.stdout.splitlines()
        if line.split()[:1] in (["netG"], ["netD"], ["netF"], ["ema"])
    ]
    assert [parts[0] for parts in lines] == ["netG", "netD", "netF", "ema"]
    for name, rank0, rank1 in lines:
        assert rank0 == rank1, name
