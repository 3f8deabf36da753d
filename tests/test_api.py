import numpy as np
import pytest
import skimage.data

from portrait_style.api import Stylizer, pad_to_multiple
from portrait_style.errors import ModelError
from tests.models import make_style


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("PORTRAIT_STYLE_CACHE", str(tmp_path / "cache"))


def test_pad_to_multiple_reflects_and_keeps_the_original_corner():
    image = np.arange(5 * 7 * 3, dtype=np.uint8).reshape(5, 7, 3)
    padded = pad_to_multiple(image, 4)
    assert padded.shape == (8, 8, 3)
    assert np.array_equal(padded[:5, :7], image)
    assert pad_to_multiple(padded, 4) is padded


def test_frame_mode_keeps_odd_sizes(tmp_path):
    stylizer = Stylizer(model=str(make_style(tmp_path, "frame")))
    assert stylizer.mode == "frame"  # the style's own mode is the default
    frame = skimage.data.astronaut()[:101, :77]
    out = stylizer.stylize(frame)
    assert out.shape == frame.shape and out.dtype == np.uint8
    assert np.abs(out.astype(int) - frame.astype(int)).mean() > 5


def test_face_mode_only_touches_the_face(tmp_path):
    stylizer = Stylizer(model=str(make_style(tmp_path, "face")), backend="onnxruntime", device="cpu")
    canvas = np.full((512, 900, 3), 90, np.uint8)
    canvas[:, :512] = skimage.data.astronaut()
    out = stylizer.stylize(canvas)
    assert np.array_equal(out[:, 700:], canvas[:, 700:])  # far from the face: untouched, bit for bit
    assert np.abs(out[100:200, 180:300].astype(int) - canvas[100:200, 180:300]).mean() > 10


def test_frame_size_stylizes_a_smaller_copy_and_scales_it_back(tmp_path):
    import cv2

    from portrait_style.engine.checkpoint import load_style, save_style

    model, meta = load_style(make_style(tmp_path, "frame"))
    meta.frame_size = 64
    path = save_style(tmp_path / "small.safetensors", model, meta)
    frame = skimage.data.astronaut()[:200, :300]
    small = Stylizer(model=str(path))
    assert small.frame_size == 64  # the style's own setting is the default
    out = small.stylize(frame)
    assert out.shape == frame.shape and out.dtype == np.uint8
    # the same as stylizing a 64 x 96 copy at full size and scaling it up
    full = Stylizer(model=str(path), frame_size=0)
    low = full.stylize(cv2.resize(frame, (96, 64), interpolation=cv2.INTER_AREA))
    assert np.array_equal(out, cv2.resize(low, (300, 200), interpolation=cv2.INTER_CUBIC))
    assert not np.array_equal(out, full.stylize(frame))
    # never scaled up: a frame already smaller than frame_size runs as it comes
    tiny = frame[:48, :40]
    assert np.array_equal(small.stylize(tiny), full.stylize(tiny))


def test_face_mode_without_faces_returns_the_frame(tmp_path):
    stylizer = Stylizer(model=str(make_style(tmp_path, "face")))
    flat = np.full((120, 160, 3), 200, np.uint8)
    assert np.array_equal(stylizer.stylize(flat), flat)


def test_stream_matches_stylize_in_order(tmp_path):
    stylizer = Stylizer(model=str(make_style(tmp_path, "frame")))
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 256, (40, 52, 3), dtype=np.uint8) for _ in range(7)]
    streamed = list(stylizer.stream(iter(frames)))
    assert len(streamed) == 7
    for frame, out in zip(frames, streamed, strict=True):
        assert np.array_equal(out, stylizer.stylize(frame))


def test_stream_surfaces_errors_and_stops(tmp_path):
    stylizer = Stylizer(model=str(make_style(tmp_path, "frame")))
    frames = [np.zeros((8, 8, 3), np.uint8), np.zeros((8, 8), np.uint8)]  # second frame is not RGB
    with pytest.raises(ValueError, match="HxWx3 uint8"):
        list(stylizer.stream(frames))


def test_stream_can_be_abandoned_early(tmp_path):
    import threading

    stylizer = Stylizer(model=str(make_style(tmp_path, "frame")))
    before = threading.active_count()
    gen = stylizer.stream(np.zeros((16, 16, 3), np.uint8) for _ in range(1000))
    next(gen)
    gen.close()
    assert threading.active_count() == before


def test_bad_mode(tmp_path):
    with pytest.raises(ModelError, match="unknown mode"):
        Stylizer(model=str(make_style(tmp_path, "frame")), mode="sideways")
