from dataclasses import fields, replace

import pytest

from portrait_style.errors import InputError
from portrait_style.trainer.config import TrainConfig, dump_toml, from_dict, load_toml, resolve, validate

BASE = TrainConfig(content_dir="a", style_dir="b", name="x")


def test_defaults_resolve_from_method_and_data():
    many = resolve(BASE, n_style_images=500)
    assert (many.few_shot, many.lambda_nce, many.nce_idt) == (False, 1.0, True)
    assert many.diffaugment == "translation,cutout"
    assert many.out_dir.endswith("runs/x") and many.cache_dir

    few = resolve(replace(BASE, method="fastcut"), n_style_images=10)
    assert (few.few_shot, few.lambda_nce, few.nce_idt) == (True, 10.0, False)
    assert few.diffaugment == "color,translation,cutout"

    large = resolve(BASE, n_style_images=5000)
    assert large.diffaugment == ""


def test_explicit_values_win_over_auto():
    cfg = resolve(replace(BASE, few_shot=False, lambda_nce=3.0, nce_idt=False, diffaugment="none"), 2)
    assert (cfg.few_shot, cfg.lambda_nce, cfg.nce_idt, cfg.diffaugment) == (False, 3.0, False, "")


@pytest.mark.parametrize(
    "change, words",
    [
        ({"mode": "video"}, "mode"),
        ({"size": 50}, "multiple of 4"),
        ({"size": 16}, "size"),
        ({"steps": 0}, "steps"),
        ({"gan_loss": "wgan"}, "gan_loss"),
        ({"nce_layers": (0, 42)}, "nce_layers"),
        ({"diffaugment": "color,blur"}, "blur"),
        ({"name": "a/b"}, "name"),
        ({"content_dir": ""}, "content"),
        ({"style_dir": ""}, "style"),
        ({"lambda_style": 0.5}, "perceptual_weights"),
    ],
)
def test_validate_rejects_with_one_clear_line(change, words):
    with pytest.raises(InputError, match=words) as info:
        validate(replace(BASE, **change))
    assert "\n" not in str(info.value)


def test_toml_round_trip(tmp_path):
    cfg = resolve(replace(BASE, description='say "hi"\\n', lr=1e-5, nce_layers=(0, 2)), 3)
    path = tmp_path / "c.toml"
    path.write_text(dump_toml(cfg))
    assert from_dict(load_toml(path)) == cfg


def test_unknown_setting_is_an_input_error(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('content_dir = "a"\nlearning_rate = 0.1\n')
    with pytest.raises(InputError, match="learning_rate"):
        load_toml(path)
    with pytest.raises(InputError, match="not found"):
        load_toml(tmp_path / "missing.toml")
    (tmp_path / "bad.toml").write_text("steps = = 3")
    with pytest.raises(InputError, match="cannot read"):
        load_toml(tmp_path / "bad.toml")


@pytest.mark.parametrize("preset", ["matched", "grade", "portraits"])
def test_a_look_preset_fills_what_is_left_unset_and_flags_win(preset):
    from portrait_style.trainer.config import LOOK_PRESETS, with_family_defaults

    filled = with_family_defaults(TrainConfig(content_dir="a", style_dir="b", look_preset=preset))
    for name, value in LOOK_PRESETS[preset].items():
        assert getattr(filled, name) == value, name
    validate(filled)  # every preset is a valid combination (e.g. regions come with faces)
    mine = with_family_defaults(
        TrainConfig(content_dir="a", style_dir="b", look_preset=preset, look_chroma=True, look_position=2.0)
    )
    assert (mine.look_chroma, mine.look_position) == (True, 2.0)


def test_a_matched_look_trains_finer_unless_it_reads_faces():
    from portrait_style.trainer.config import with_family_defaults

    def scale(**settings):
        cfg = with_family_defaults(TrainConfig(content_dir="a", style_dir="b", family="look", **settings))
        return cfg.size, cfg.look_grid

    assert scale(look_preset="matched") == (96, 32)
    assert scale(look_preset="matched", look_faces=True) == (64, 16)
    assert scale(look_preset="auto") == (96, 32)  # read as matched until the style photos are counted
    assert scale(look_preset="grade") == scale(look_preset="portraits") == (64, 16)
    assert scale(look_preset="matched", size=128, look_grid=8) == (128, 8)  # flags win
    generator = with_family_defaults(TrainConfig(content_dir="a", style_dir="b", family="generator"))
    assert generator.size == 256  # a generator's size is its family's


def test_a_matched_look_reads_its_context_in_luma_unless_asked():
    from portrait_style.look.train import look_net
    from portrait_style.trainer.config import with_family_defaults

    def net(**settings):
        return look_net(with_family_defaults(TrainConfig(content_dir="a", style_dir="b", **settings)))

    assert net(look_preset="matched").context_colour is False
    assert net(look_preset="matched", look_context_colour=True).context_colour is True
    assert net(look_preset="grade").context_colour is True


def test_the_auto_preset_is_chosen_from_the_style_photos():
    from portrait_style.trainer.config import LOOK_PRESETS

    asked = []

    def kind(preset):  # what look/auto_preset.py would say of the style photos
        return lambda: asked.append(preset) or preset

    look = replace(BASE, family="look")
    one = resolve(look, 1, kind("portraits"))
    assert one.look_preset == "portraits" and one.look_regions == LOOK_PRESETS["portraits"]["look_regions"]
    assert resolve(look, 96, kind("grade")).look_preset == "grade"
    assert resolve(look, 96).look_preset == "matched"  # nothing to ask: the sets taken as alike
    asked.clear()
    assert resolve(replace(look, look_preset="matched"), 1, kind("grade")).look_preset == "matched"
    assert resolve(replace(BASE, family="generator"), 1, kind("grade")).look_preset == "auto"
    assert not asked  # a preset given is kept; a generator has none
    with pytest.raises(InputError, match="look_regions needs look_faces"):  # the flags checked with it
        resolve(replace(look, look_faces=False), 1, kind("portraits"))


def test_an_unknown_look_preset_is_one_line():
    with pytest.raises(InputError, match="look_preset must be one of auto, matched, grade, portraits"):
        validate(TrainConfig(content_dir="a", style_dir="b", look_preset="cinematic"))


def test_the_preset_reaches_the_command_line(tmp_path):
    import argparse

    from portrait_style.trainer.cli import configure_parser, to_config

    parser = argparse.ArgumentParser()
    configure_parser(parser)
    args = parser.parse_args(
        ["--content-dir", "a", "--style-dir", "b", "--look-preset", "portraits", "--no-look-faces"]
    )
    cfg = to_config(args)
    assert cfg.look_preset == "portraits" and cfg.look_faces is False and cfg.look_regions is None
    with pytest.raises(InputError, match="look_regions needs look_faces"):
        validate(cfg)  # the preset's regions without the faces it needs: said before any work


def test_each_flag_says_its_default_once():
    """A default that depends on other settings is said in the flag's own help; a look_* setting left
    unset takes its value from the look preset, which is what --help says (not 'None')."""
    import argparse

    from portrait_style.trainer.cli import configure_parser

    parser = argparse.ArgumentParser()
    configure_parser(parser)
    settings = {f.name for f in fields(TrainConfig)}
    for action in parser._actions:
        if action.dest in settings:
            assert action.help.count("(default") == 1, action.help
            if action.dest.startswith("look_") and action.dest not in ("look_preset",):
                assert "None" not in action.help, action.help
