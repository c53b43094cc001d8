"""Validation before any job (issue 6, item 7): every bad config and hostile story input in
tests/data is refused with one line naming the key path (no traceback), or accepted and made
safe; a few go through `snakemake -n` to check what the user sees."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from storyreel.core import config as srconfig
from storyreel.core import stories as srstories
from storyreel.core.errors import ConfigError

from conftest import REPO, TINY_STORY, Workdir

DATA = Path(__file__).parent / "data"
BAD_CONFIGS = yaml.safe_load((DATA / "bad_configs.yaml").read_text(encoding="utf-8"))
HOSTILE = yaml.safe_load((DATA / "hostile_stories.yaml").read_text(encoding="utf-8"))
BASE = yaml.safe_load((REPO / "config" / "config.yaml").read_text())


def expand(value):
    """``{repeat, times}`` -> the long string; other values as they are."""
    if isinstance(value, dict) and set(value) == {"repeat", "times"}:
        return value["repeat"] * value["times"]
    if isinstance(value, dict):
        return {k: expand(v) for k, v in value.items()}
    if isinstance(value, list):
        return [expand(v) for v in value]
    return value


def merged(over: dict) -> dict:
    config = copy.deepcopy(BASE)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(config.get(key), dict):
            for sub, subvalue in value.items():
                if isinstance(subvalue, dict) and isinstance(config[key].get(sub), dict):
                    config[key][sub] = {**config[key][sub], **subvalue}
                else:
                    config[key][sub] = subvalue
        else:
            config[key] = value
    return config


def write_stories(case: dict, folder: Path) -> Path:
    path = folder / "stories.yaml"
    special = case.get("special")
    if special == "directory":
        path.mkdir()
    elif special == "latin1":
        path.write_bytes("stories:\n  - id: k01\n    idea: Un caf\xe9 noir.\n".encode("latin-1"))
    elif special == "missing":
        pass
    elif "raw" in case:
        path.write_text(case["raw"], encoding="utf-8")
    else:
        stories = expand(case["stories"])
        data = stories if isinstance(stories, dict) else {"stories": stories}
        path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def refusal(call) -> str:
    with pytest.raises(ConfigError) as info:
        call()
    message = str(info.value)
    assert "\n" not in message.strip(), message
    return message


@pytest.mark.parametrize("case", BAD_CONFIGS, ids=[c["name"] for c in BAD_CONFIGS])
def test_bad_config_is_refused_with_its_key_path(case, tmp_path):
    stories = tmp_path / "stories.yaml"
    stories.write_text(yaml.safe_dump({"stories": [TINY_STORY]}))

    def load() -> None:
        config = srconfig.load_config(merged(case["config"]))
        srstories.validate_stories(stories, config)

    message = refusal(load)
    assert case["expect"] in message, message


@pytest.mark.parametrize("case", HOSTILE, ids=[c["name"] for c in HOSTILE])
def test_hostile_story_input_is_answered(case, tmp_path):
    config = srconfig.load_config(merged(case.get("config") or {}))
    path = write_stories(case, tmp_path)
    if case["expect"]:
        message = refusal(lambda: srstories.validate_stories(path, config))
        assert case["expect"] in message, message
        return
    stories = srstories.validate_stories(path, config)
    for story in stories.values():
        for text in (story["idea"], story["title"] or ""):
            assert not any(ord(ch) < 32 and ch not in "\n\t" for ch in text)
            assert "\u202e" not in text
        for key, value in (case.get("clean") or {}).items():
            assert story[key] == value


def test_the_data_holds_enough_cases():
    assert len(BAD_CONFIGS) >= 60
    assert sum(1 for c in HOSTILE if c["expect"]) >= 30


def test_story_id_pattern_ends_at_the_very_end():
    assert srstories.STORY_ID_RE.match("evil") and not srstories.STORY_ID_RE.match("evil\n")


SNAKEMAKE_CASES = ["id-trailing-newline", "id-periodic-letter", "emoji-idea", "unknown-voice",
                   "language-unspoken", "stories-directory", "idea-200kb"]


@pytest.mark.workflow
@pytest.mark.parametrize("name", SNAKEMAKE_CASES)
def test_snakemake_refuses_hostile_input_in_one_line(name, tmp_path):
    case = next(c for c in HOSTILE if c["name"] == name)
    work = Workdir(tmp_path / "w", [TINY_STORY])
    write_stories(case, tmp_path)
    result = work.run("-n", "--config", f"stories={tmp_path / 'stories.yaml'}", check=False)
    assert result.returncode != 0
    assert case["expect"] in result.output
    assert "Traceback" not in result.output
    assert "is periodically repeated" not in result.output  # Snakemake's own error


@pytest.mark.workflow
def test_snakemake_refuses_inverted_scales_in_one_line(tmp_path):
    work = Workdir(tmp_path / "w", [TINY_STORY], {"stages": {
        "revise": {"min_length_scale": 1.3, "max_length_scale": 1.0}}})
    result = work.run("-n", check=False)
    assert result.returncode != 0
    assert "stages.revise.min_length_scale: 1.3 is greater than" in result.output
    assert "Traceback" not in result.output
