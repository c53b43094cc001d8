"""shotlist: cuts on sentence boundaries, long sentences split, overrides, determinism."""

from __future__ import annotations

import pytest

from storyreel.core.artifacts import validate
from storyreel.core.errors import ConfigError
from storyreel.media.quality import cut_offsets
from storyreel.stages import shotlist as sl

OPTIONS = {"max_shot_s": 4.0, "crossfade_s": 0.5}


def make_inputs():
    idea = {"story": "demo", "seed": 3, "aspect": "16:9"}
    scenes, words, t = [], [], 0.2
    texts = {
        "sc01_01": "Mara climbed the tower stairs.",
        "sc01_02": "The storm was loud, the sea was black, and the lamp flickered twice.",
        "sc02_01": "A small boat fought the waves.",
    }
    for scene_id in ("sc01", "sc02"):
        ids = [k for k in texts if k.startswith(scene_id)]
        scenes.append({"id": scene_id, "beat": "setup", "visual": f"visual of {scene_id}",
                       "setting": "island", "time_of_day": "night", "mood": "tense",
                       "characters": ["Mara"],
                       "sentences": [{"id": i, "text": texts[i]} for i in ids]})
        for sentence in ids:
            for word in texts[sentence].split():
                words.append({"text": word, "start": round(t, 3), "end": round(t + 0.35, 3),
                              "sentence": sentence})
                t += 0.4
            t += 0.3
        t += 0.4
    revised = {"scenes": scenes}
    doc = {"duration_s": round(t, 3), "words": words}
    return idea, revised, doc


def test_shots_tile_the_timeline_and_cut_on_sentence_starts():
    idea, revised, doc = make_inputs()
    result = sl.build_shotlist(idea, revised, doc, OPTIONS, {})
    validate(result, "shotlist")
    shots = result["shots"]
    assert shots[0]["start"] == 0
    assert shots[-1]["end"] == pytest.approx(doc["duration_s"])
    for a, b in zip(shots, shots[1:], strict=False):
        assert a["end"] == b["start"]
    words = doc["words"]
    for before, shot in zip(shots, shots[1:], strict=False):
        first = next(i for i, w in enumerate(words) if w["start"] >= shot["start"])
        assert words[first]["text"] == shot["narration"].split()[0]
        # every cut lies in the pause between the last word of a shot and the next one's first
        assert words[first - 1]["end"] <= shot["start"] <= words[first]["start"]
        if before["transition"] == "crossfade":  # the fade is over when the next words start
            assert shot["start"] + OPTIONS["crossfade_s"] == pytest.approx(words[first]["start"])
        else:
            assert words[first]["start"] - shot["start"] <= sl.LEAD_IN_S + 1e-9
    assert any(s["transition"] == "crossfade" for s in shots)


def test_long_sentence_is_split_and_no_shot_exceeds_much():
    idea, revised, doc = make_inputs()
    shots = sl.build_shotlist(idea, revised, doc, OPTIONS, {})["shots"]
    by_sentence = [s["sentences"][0] for s in shots]
    assert by_sentence.count("sc01_02") >= 2
    assert all(s["duration"] <= OPTIONS["max_shot_s"] + 1.0 for s in shots)
    words_back = " ".join(s["narration"] for s in shots).split()
    assert words_back == [w["text"] for w in doc["words"]]


def test_transitions_crossfade_only_between_scenes():
    idea, revised, doc = make_inputs()
    shots = sl.build_shotlist(idea, revised, doc, OPTIONS, {})["shots"]
    for a, b in zip(shots, shots[1:], strict=False):
        assert a["transition"] == ("crossfade" if a["scene"] != b["scene"] else "cut")
    assert shots[-1]["transition"] == "cut"
    no_fade = sl.build_shotlist(idea, revised, doc, {**OPTIONS, "crossfade_s": 0}, {})
    assert {s["transition"] for s in no_fade["shots"]} == {"cut"}


def test_camera_moves_vary_and_seeds_are_stable():
    idea, revised, doc = make_inputs()
    one = sl.build_shotlist(idea, revised, doc, OPTIONS, {})
    two = sl.build_shotlist(idea, revised, doc, OPTIONS, {})
    assert one == two
    moves = [s["camera"] for s in one["shots"]]
    assert moves[0] == "push_in"
    assert all(a != b for a, b in zip(moves, moves[1:], strict=False))
    assert len({s["seed"] for s in one["shots"]}) == len(moves)
    other = sl.build_shotlist({**idea, "seed": 4}, revised, doc, OPTIONS, {})
    assert [s["seed"] for s in other["shots"]] != [s["seed"] for s in one["shots"]]


def test_overrides_change_only_their_shot():
    idea, revised, doc = make_inputs()
    base = sl.build_shotlist(idea, revised, doc, OPTIONS, {})["shots"]
    edited = sl.build_shotlist(idea, revised, doc, OPTIONS,
                               {"sh002": {"prompt": "a red kite", "seed": 42}})["shots"]
    assert edited[1]["prompt"] == "a red kite" and edited[1]["seed"] == 42
    assert [s for i, s in enumerate(edited) if i != 1] == [s for i, s in enumerate(base) if i != 1]
    with pytest.raises(ConfigError, match=r"shots\.demo\.sh099"):
        sl.build_shotlist(idea, revised, doc, OPTIONS, {"sh099": {"seed": 1}})


def test_write_shotlist_writes_one_file_per_shot(tmp_path):
    idea, revised, doc = make_inputs()
    result = sl.build_shotlist(idea, revised, doc, OPTIONS, {})
    sl.write_shotlist(result, tmp_path / "shotlist.json", tmp_path / "shots")
    files = sorted(p.name for p in (tmp_path / "shots").iterdir())
    assert files == [f"{s['id']}.json" for s in result["shots"]]


def test_cut_offsets_measure_how_far_a_cut_is_from_its_pause():
    words = [{"start": 0.2, "end": 1.0}, {"start": 1.6, "end": 2.0}, {"start": 2.2, "end": 3.0}]
    shots = [{"id": "sh001", "start": 0.0}, {"id": "sh002", "start": 1.3},
             {"id": "sh003", "start": 1.9}]
    assert cut_offsets(shots, words) == [0.0, 0.1]  # inside [1.0, 1.6]; 0.1 before 2.0
    idea, revised, doc = make_inputs()
    result = sl.build_shotlist(idea, revised, doc, OPTIONS, {})
    assert max(cut_offsets(result["shots"], doc["words"])) == 0.0
