"""idea: premise vs full text, markup stripping, titles, language, schema."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from storyreel.core.artifacts import validate
from storyreel.job.context import JobContext
from storyreel.stages import idea as idea_stage

OPTIONS = {"premise_max_words": 60}
PREMISE = ("An old lighthouse keeper named Mara, on a storm-beaten island, must guide a lost "
           "fishing boat home on the night the lighthouse lamp finally fails.")
FULL_TEXT = ("Every night, a small red fox named Tilly climbed the hill.\n\n"
             "One evening the moon slipped low.\n\nBy morning the sky was bright again.")


def entry(idea: str, **extra) -> dict:
    base = {"id": "demo", "idea": idea, "title": None, "duration_s": 45, "aspect": "16:9",
            "voice": None, "style": "storybook", "seed": 7, "language": "en"}
    return base | extra


def test_premise_is_one_short_paragraph():
    doc = idea_stage.normalise_idea(entry(PREMISE), OPTIONS)
    validate(doc, "idea")
    assert doc["kind"] == "premise"
    assert doc["premise"] == PREMISE
    assert doc["text"] is None
    assert doc["words"] == 25
    assert (doc["duration_s"], doc["aspect"], doc["seed"]) == (45.0, "16:9", 7)


@pytest.mark.parametrize(("idea", "max_words"), [
    (FULL_TEXT, 60),  # several paragraphs
    (PREMISE, 10),  # one paragraph, but longer than premise_max_words
])
def test_full_text(idea, max_words):
    doc = idea_stage.normalise_idea(entry(idea), {"premise_max_words": max_words})
    validate(doc, "idea")
    assert doc["kind"] == "text"
    assert doc["text"].split() == idea.split()
    assert doc["premise"] == idea_stage.tx.split_sentences(idea)[0]


def test_paragraph_breaks_kept_and_whitespace_collapsed():
    doc = idea_stage.normalise_idea(entry("One   two\nthree.\n\n\n\nFour  five."),
                                    {"premise_max_words": 2})
    assert doc["text"] == "One two three.\n\nFour five."


def test_markup_is_stripped():
    raw = ("A **brave** _little_ robot in a [grey city](http://example.com) "
           "<em>learns</em> to paint.")
    doc = idea_stage.normalise_idea(entry(raw), OPTIONS)
    assert doc["premise"] == "A brave little robot in a grey city learns to paint."
    for char in "*_[]()<>":
        assert char not in doc["premise"]


def test_bullets_and_headings_in_a_full_text():
    raw = "# The Storm\n\n- The wind rose.\n- The lamp failed.\n\n## Later\n\nDawn came."
    doc = idea_stage.normalise_idea(entry(raw), {"premise_max_words": 3})
    assert doc["title"] == "The Storm"
    assert "#" not in doc["text"] and "- " not in doc["text"]
    assert "The wind rose." in doc["text"] and "Dawn came." in doc["text"]


def test_given_title_wins():
    doc = idea_stage.normalise_idea(entry(PREMISE, title="  The Last  Keeper "), OPTIONS)
    assert doc["title"] == "The Last Keeper"


@pytest.mark.parametrize(("idea", "title"), [
    (PREMISE, "Mara and the Storm-Beaten Island"),
    ("A shy robot learns to paint.", "The Shy Robot"),
    ("Later, Tomas waits by the door.", "Tomas and the Door"),
    ("Later, Tomas waits.", "Tomas"),
])
def test_title_derived(idea, title):
    assert idea_stage.normalise_idea(entry(idea), OPTIONS)["title"] == title


def test_language_comes_from_the_validated_story():
    doc = idea_stage.normalise_idea({**entry(PREMISE), "language": "fr",
                                     "detected_language": "fr"}, OPTIONS)
    assert (doc["language"], doc["detected_language"]) == ("fr", "fr")


def test_a_text_in_another_language_gets_a_title_from_its_first_words():
    text = "東京に住むキツネのタマは、毎晩丘に登った。\n\n月は池の中で休んでいた。"
    doc = idea_stage.normalise_idea({**entry(text), "title": None, "language": "ja"}, OPTIONS)
    assert doc["kind"] == "text" and doc["title"] == "東京に住むキツネのタマは"


def test_main_writes_a_valid_artifact(tmp_path):
    out = tmp_path / "results" / "demo" / "idea.json"
    smk = SimpleNamespace(params=SimpleNamespace(entry=entry(PREMISE), options=OPTIONS),
                          output=SimpleNamespace(idea=str(out)))
    idea_stage.main(smk, JobContext.alone("idea"))
    doc = json.loads(out.read_text())
    validate(doc, "idea")
    assert doc["story"] == "demo"
