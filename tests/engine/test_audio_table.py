"""`PLAYABLE_AUDIO` against what headless Chromium was seen to play (docs/RELIABILITY.md, checked by hand
once): the table may only copy codecs that played, and must re-encode MP2 where Chromium was silent."""

import pytest

from portrait_style.engine.audio_remux import PLAYABLE_AUDIO, audio_plan

# container -> codecs whose copied audio Chromium 156 played (right sound, by envelope correlation)
PLAYED_IN_CHROMIUM = {
    ".mp4": {"aac", "mp3", "mp2", "opus", "vorbis", "flac"},
    ".mkv": {"aac", "mp3", "opus", "vorbis", "flac"},
    ".mov": {"aac", "mp3"},
}


@pytest.mark.parametrize("suffix", sorted(PLAYED_IN_CHROMIUM))
def test_auto_copies_only_what_chromium_played(suffix):
    assert PLAYABLE_AUDIO[suffix] <= PLAYED_IN_CHROMIUM[suffix]
    assert "aac" in PLAYABLE_AUDIO[suffix]


@pytest.mark.parametrize("suffix", [".mp4", ".mkv", ".mov"])
def test_the_grid_clips_mp2_is_re_encoded_by_default_and_copied_on_request(suffix):
    assert audio_plan("mp2", suffix) is True  # silent in .mkv/.mov; .mp4's other players unchecked
    assert audio_plan("mp2", suffix, "copy") is False


def test_m4v_follows_mp4():
    assert PLAYABLE_AUDIO[".m4v"] == PLAYABLE_AUDIO[".mp4"]
