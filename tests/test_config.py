"""Config and stories validation: defaults, clear errors with key paths, hostile ids."""

from __future__ import annotations

import copy

import pytest
import yaml

from storyreel.core import config as srconfig
from storyreel.core import stories as srstories
from storyreel.core.errors import ConfigError


def test_defaults_fill_every_stage():
    cfg = srconfig.load_config({})
    assert cfg["stories"] == "config/stories.yaml"
    assert cfg["stages"]["script"]["backend"] == "template"
    assert cfg["stages"]["voice"]["fallback"] == ["espeak"]  # a list (issue 6)
    assert cfg["stages"]["asr"]["max_line_chars"] == 42
    assert cfg["stages"]["vision"]["enabled"] is True
    assert cfg["output"]["fps"] == 25


def test_given_values_are_kept():
    cfg = srconfig.load_config({"stages": {"revise": {"tolerance": 0.05}}, "seed": 9})
    assert cfg["stages"]["revise"]["tolerance"] == 0.05
    assert cfg["stages"]["revise"]["max_sentence_words"] == 24
    assert cfg["seed"] == 9


@pytest.mark.parametrize(
    ("bad", "path", "words"),
    [
        ({"stages": {"script": {"backend": "gpt"}}}, "stages.script.backend", "template"),
        ({"stages": {"voice": {"sentence_pause_s": "long"}}}, "stages.voice.sentence_pause_s",
         "not of type"),
        ({"output": {"fps": 24}}, "output.fps", "25"),
        ({"stagez": {}}, "(top level)", "stagez"),
        ({"stages": {"asr": {"wer": 1}}}, "stages.asr", "allowed keys"),
        ({"stages": {"script": {"api_key_env": "sk-123"}}}, "stages.script.api_key_env", "match"),
    ],
)
def test_bad_config_names_the_key_path(bad, path, words):
    with pytest.raises(ConfigError) as info:
        srconfig.load_config(copy.deepcopy(bad))
    message = str(info.value)
    assert message.startswith(f"config: {path}:"), message
    assert words in message
    assert "\n" not in message


def write_stories(tmp_path, stories):
    path = tmp_path / "stories.yaml"
    path.write_text(yaml.safe_dump({"stories": stories}), encoding="utf-8")
    return path


def test_stories_get_defaults(tmp_path):
    cfg = srconfig.load_config({"seed": 5, "defaults": {"duration_s": 20}})
    stories = srstories.validate_stories(write_stories(tmp_path, [{"id": "a", "idea": "x"}]), cfg)
    assert stories["a"]["duration_s"] == 20
    assert stories["a"]["seed"] == 5
    assert stories["a"]["aspect"] == "16:9"


@pytest.mark.parametrize("bad_id", ["../evil", "a/b", "UPPER", "-lead", "x" * 65, "", "a b", "é"])
def test_hostile_story_ids_are_rejected(tmp_path, bad_id):
    path = write_stories(tmp_path, [{"id": bad_id, "idea": "x"}])
    with pytest.raises(ConfigError, match=r"stories\[0\]\.id"):
        srstories.validate_stories(path, srconfig.load_config({}))


def test_duplicate_ids_and_missing_file(tmp_path):
    cfg = srconfig.load_config({})
    path = write_stories(tmp_path, [{"id": "a", "idea": "x"}, {"id": "a", "idea": "y"}])
    with pytest.raises(ConfigError, match="duplicate id 'a'"):
        srstories.validate_stories(path, cfg)
    with pytest.raises(ConfigError, match="file not found"):
        srstories.validate_stories(tmp_path / "nope.yaml", cfg)


def test_shot_overrides_must_name_a_story(tmp_path):
    cfg = srconfig.load_config({"shots": {"ghost": {"sh001": {"seed": 1}}}})
    with pytest.raises(ConfigError, match="shots.ghost"):
        srstories.validate_stories(write_stories(tmp_path, [{"id": "a", "idea": "x"}]), cfg)


def test_a_story_id_cannot_name_a_path_outside_results(tmp_path):
    cfg = srconfig.load_config({})
    with pytest.raises(ConfigError, match=r"stories\[0\]\.id"):
        srstories.validate_stories(write_stories(tmp_path, [{"id": "../x", "idea": "x"}]), cfg)


def test_example_config_and_stories_validate(repo):
    cfg = yaml.safe_load((repo / "config" / "config.yaml").read_text())
    cfg = srconfig.load_config(cfg)
    stories = srstories.validate_stories(repo / cfg["stories"], cfg)
    assert len(stories) >= 2
