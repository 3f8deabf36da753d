"""Looks started from the two sets' statistics; greyscale and face/background looks; steady face tables."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from test_look import _blobs, psnr

from portrait_style.config import FaceConfig
from portrait_style.engine.backends.onnxruntime_backend import OnnxRuntimeBackend
from portrait_style.engine.backends.torch_backend import TorchBackend
from portrait_style.engine.export import export_onnx
from portrait_style.engine.faces.geometry import SteadyFaceTables, face_table
from portrait_style.engine.frame import Face
from portrait_style.errors import InputError
from portrait_style.look.init import init_from_statistics
from portrait_style.look.model import LookNet


def _lab_chroma(images: np.ndarray) -> float:
    import cv2

    lab = np.stack([cv2.cvtColor(im, cv2.COLOR_RGB2LAB) for im in images]).astype(float)
    return float(np.hypot(lab[..., 1] - 128, lab[..., 2] - 128).mean())


def _tensor(images: list[np.ndarray]) -> torch.Tensor:
    return torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).float() / 255.0


def _grade(image: np.ndarray) -> np.ndarray:
    """A global grade with a tone curve and less saturation: what the statistics should find."""
    x = image.astype(np.float32) / 255.0
    luma = x @ np.array([0.2126, 0.7152, 0.0722], np.float32)
    x = luma[..., None] + 0.5 * (x - luma[..., None])
    return (np.clip(x, 0, 1) ** 1.4 * 255 + 0.5).astype(np.uint8)


def test_statistics_alone_find_a_global_grade_unpaired():
    content, style = _blobs(32, 48, 1), [_grade(im) for im in _blobs(32, 48, 2)]
    net = LookNet(grid=8).eval()
    init_from_statistics(net, _tensor(content), _tensor(style), torch.Generator().manual_seed(0))
    held_out = _blobs(8, 48, 3)
    out = TorchBackend(net)(np.stack(held_out))
    fitted = np.mean([psnr(o, _grade(x)) for o, x in zip(out, held_out, strict=True)])
    untouched = np.mean([psnr(x, _grade(x)) for x in held_out])
    # measured: 16.3 dB untouched, 32.0 dB from the statistics alone (no step of training)
    assert fitted > untouched + 6.0 and fitted > 25.0, (fitted, untouched)


def test_a_greyscale_style_gives_a_greyscale_look():
    content = _blobs(16, 48, 4)
    style = [np.repeat(_grade(im).mean(2, keepdims=True).astype(np.uint8), 3, 2) for im in _blobs(16, 48, 5)]
    for chroma in (False, True):
        net = LookNet(grid=8, chroma=chroma).eval()
        report = init_from_statistics(net, _tensor(content), _tensor(style), torch.Generator().manual_seed(0))
        out = TorchBackend(net)(np.stack(_blobs(6, 48, 6)))
        if chroma:  # the last mix takes the chroma out of everything, detail included (measured 0.05)
            assert report["all"]["saturation"] <= 0.01
            assert _lab_chroma(out) < 0.5, _lab_chroma(out)
        else:  # the 3x3 mix alone does it at block level; fine detail keeps some (measured 3.7 of 49.8)
            assert _lab_chroma(out) < 0.25 * _lab_chroma(np.stack(_blobs(6, 48, 6)))


def _portraits(n: int, size: int, seed: int, face: float, backdrop: float):
    """Flat 'portraits': a disc of skin (brightness `face`) on a backdrop (`backdrop`), with face tables."""
    rng = np.random.default_rng(seed)
    images, tables = [], []
    yy, xx = np.mgrid[:size, :size]
    for _ in range(n):
        cx, cy, r = rng.uniform(0.4, 0.6) * size, rng.uniform(0.4, 0.6) * size, size * 0.2
        image = np.empty((size, size, 3), np.float32)
        image[:] = backdrop * np.array([0.9, 1.0, 1.1]) + rng.normal(0, 8, (size, size, 3))
        disc = (yy - cy) ** 2 + (xx - cx) ** 2 < r * r
        image[disc] = face * np.array([1.1, 0.95, 0.8]) + rng.normal(0, 8, (int(disc.sum()), 3))
        images.append(np.clip(image, 0, 255).astype(np.uint8))
        box = np.array([cx - r, cy - r, cx + r, cy + r], np.float32)
        tables.append(face_table([Face(box=box, score=1.0)], size, size))
    return images, torch.from_numpy(np.stack(tables))


def test_face_and_background_regions_get_their_own_light():
    """Style: bright faces on dark backdrops; content: mid faces on light backdrops (a key light)."""
    content, c_faces = _portraits(24, 64, 1, face=130, backdrop=200)
    style, s_faces = _portraits(24, 64, 2, face=200, backdrop=60)
    net = LookNet(grid=8, uses_faces=True, regions=True, local=False, adaptive=False).eval()
    gen = torch.Generator().manual_seed(0)
    report = init_from_statistics(net, _tensor(content), _tensor(style), gen, c_faces, s_faces)
    assert set(report) == {"face", "background"}
    test, t_faces = _portraits(4, 64, 3, face=130, backdrop=200)
    out = TorchBackend(net)(np.stack(test), t_faces.numpy()).astype(float)
    centre = (slice(28, 36), slice(28, 36))
    corner = (slice(0, 6), slice(0, 6))
    for o, x in zip(out, test, strict=True):
        assert o[centre].mean() > x[centre].mean() + 30  # the face is lit
        assert o[corner].mean() < x[corner].mean() - 60  # the backdrop goes dark
    # without faces the whole frame is background
    assert TorchBackend(net)(np.stack(test))[:, centre[0], centre[1]].mean() < 100


def test_a_close_up_still_gives_its_backdrop_from_the_pixels_farthest_from_the_face():
    """One style still whose face fills the frame leaves no pixel far from it: the backdrop's statistics
    come from the least face-like pixels (the corners) instead of failing."""
    content, c_faces = _portraits(24, 64, 1, face=130, backdrop=200)
    style, s_faces = _portraits(1, 64, 2, face=200, backdrop=60)
    s_faces[0, 0, 2] = 0.75  # a face three quarters of the frame high: every pixel is within 1.5 of it
    net = LookNet(grid=8, uses_faces=True, regions=True, local=False, adaptive=False).eval()
    init_from_statistics(net, _tensor(content), _tensor(style), torch.Generator(), c_faces, s_faces)
    out = TorchBackend(net)(np.stack(content[:4]), c_faces[:4].numpy())
    assert out[:, :6, :6].mean() < 110  # the light backdrop (200) taken towards the still's dark one


def test_tones_the_content_does_not_show_keep_their_distance():
    """A region fitted on a narrow bright backdrop (content 0.70-0.90, style 0.40-0.60) takes the tones
    in between across, and continues with slope 1 beyond them: dark hair in that region stays dark
    instead of being lifted to the style backdrop's darkest tone (a haze round every head)."""
    from portrait_style.look.init import _tone_curve

    gen = torch.Generator().manual_seed(0)
    content = 0.7 + 0.2 * torch.rand(20_000, generator=gen, dtype=torch.float64)
    style = 0.4 + 0.2 * torch.rand(20_000, generator=gen, dtype=torch.float64)
    curve = _tone_curve(content, style, 11)  # knots at 0, 0.1, ..., 1
    assert torch.allclose(curve[8], torch.tensor(0.5, dtype=curve.dtype), atol=0.02)  # 0.8 -> 0.5
    assert curve[1] < 0.0  # 0.1, far below the backdrop: 0.4 - (0.7 - 0.1), not 0.4
    assert torch.allclose(curve[1:7].diff(), torch.full((5,), 0.1, dtype=curve.dtype), atol=0.01)
    assert torch.allclose(curve[10], torch.tensor(0.7, dtype=curve.dtype), atol=0.01)  # 0.6 + (1 - 0.9)


def test_face_statistics_need_faces():
    content, c_faces = _portraits(2, 32, 1, face=130, backdrop=200)
    c_faces[:, :, 3] = 0  # no face anywhere
    net = LookNet(grid=8, uses_faces=True, regions=True)
    with pytest.raises(InputError, match="too few face pixels"):
        init_from_statistics(net, _tensor(content), _tensor(content), torch.Generator(), c_faces, c_faces)


def test_regions_need_faces():
    with pytest.raises(ValueError, match="needs uses_faces"):
        LookNet(regions=True)


@pytest.mark.parametrize(
    "args", [dict(chroma=True), dict(uses_faces=True, regions=True, local=False, adaptive=False, chroma=True)]
)
def test_the_new_parts_export_to_onnx(tmp_path: Path, args: dict):
    torch.manual_seed(0)
    net = LookNet(grid=8, **args).eval()
    content, c_faces = _portraits(8, 64, 1, face=130, backdrop=200)
    style, s_faces = _portraits(8, 64, 2, face=200, backdrop=60)
    faces = (c_faces, s_faces) if args.get("regions") else (None, None)
    init_from_statistics(net, _tensor(content), _tensor(style), torch.Generator().manual_seed(0), *faces)
    with torch.no_grad():
        net.log_saturation.fill_(-0.5)
    path = export_onnx(net, tmp_path / "look.onnx")
    batch = np.stack(_blobs(2, 64, 7))[:, :, :48]
    table = np.stack([c_faces[0].numpy(), np.zeros_like(c_faces[0].numpy())])
    ours, ref = OnnxRuntimeBackend(path)(batch, table), TorchBackend(net)(batch, table)
    assert np.abs(ours.astype(int) - ref.astype(int)).max() <= 1


def _steady_run(steady: SteadyFaceTables) -> tuple[np.ndarray, np.ndarray]:
    """A jittering face, still, then a jump to the right (a move): its raw and steadied tables."""
    rng = np.random.default_rng(0)
    raw, smooth = [], []
    for i in range(120):
        x = 300.0 + (200.0 if i >= 60 else 0.0)
        jitter = rng.normal(0, 3, 4).astype(np.float32)
        box = np.array([x, 200, x + 100, 320], np.float32) + jitter
        faces = [Face(box=box, score=1.0, track_id=7)]
        raw.append(face_table(faces, 720, 1280)[0])
        smooth.append(steady(faces, 720, 1280, t=i / 30)[0])
    return np.array(raw), np.array(smooth)


def test_steady_face_tables_calm_jitter_and_follow_a_move():
    cfg = FaceConfig()
    steady = SteadyFaceTables(cfg.light_min_cutoff, cfg.light_beta, cfg.smooth_fps, cfg.light_size_beta)
    raw, smooth = _steady_run(steady)
    assert smooth[20:60, :3].std(0).max() < 0.3 * raw[20:60, :3].std(0).max()  # jitter calmed
    assert abs(smooth[-1, 0] - raw[-20:, 0].mean()) < 0.02  # the light arrived where the face went
    steady([], 720, 1280, t=5.0)
    assert not steady._lights  # an ended track leaves no state behind
    # the size's own, lower beta: its jitter calmed more than with the place's beta, the place as before
    _, same = _steady_run(SteadyFaceTables(cfg.light_min_cutoff, cfg.light_beta, cfg.smooth_fps))
    assert smooth[20:60, 2].std() < 0.8 * same[20:60, 2].std()
    assert np.array_equal(smooth[:, :2], same[:, :2])


def test_face_lights_are_held_and_fade_when_faces_come_and_go():
    """A face found for a second, lost for two (a detection miss, a turned head), found again as a new
    track: its light is held, then crossfades with the resting light and back, never snapping on or off;
    without a hold, a fade and a resting light (the class's defaults), the light goes with the face."""
    cfg = FaceConfig()
    box = np.array([590, 240, 690, 380], np.float32)

    def run(steady, frames=150):
        tables = []
        for i in range(frames):
            seen = i < 30 or i >= 90
            faces = [Face(box=box, score=1.0, track_id=1 if i < 30 else 2)] if seen else []
            tables.append(steady(faces, 720, 1280, t=i / 30))
        return np.array(tables)

    lights = SteadyFaceTables(
        cfg.light_min_cutoff, cfg.light_beta, cfg.smooth_fps, cfg.light_size_beta,
        cfg.light_hold_s, cfg.light_fade_s, cfg.light_rest,
    )  # fmt: skip
    tables = run(lights)
    on = tables[..., 3].sum(1)
    assert tables[0, 0, 3] == 1.0  # a face in the first frame: its light on at once
    assert np.allclose(on, 1.0, atol=1e-5)  # never dark, never doubled
    assert (tables[30:59, 0, 3] == 1.0).all() and np.allclose(tables[30:59, 0, 2], tables[29, 0, 2])  # held
    resting = np.isclose(tables[..., 2], cfg.light_rest[2])
    for light in (resting, ~resting):  # each light eased on and off: at most 1.5x the fade's mean step
        steps = np.abs(np.diff(np.where(light, tables[..., 3], 0.0).sum(1)))
        assert steps.max() <= 1.5 / (cfg.light_fade_s * cfg.smooth_fps) and steps.max() > 0
    rest = tables[80, 0]  # gone for longer than the hold and the fade: the resting light alone
    assert np.allclose(rest, [*cfg.light_rest, 1.0]) and not tables[80, 1:].any()
    assert tables[-1, 0, 3] == 1.0 and not tables[-1, 1:].any() and not lights._lights.keys() - {2}
    bare = run(SteadyFaceTables(cfg.light_min_cutoff, cfg.light_beta, cfg.smooth_fps))
    assert (bare[30:90, :, 3] == 0).all() and (bare[90:, 0, 3] == 1).all()
    lights.reset()  # no face, then a false detection for two frames: the resting light stays on
    flash = [
        lights([Face(box=box, score=1.0, track_id=9)] if i in (30, 31) else [], 720, 1280, t=i / 30)
        for i in range(90)
    ]
    rest_on = np.array([table[np.isclose(table[:, 2], cfg.light_rest[2]), 3].sum() for table in flash])
    assert rest_on[0] == 1.0 and rest_on.min() > 0.95 and rest_on[-1] == 1.0


def test_faces_in_view_keep_their_rows_before_held_lights():
    """A big face lost (its light held) while four small faces are in view: the table's four rows go to
    the faces in view, the held light and the resting light are left out; once the small faces go too,
    the big face's held light is back in the table."""
    cfg = FaceConfig()
    lights = SteadyFaceTables(
        cfg.light_min_cutoff, cfg.light_beta, cfg.smooth_fps, cfg.light_size_beta,
        cfg.light_hold_s, cfg.light_fade_s, cfg.light_rest,
    )  # fmt: skip
    big = Face(box=np.array([500, 100, 800, 500], np.float32), score=1.0, track_id=0)
    boxes = [np.array([100 + 250 * k, 500, 160 + 250 * k, 580], np.float32) for k in range(4)]
    small = [Face(box=b, score=1.0, track_id=k + 1) for k, b in enumerate(boxes)]
    lights([big], 720, 1280, t=0.0)
    table = lights(small, 720, 1280, t=1 / 30)
    size = (580 - 500) / 720
    assert np.allclose(table[:, 2], size) and (table[:, 3] > 0).all()  # the small faces, fading in
    assert (table[:, 3] < 0.1).all() and len(lights._lights) == 5  # (the big one's light is still held)
    table = lights([], 720, 1280, t=2 / 30)
    assert np.isclose(table[0, 2], 400 / 720) and table[0, 3] == 1.0  # held, the largest of the rest


def test_a_two_region_look_without_faces_starts_both_regions_from_the_whole_images():
    content, style = _blobs(8, 48, 1), [_grade(im) for im in _blobs(8, 48, 2)]
    net = LookNet(grid=8, uses_faces=True, regions=True, local=False)
    report = init_from_statistics(net, _tensor(content), _tensor(style), torch.Generator().manual_seed(0))
    assert set(report) == {"face", "background"} and report["face"] == report["background"]
    torch.testing.assert_close(net.bg_curve_steps, net.curve_steps)
