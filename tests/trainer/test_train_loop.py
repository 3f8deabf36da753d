"""End to end on CPU at CI size: train, write, load, run, export, resume."""

from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import torch
from conftest import SHARED, style_images

from portrait_style.engine.checkpoint import load_style
from portrait_style.engine.export import export_onnx
from portrait_style.errors import InputError, OutputError
from portrait_style.trainer.config import from_dict, load_toml
from portrait_style.trainer.mobilenet import MobileNetV2
from portrait_style.trainer.run_files import checkpoint_path, load_checkpoint
from portrait_style.trainer.train import train


def test_train_writes_a_deployable_style_and_a_resumable_run(tiny):
    cfg = tiny(steps=3, sample_every=2)
    path = train(cfg)
    run = Path(cfg.out_dir)
    assert path == run / "tiny.safetensors" and path.is_file()

    model, meta = load_style(path)
    assert (meta.name, meta.resolution, meta.mode) == ("tiny", 32, "frame")
    assert (meta.license, meta.attribution) == ("CC0-1.0", "test images")
    t = meta.training
    assert t["steps"] == 3 and t["completed"] and t["processes"] == 1 and "CPU" in t["hardware"]
    assert t["data"]["content"]["files"] == 4 and t["data"]["style"]["frames"] == 12
    assert "PatchNCE" in t["method"] and t["wall_time_s"] > 0
    assert all(np.isfinite(v) for v in t["final_losses"].values())

    # the deployed graph: uint8 NHWC in and out, any multiple-of-4 size
    frame = torch.randint(0, 256, (1, 40, 48, 3), dtype=torch.uint8)
    with torch.no_grad():
        out = model(frame)
    assert out.dtype == torch.uint8 and out.shape == frame.shape

    # the saved weights are the EMA generator's
    state = load_checkpoint(checkpoint_path(run))
    assert state["step"] == 3
    for k, v in model.state_dict().items():
        assert torch.equal(v, state["model"]["G_ema"][k])

    assert from_dict(load_toml(run / "config.toml")).steps == 3  # the resolved settings, re-runnable
    assert sorted(p.name for p in (run / "samples").glob("*.png")) == ["step_0000002.png", "step_0000003.png"]
    assert list((run / "tb").glob("events.out.tfevents.*"))


def test_style_exports_to_onnx_and_runs_in_onnxruntime(tiny, tmp_path):
    model, _ = load_style(train(tiny(steps=1)))
    onnx_path = export_onnx(model, tmp_path / "tiny.onnx")
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    frame = np.random.default_rng(0).integers(0, 256, (2, 36, 44, 3), dtype=np.uint8)
    (got,) = session.run(None, {session.get_inputs()[0].name: frame})
    with torch.no_grad():
        want = model(torch.from_numpy(frame)).numpy()
    assert got.dtype == np.uint8 and got.shape == frame.shape
    assert np.abs(got.astype(int) - want.astype(int)).max() <= 1


def test_resume_continues_exactly_where_it_stopped(tiny, tmp_path):
    straight = tiny(steps=4, out_dir=str(tmp_path / "straight"))
    train(straight)
    first = tiny(steps=2, out_dir=str(tmp_path / "split"), num_workers=1)  # batches don't depend on workers
    train(first)
    assert load_checkpoint(checkpoint_path(Path(first.out_dir)))["step"] == 2
    train(tiny(steps=4, out_dir=first.out_dir), resume=True)

    a = load_checkpoint(checkpoint_path(Path(straight.out_dir)))
    b = load_checkpoint(checkpoint_path(Path(first.out_dir)))
    assert a["step"] == b["step"] == 4
    for net in ("G", "D", "F", "G_ema"):
        for k, v in a["model"][net].items():
            assert torch.allclose(v, b["model"][net][k], rtol=0, atol=1e-6), f"{net}.{k}"
    _, meta = load_style(Path(first.out_dir) / "tiny.safetensors")
    assert meta.training["steps"] == 4 and meta.training["completed"]


def test_resume_refuses_changed_shapes_and_a_fresh_run_refuses_an_existing_one(tiny):
    train(tiny(steps=1))
    with pytest.raises(InputError, match="size: 32 -> 48"):
        train(tiny(steps=2, size=48), resume=True)
    with pytest.raises(OutputError, match="--resume"):
        train(tiny(steps=2))
    run = Path(tiny().out_dir)
    (run / "tb" / "old-events").write_text("x")
    train(tiny(steps=1, seed=5, overwrite=True))  # starts again: old logs gone, checkpoint replaced
    assert not (run / "tb" / "old-events").exists()
    assert load_checkpoint(checkpoint_path(run))["config"]["seed"] == 5
    assert from_dict(load_toml(run / "config.toml")).overwrite is False  # re-running the file must not wipe
    with pytest.raises(InputError, match="nothing to resume"):
        train(tiny(out_dir=str(Path(tiny().out_dir).parent / "other")), resume=True)


def test_one_style_image_trains_few_shot(tiny, tmp_path):
    one = style_images(tmp_path / "one", n=1)
    _, meta = load_style(train(tiny(style_dir=str(one), steps=1)))
    assert meta.training["config"]["few_shot"] is True
    assert meta.training["data"]["style"]["exemplars"] == 1
    assert "DiffAugment color,translation,cutout" in meta.training["method"]


@pytest.mark.shared_data
@pytest.mark.skipif(
    not (SHARED / "models" / "mobilenet_v2-b0353104.pth").is_file(), reason="no shared weights"
)
def test_perceptual_loss_trains_with_the_shared_mobilenet(tiny):
    weights = SHARED / "models" / "mobilenet_v2-b0353104.pth"
    _, meta = load_style(train(tiny(steps=1, perceptual_weights=str(weights))))
    assert meta.training["final_losses"]["perceptual"] > 0


def test_gram_style_loss_trains_few_shot_from_one_painting(tiny, tmp_path):
    """The style loss end to end; random MobileNetV2 weights stand in for ImageNet's (same file format)."""
    weights = tmp_path / "mobilenet_v2.pth"
    torch.save(MobileNetV2().state_dict(), weights)
    one = style_images(tmp_path / "one", n=1)
    cfg = tiny(style_dir=str(one), perceptual_weights=str(weights), lambda_style=0.5, lambda_perceptual=0.0)
    _, meta = load_style(train(cfg))
    losses = meta.training["final_losses"]
    assert losses["style"] > 0 and losses["perceptual"] == 0
    assert "Gram style x0.5" in meta.training["method"] and "content" not in meta.training["method"]


@pytest.mark.parametrize("field, before", [("look_levels", False), ("look_context_colour", True)])
def test_a_run_saved_before_a_setting_existed_resumes_only_as_it_was(field, before):
    from dataclasses import replace

    from portrait_style.trainer.config import TrainConfig, with_family_defaults
    from portrait_style.trainer.run_files import check_compatible

    cfg = with_family_defaults(TrainConfig(content_dir="a", style_dir="b", family="look"))
    saved = {k: v for k, v in replace(cfg, **{field: before}).to_dict().items() if k != field}
    with pytest.raises(InputError, match=f"{field}: {before} -> {not before}"):  # the preset changed it
        check_compatible(saved, cfg, Path("last.pt"))
    check_compatible(saved, replace(cfg, **{field: before}), Path("last.pt"))  # the old setting resumes
