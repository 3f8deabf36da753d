"""The styles shipped inside the package: each loads, runs, credits its data and has a model card; the
cards, the README's style table and `portrait-style styles` all say what the files' metadata says."""

import importlib.util
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file

from portrait_style.cli import main
from portrait_style.engine import styles as styles_lib
from portrait_style.engine.checkpoint import METADATA_KEY, load_style, read_meta
from portrait_style.engine.styles import builtin_styles, default_style, resolve_style
from portrait_style.errors import ModelError

STYLES = builtin_styles()
TOOLS = Path(__file__).resolve().parents[2] / "tools"


def _tool(name: str):
    sys.path.insert(0, str(TOOLS))  # model_card imports readme_styles as a sibling script
    try:
        spec = importlib.util.spec_from_file_location(name, TOOLS / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(TOOLS))


model_card = _tool("model_card")
readme_styles = model_card.readme_styles  # the module model_card writes through (monkeypatched below)


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
        # learned by a trainer (either family) from example images, not distilled from a fixed grade
        assert meta.training["data"]["style"]["used"] >= 1
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


# -- one source of truth: cards, README table and `styles` from the metadata --------------------------
def test_cards_and_readme_table_are_up_to_date_with_the_style_files():
    """Fails when a style file changed (or came or went) and `python tools/model_card.py` was not run."""
    assert model_card.stale() == [], "run: python tools/model_card.py"


@pytest.mark.parametrize("name", sorted(STYLES))
def test_cli_card_and_readme_state_the_same_facts(name, capsys):
    meta = read_meta(STYLES[name])
    facts = [styles_lib.what_it_is(meta), styles_lib.training_summary(meta), styles_lib.metrics_summary(meta)]
    card = STYLES[name].with_suffix(".md").read_text()
    readme = readme_styles.README.read_text()
    table = readme.split(readme_styles.BEGIN)[1].split(readme_styles.END)[0]
    row = next(line for line in table.splitlines() if line.startswith(f"| `{name}`"))
    assert main(["styles"]) == 0
    listed = capsys.readouterr().out
    for fact in facts:
        assert fact in row and fact in listed
    assert meta.description in card and styles_lib.training_summary(meta) in card
    for line in styles_lib.metric_lines(meta):
        assert line in card
    if notes := meta.training.get("notes"):
        assert notes.strip() in card


@pytest.fixture
def style_dir(tmp_path, monkeypatch):
    """A private built-in styles folder (a copy of one shipped style) and README, for the tools to rewrite."""
    folder = tmp_path / "styles"
    folder.mkdir()
    name = default_style()
    shutil.copy(STYLES[name], folder / "house.safetensors")
    readme = tmp_path / "README.md"
    readme.write_text(f"# x\n\nbefore\n{readme_styles.BEGIN}\nold table\n{readme_styles.END}\nafter\n")
    monkeypatch.setattr(styles_lib, "STYLES_DIR", folder)
    monkeypatch.setattr(readme_styles, "README", readme)
    return folder


def test_update_meta_keeps_the_weights_byte_identical(style_dir):
    path = style_dir / "house.safetensors"
    before_bytes, before = styles_lib.weights_bytes(path), load_file(path)
    image = torch.full((1, 32, 32, 3), 90, dtype=torch.uint8)
    before_out = load_style(path)[0](image)
    with safe_open(str(path), framework="pt") as f:
        before_header = f.metadata()
    raw = json.loads(before_header[METADATA_KEY])
    raw["from_the_future"] = {"kept": True}  # a field a newer version wrote: must survive a rewrite
    styles_lib.update_meta(path, lambda data: data.update(from_the_future=raw["from_the_future"]))

    meta = styles_lib.update_meta(path, lambda data: data["training"].update(notes="Grand. Ünïcode too."))
    assert meta.training["notes"] == "Grand. Ünïcode too."
    assert styles_lib.weights_bytes(path) == before_bytes  # every tensor's bytes, as stored
    after = load_file(path)
    assert after.keys() == before.keys() and all(torch.equal(after[k], before[k]) for k in before)
    with safe_open(str(path), framework="pt") as f:
        header = f.metadata()
    assert json.loads(header[METADATA_KEY])["from_the_future"] == {"kept": True}
    assert {k: v for k, v in header.items() if k != METADATA_KEY} == {
        k: v for k, v in before_header.items() if k != METADATA_KEY
    }
    model, _ = load_style(path)  # still a valid style file, computing exactly what it did
    assert torch.equal(model(image), before_out)


def test_tools_regenerate_from_whatever_style_files_are_there(style_dir, capsys):
    path = style_dir / "house.safetensors"
    (style_dir / "gone.md").write_text("a card whose style file was removed\n")
    notes = style_dir.parent / "notes.md"
    notes.write_text("**Early**: warm and soft.\n\nMore detail, for the card only.\n")
    mode = styles_lib.read_meta(path).mode  # whatever the shipped default style runs in
    metrics = {"measured_with": "python tools/style_metrics.py --style house", "mode": mode}
    metrics |= {"flicker": {"ratio": 0.91, "clip": "c.mpg", "pairs": 9}}
    styles_lib.update_meta(path, lambda data: data["training"].update(metrics=metrics))
    assert model_card.stale()  # no card yet, an orphan card, the old README table

    assert model_card.main(["--notes", "house", str(notes)]) == 0
    assert model_card.main([]) == 0
    assert model_card.stale() == [] and not (style_dir / "gone.md").exists()
    card = (style_dir / "house.md").read_text()
    readme = readme_styles.README.read_text()
    assert readme.startswith("# x\n\nbefore\n") and readme.endswith(f"{readme_styles.END}\nafter\n")
    assert "old table" not in readme
    assert "**Early**: warm and soft." in card and "**Early**: warm and soft." in readme
    assert "flicker 0.91" in readme and f"| `house` (default) | {mode} |" in readme
    assert "More detail, for the card only." in card and "More detail" not in readme
    assert "- Flicker ratio on c.mpg (9 frame pairs): 0.91" in card
    capsys.readouterr()
    assert main(["styles"]) == 0
    listed = capsys.readouterr().out
    assert "house (default)" in listed and "flicker 0.91" in listed and "**Early**: warm" in listed

    styles_lib.update_meta(path, lambda data: data.update(description="Something else now"))
    assert len(model_card.stale()) == 2  # the card and the README table
    assert model_card.main(["--check"]) == 1


def test_model_card_will_not_silently_drop_hand_written_text(style_dir):
    path = style_dir / "house.safetensors"
    path.with_suffix(".md").write_text(f"old card\n{model_card.OLD_MARKER}\nJudged by eye: lovely.\n")
    with pytest.raises(SystemExit, match="--notes"):
        model_card.main([str(path)])
    assert "lovely" in path.with_suffix(".md").read_text()
