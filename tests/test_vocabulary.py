"""Each shared vocabulary is written once (storyreel/core/vocabulary.py); everything else agrees."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from storyreel.backends.keyframes import animatic
from storyreel.backends.vision import embedded
from storyreel.core import vocabulary as vocab
from storyreel.stages import script, shotlist

# Schema property name -> the vocabulary its enum must list.
ENUMS = {
    "beat": (*vocab.BEATS, vocab.SINGLE_BEAT),
    "time_of_day": vocab.TIMES_OF_DAY,
    "mood": vocab.MOODS,
    "camera": vocab.CAMERA_MOVES,
    "transition": vocab.TRANSITIONS,
    "celestial": vocab.CELESTIAL,
}


def enums_named(node: Any, found: dict[str, list[list]], name: str = "") -> None:
    if isinstance(node, dict):
        if "enum" in node and name:
            found.setdefault(name, []).append(node["enum"])
        for key, value in node.items():
            child = key if key not in ("properties", "items", "additionalProperties") else name
            enums_named(value, found, child if isinstance(value, dict) else name)
    elif isinstance(node, list):
        for item in node:
            enums_named(item, found, name)


def test_schema_enums_list_the_vocabulary(repo: Path):
    found: dict[str, list[list]] = {}
    for path in sorted((repo / "schemas").rglob("*.yaml")):
        enums_named(yaml.safe_load(path.read_text()), found)
    for name, words in ENUMS.items():
        assert found.get(name), f"no schema enum for {name}"
        for enum in found[name]:
            assert list(enum) == list(words), name


def test_character_kinds_are_the_drawable_figures(repo: Path):
    found: dict[str, list[list]] = {}
    enums_named(yaml.safe_load((repo / "schemas/artifacts/style.schema.yaml").read_text()), found)
    assert sorted(found["kind"][0]) == sorted(vocab.FIGURES)
    assert set(embedded.KIND_DESCRIPTORS) <= set(vocab.FIGURES)


def test_tables_keyed_by_a_vocabulary_cover_it_exactly():
    assert set(shotlist.MOOD_MOVES) == set(vocab.MOODS)
    assert all(set(moves) <= set(vocab.CAMERA_MOVES) for moves in shotlist.MOOD_MOVES.values())
    assert set(script.MOOD_WORDS) == set(vocab.MOODS)
    assert set(script.TIME_WORDS) == set(vocab.TIMES_OF_DAY)
    assert set(vocab.TIME_PHRASES) == set(vocab.TIMES_OF_DAY)
    assert set(embedded.LIGHTING) == set(vocab.TIMES_OF_DAY)
    assert set(animatic.MOOD_TONE) == set(vocab.MOODS)


def test_the_vision_backend_names_only_drawable_subjects():
    assert tuple(embedded.SCENERY) == vocab.SCENERY
    assert tuple(embedded.PROPS) == vocab.PROPS
    assert tuple(embedded.FIGURES) == vocab.FIGURES
