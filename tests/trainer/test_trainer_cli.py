import argparse

import pytest

from portrait_style.errors import InputError
from portrait_style.trainer.cli import register, to_config


def _parse(argv):
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command")
    register(sub)
    return parser.parse_args(["train", *argv])


def test_every_setting_has_a_flag_and_flags_override_the_toml_file(tmp_path):
    toml = tmp_path / "s.toml"
    toml.write_text(
        'content_dir = "photos"\nstyle_dir = "looks"\nsteps = 100\nlr = 0.001\nspectral_norm = false\n'
    )
    args = _parse(
        ["--config", str(toml), "--steps", "7", "--nce-layers", "0", "2", "--no-progress", "--mode", "frame"]
    )
    cfg = to_config(args)
    assert (cfg.content_dir, cfg.style_dir) == ("photos", "looks")  # from the file
    assert cfg.lr == 0.001 and cfg.spectral_norm is False  # from the file
    assert cfg.steps == 7 and cfg.nce_layers == (0, 2) and cfg.progress is False  # flags win
    assert cfg.batch_size is None  # untouched: the family decides (look 8, generator 4)
    assert args.func.__name__ == "run" and args.resume is False


def test_optional_booleans_stay_auto_unless_given():
    assert to_config(_parse([])).few_shot is None
    assert to_config(_parse(["--few-shot"])).few_shot is True
    assert to_config(_parse(["--no-few-shot"])).few_shot is False


def test_resume_without_a_file_starts_from_the_runs_own_settings(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.toml").write_text(f'content_dir = "c"\nstyle_dir = "s"\nsteps = 10\nout_dir = "{run}"\n')
    cfg = to_config(_parse(["--out-dir", str(run), "--resume", "--steps", "20"]))
    assert (cfg.content_dir, cfg.steps) == ("c", 20)


def test_bad_values_are_argparse_errors_or_input_errors(tmp_path, capsys):
    with pytest.raises(SystemExit):
        _parse(["--mode", "video"])
    with pytest.raises(SystemExit):
        _parse(["--steps", "many"])
    (tmp_path / "x.toml").write_text("stepz = 3\n")
    with pytest.raises(InputError, match="stepz"):
        to_config(_parse(["--config", str(tmp_path / "x.toml")]))
