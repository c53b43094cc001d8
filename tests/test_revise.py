"""revise: speakable text, splits, ids, fitting to the target, the change log, the schema."""

from __future__ import annotations

import json
import re
from types import SimpleNamespace

import pytest

from storyreel import text as tx
from storyreel.core.artifacts import validate, write_json
from storyreel.core.errors import ConfigError
from storyreel.core.types import Budget
from storyreel.job.context import JobContext
from storyreel.stages import revise as rv

WPM = 165.0
PAUSES = {"sentence": 0.3, "scene": 0.7}
OPTIONS = {"backend": "rules", "tolerance": 0.15, "max_sentence_words": 24,
           "min_length_scale": 0.9, "max_length_scale": 1.15}
ALLOWED = re.compile(r"^[^\W\d_]+(?:[^\W\d_]|[ .,!?'\-:;])*$")


def scene(index: int, narration: str) -> dict:
    return {"id": f"sc{index:02d}", "beat": "scene", "narration": narration,
            "visual": "A frame.", "setting": "the island", "time_of_day": "night",
            "mood": "calm", "characters": ["Mara"]}


def script(*narrations: str, kind: str = "premise") -> dict:
    """A written script (a premise's); ``kind="text"`` for a text given verbatim."""
    return {"story": "demo", "title": "Demo", "language": "en", "kind": kind, "seed": 1,
            "backend": "verbatim" if kind == "text" else "template", "model": None,
            "scenes": [scene(i, n) for i, n in enumerate(narrations, start=1)]}


def idea(duration: float) -> dict:
    return {"story": "demo", "duration_s": duration, "language": "en", "title": "Demo"}


def revise(doc: dict, duration: float, **options) -> dict:
    out = rv.revise_script(doc, idea(duration), OPTIONS | options, WPM, PAUSES)
    validate(out, "revised")
    return out


def texts(revised: dict) -> list[str]:
    return [s["text"] for sc in revised["scenes"] for s in sc["sentences"]]


def estimate(revised: dict, scale: float | None = None) -> float:
    sentences = texts(revised)
    budget = Budget(revised["target_s"], WPM, PAUSES["sentence"], PAUSES["scene"])
    return budget.estimate(sum(tx.word_count(t) for t in sentences), len(sentences),
                           len(revised["scenes"]), scale or revised["length_scale"])


def test_expansions_and_only_speakable_characters():
    doc = script("**Dr. Mara** paid $5.50 on 12/03/2024 at 7:30 pm \u2014 her 3rd try! "
                 "She saw 42 gulls (about 50%) in 1999.",
                 "# The end\n\n\u201cGood,\u201d she said \U0001F600.")
    out = revise(doc, 20)
    joined = " ".join(texts(out))
    for spoken in ("Doctor Mara", "five dollars and fifty cents", "December third",
                   "seven thirty in the evening", "third try", "forty-two gulls",
                   "fifty percent", "nineteen ninety-nine", "Good, she said."):
        assert spoken in joined
    for sentence in texts(out):
        assert ALLOWED.match(sentence), sentence
        assert sentence[-1] in ".!?"
    kinds = {c["kind"] for c in out["changes"]}
    assert {"abbreviation", "currency", "date", "time", "ordinal", "number", "percent", "year",
            "symbol", "markup"} <= kinds


def test_sentence_ids_and_scene_fields():
    out = revise(script("One two three. Four five six. Seven eight nine.", "Ten eleven."), 6)
    assert [s["id"] for s in out["scenes"][0]["sentences"]] == ["sc01_01", "sc01_02", "sc01_03"]
    assert [s["id"] for s in out["scenes"][1]["sentences"]] == ["sc02_01"]
    assert out["scenes"][0]["characters"] == ["Mara"]
    assert out["scenes"][0]["visual"] == "A frame."


def test_long_sentences_are_split_at_clause_boundaries():
    long = ("The wind howled across the island all night long and the waves rose higher, "
            "but Mara climbed the tower stairs one by one while the old lamp flickered above.")
    out = revise(script(long), 10, max_sentence_words=12)
    sentences = texts(out)
    assert len(sentences) > 1
    assert all(len(s.split()) <= 16 for s in sentences)
    assert tx.tokenize(" ".join(sentences))[:5] == tx.tokenize(long)[:5]
    assert any(c["kind"] == "split" for c in out["changes"])


@pytest.mark.parametrize("duration", [12, 15, 18])
def test_pace_brings_the_estimate_to_the_target(duration):
    narration = " ".join(["The keeper climbs the stairs and lights the lamp again."] * 4)
    out = revise(script(narration), duration)
    assert OPTIONS["min_length_scale"] <= out["length_scale"] <= OPTIONS["max_length_scale"]
    assert out["estimated_s"] == pytest.approx(estimate(out), abs=0.01)
    assert out["fits"] is (abs(out["estimated_s"] - duration) <= 0.15 * duration)
    pace = [c for c in out["changes"] if c["kind"] == "pace"]
    assert (len(pace) == 1) is (out["length_scale"] != 1.0)


def test_too_long_is_trimmed_middle_scenes_first_never_first_sentences():
    scenes = [" ".join(f"Scene {tx.number_to_words(i)} sentence {tx.number_to_words(j)} has "
                       "a few more words." for j in range(1, 6)) for i in range(1, 6)]
    out = revise(script(*scenes), 30)
    assert out["fits"]
    assert out["estimated_s"] <= 30 * 1.15 + 1e-6
    trims = [c for c in out["changes"] if c["kind"] == "trim"]
    assert trims and trims[0]["scene"] == "sc03"
    for sc in out["scenes"]:
        number = tx.number_to_words(int(sc["id"][2:]))
        assert sc["sentences"][0]["text"] == f"Scene {number} sentence one has a few more words."
    kept = {s for s in texts(out)}
    assert all(c["before"] not in kept for c in trims)


def test_too_short_keeps_fits_false_and_warns(caplog):
    out = revise(script("Mara waits."), 60)
    assert out["fits"] is False
    assert out["length_scale"] == OPTIONS["max_length_scale"]
    assert "does not fit" in caplog.text


def test_verbatim_text_is_never_cut_and_refused_in_one_line_when_no_pace_fits():
    """Issue 16: a text given verbatim was trimmed to fit (or left too short with a warning);
    now it is paced within the allowed range, or refused naming the durations it fits."""
    scenes = [" ".join(f"Scene {tx.number_to_words(i)} sentence {tx.number_to_words(j)} has "
                       "a few more words." for j in range(1, 6)) for i in range(1, 6)]
    for duration, verb in ((30, "shorten"), (400, "lengthen")):
        with pytest.raises(ConfigError) as info:
            revise(script(*scenes, kind="text"), duration)
        message = str(info.value)
        assert "\n" not in message
        assert f"story 'demo': duration_s {duration} cannot be kept" in message
        assert f"{verb} the text" in message
        low, high = (float(x) for x in re.search(r"between ([\d.]+) and ([\d.]+)",
                                                  message).groups())
        fitted = revise(script(*scenes, kind="text"), (low + high) / 2)
        assert fitted["fits"] and not [c for c in fitted["changes"] if c["kind"] == "trim"]
        assert texts(fitted) == texts(revise(script(*scenes), (low + high) / 2))


def test_every_edit_is_in_the_change_log():
    narrations = ["Dr. Lee paid \u00a320 on 3 March 2024.", "Plain text stays plain.",
                  "At 6 am, 2 boats \u2014 maybe 3 \u2014 left."]
    out = revise(script(*narrations), 8)
    changed_scenes = {c["scene"] for c in out["changes"] if c["kind"] != "pace"}
    for sc, original in zip(out["scenes"], narrations, strict=True):
        spoken = " ".join(s["text"] for s in sc["sentences"])
        assert (spoken != original) is (sc["id"] in changed_scenes)
    for change in out["changes"]:
        assert set(change) == {"kind", "scene", "before", "after"}


def test_main_writes_a_valid_artifact(tmp_path):
    script_path, idea_path, out = (tmp_path / n for n in ("s.json", "i.json", "r.json"))
    write_json(script_path, script("It is 5 pm. The lamp fails."))
    full_idea = {"story": "demo", "title": "Demo", "kind": "text", "premise": "x",
                 "text": "x", "language": "en", "duration_s": 4, "aspect": "16:9",
                 "style": "s", "voice": None, "seed": 1}
    write_json(idea_path, full_idea, "idea")
    smk = SimpleNamespace(input=SimpleNamespace(script=str(script_path), idea=str(idea_path)),
                          output=SimpleNamespace(revised=str(out)),
                          params=SimpleNamespace(options=OPTIONS, words_per_minute=WPM,
                                                 pauses=PAUSES))
    rv.main(smk, JobContext.alone("revise"))
    doc = json.loads(out.read_text())
    validate(doc, "revised")
    assert doc["scenes"][0]["sentences"][0]["text"] == "It is five o'clock in the afternoon."
