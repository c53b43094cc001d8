"""The validated stories file cached for later parses of the workflow (cluster jobs)."""

from __future__ import annotations

import copy

import pytest
import yaml

from storyreel.core import config as srconfig
from storyreel.core import stories as srstories
from storyreel.core.errors import ConfigError

STORY = {"id": "tiny", "idea": "Mara lit the lamp.", "seed": 3}


@pytest.fixture
def config() -> dict:
    return srconfig.load_config({})


def write(path, stories) -> None:
    path.write_text(yaml.safe_dump({"stories": stories}))


def test_same_result_as_validating_and_a_second_parse_reads_the_cache(tmp_path, config,
                                                                      monkeypatch):
    stories = tmp_path / "stories.yaml"
    write(stories, [STORY, {**STORY, "id": "other", "aspect": "9:16"}])
    cache = tmp_path / "cache"
    first = srstories.load_stories(stories, config, cache)
    assert first == srstories.validate_stories(stories, copy.deepcopy(config))
    assert len(list(cache.glob("stories-*.json"))) == 1

    def no_validation(*args, **kwargs):
        raise AssertionError("validated again")

    monkeypatch.setattr(srstories, "validate_stories", no_validation)
    assert srstories.load_stories(stories, config, cache) == first


def test_any_change_validates_again(tmp_path, config):
    stories = tmp_path / "stories.yaml"
    cache = tmp_path / "cache"
    write(stories, [STORY])
    assert srstories.load_stories(stories, config, cache)["tiny"]["duration_s"] == 60
    config["defaults"]["duration_s"] = 30  # a default the entries take
    assert srstories.load_stories(stories, config, cache)["tiny"]["duration_s"] == 30
    write(stories, [{**STORY, "duration_s": 12}])  # the file itself
    assert srstories.load_stories(stories, config, cache)["tiny"]["duration_s"] == 12
    assert len(list(cache.glob("stories-*.json"))) == 1  # older entries are removed


def test_errors_are_the_validators_and_never_cached(tmp_path, config):
    stories = tmp_path / "stories.yaml"
    cache = tmp_path / "cache"
    write(stories, [{"id": "../x", "idea": "escape"}])
    for _ in range(2):
        with pytest.raises(ConfigError, match="stories"):
            srstories.load_stories(stories, config, cache)
    assert not list(cache.glob("stories-*.json"))
    with pytest.raises(ConfigError, match="not found"):
        srstories.load_stories(tmp_path / "missing.yaml", config, cache)


def test_a_read_only_cache_place_is_no_error(tmp_path, config):
    stories = tmp_path / "stories.yaml"
    write(stories, [STORY])
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert "tiny" in srstories.load_stories(stories, config, blocker / "cache")
