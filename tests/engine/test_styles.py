"""The styles shipped inside the package: each loads, runs, credits its data and has a model card."""

import numpy as np
import pytest
import torch

from portrait_style.cli import main
from portrait_style.engine.checkpoint import load_style
from portrait_style.engine.styles import builtin_styles, default_style, resolve_style
from portrait_style.errors import ModelError

STYLES = builtin_styles()


def test_at_least_one_style_ships_and_the_default_is_one_of_them():
    assert STYLES
    assert default_style() in STYLES


@pytest.mark.parametrize("name", sorted(STYLES))
def test_style_loads_runs_and_is_documented(name):
    model, meta = load_style(STYLES[name])
    assert meta.name == name and meta.mode in ("face", "frame")
    assert meta.license and meta.attribution and meta.description
    assert meta.training.get("steps", 0) > 0 and meta.training.get("hardware")
    out = model(torch.full((1, 32, 32, 3), 100, dtype=torch.uint8))
    assert out.shape == (1, 32, 32, 3)
    card = STYLES[name].with_suffix(".md")
    assert card.is_file() and name in card.read_text()


def test_styles_command_lists_every_style(capsys):
    assert main(["styles"]) == 0
    listed = capsys.readouterr().out
    for name in STYLES:
        assert name in listed


def test_unknown_style_names_the_known_ones():
    with pytest.raises(ModelError) as err:
        resolve_style("no-such-style")
    for name in STYLES:
        assert name in str(err.value)


def test_the_issues_three_learned_styles_ship():
    assert {"studio", "mono", "starry-night"} <= set(STYLES)
    for name in ("studio", "mono", "starry-night"):
        _, meta = load_style(STYLES[name])
        assert "CUT" in meta.training["method"]  # learned by the trainer, not distilled from a grade
    assert load_style(STYLES["starry-night"])[1].training["config"]["few_shot"] is True


def test_mono_is_greyscale():
    import skimage.data

    from portrait_style.api import Stylizer

    image = skimage.data.astronaut()[::2, ::2]
    out = Stylizer(style="mono", mode="frame").stylize(image).astype(int)
    spread_in = np.abs(image.astype(int) - image.mean(axis=2, keepdims=True)).mean()
    spread_out = np.abs(out - out.mean(axis=2, keepdims=True)).mean()
    assert spread_out < 0.25 * spread_in  # channels nearly equal: grey


def test_starry_night_paints_in_its_palette_at_its_own_scale():
    import skimage.data

    from portrait_style.api import Stylizer

    image = skimage.data.astronaut()  # red-dominated (mean R > B)
    stylizer = Stylizer(style="starry-night")
    assert stylizer.mode == "frame" and stylizer.frame_size == 2 * stylizer.meta.resolution
    out = stylizer.stylize(image).reshape(-1, 3).mean(axis=0)
    assert out[2] > out[0] + 15  # the painting's blues win over the photo's reds
