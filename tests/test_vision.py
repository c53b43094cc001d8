"""vision: a valid, deterministic style; per-shot plans that change only with their shot."""

from __future__ import annotations

import copy
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from storyreel.backends.vision import embedded
from storyreel.core.artifacts import validate
from storyreel.stages import vision

PROMPTS = (
    "Mara, an old lighthouse keeper on a storm-beaten island; waves crash on the rocks",
    "A small red fox named Tilly watches a fishing boat in the storm",
    "Tilly at peace on the hill above the village as the sun rises",
)
TIMES = ("dusk", "night", "dawn")
CAMERAS = ("push_in", "pan_left", "pull_out")


def make_story(aspect: str = "16:9", shots: int = 3, duration: float = 10.0,
               story: str = "demo") -> tuple[dict, dict]:
    """(idea, shotlist) of a small synthetic story; shot 2 crossfades into shot 3."""
    cuts = [round(duration * k / shots, 3) for k in range(shots + 1)]
    items = []
    for i in range(shots):
        prompt = PROMPTS[i % len(PROMPTS)]
        items.append({
            "story": story, "id": f"sh{i + 1:03d}", "index": i + 1, "scene": f"sc{i + 1:02d}",
            "sentences": [f"sc{i + 1:02d}_01"], "start": cuts[i], "end": cuts[i + 1],
            "duration": round(cuts[i + 1] - cuts[i], 3), "narration": prompt,
            "prompt": prompt, "setting": "a storm-beaten island",
            "time_of_day": TIMES[i % 3], "mood": "calm",
            "characters": ["Mara", "Tilly"] if i else ["Mara"],
            "camera": CAMERAS[i % 3], "transition": "crossfade" if i == shots - 2 else "cut",
            "seed": 100 + i, "aspect": aspect})
    idea = {"story": story, "title": "Demo", "kind": "premise",
            "premise": "An old keeper named Mara and a small red fox named Tilly.", "text": None,
            "language": "en", "duration_s": duration, "aspect": aspect, "style": "storybook",
            "voice": None, "seed": 9}
    shotlist = {"story": story, "aspect": aspect, "duration_s": duration, "crossfade_s": 0.4,
                "shots": items}
    validate(shotlist, "shotlist")
    validate(idea, "idea")
    return idea, shotlist


OPTIONS = {"enabled": True, "backend": "embedded"}


def test_style_and_plans_are_valid_and_complete():
    idea, shotlist = make_story()
    style, plans = vision.plan_story(idea, shotlist, OPTIONS)
    validate(style, "style")
    assert {c["name"]: c["kind"] for c in style["characters"]} == {"Mara": "person",
                                                                    "Tilly": "fox"}
    for plan, shot in zip(plans, shotlist["shots"], strict=True):
        validate(plan, "plan")
        assert plan["shot_prompt"] == shot["prompt"] and shot["prompt"] in plan["prompt"]
        assert plan["palette"] == style["palette"]
        assert plan["lighting"] == style["lighting"][shot["time_of_day"]]
        assert [c["name"] for c in plan["cast"]] == sorted(shot["characters"])
        assert plan["crossfade_s"] == shotlist["crossfade_s"]
    assert "lighthouse" in plans[0]["elements"]["props"]
    assert "sea" in plans[0]["elements"]["scenery"]


def test_plans_are_deterministic_and_editing_one_shot_changes_only_its_plan(tmp_path: Path):
    idea, shotlist = make_story()
    vision.write_plans(*vision.plan_story(idea, shotlist, OPTIONS), tmp_path / "a")
    vision.write_plans(*vision.plan_story(idea, shotlist, OPTIONS), tmp_path / "b")
    edited = copy.deepcopy(shotlist)
    edited["shots"][1].update(prompt="A castle in the mountains", seed=5, camera="tilt_up")
    vision.write_plans(*vision.plan_story(idea, edited, OPTIONS), tmp_path / "c")
    names = sorted(p.relative_to(tmp_path / "a").as_posix()
                   for p in (tmp_path / "a").rglob("*.json"))
    assert names == ["characters/mara.json", "characters/tilly.json", "sh001.json",
                     "sh002.json", "sh003.json", "style.json"]
    for name in names:
        a, b, c = ((tmp_path / d / name).read_bytes() for d in "abc")
        assert a == b
        assert (a != c) == (name == "sh002.json")


def test_editing_one_character_changes_its_sheet_and_only_the_plans_that_show_it(
        tmp_path: Path, caplog):
    idea, shotlist = make_story()  # Mara in every shot, Tilly in shots 2 and 3
    vision.write_plans(*vision.plan_story(idea, shotlist, OPTIONS), tmp_path / "a")
    edits = {"Tilly": {"descriptors": "Tilly, a grey fox with a white tail", "kind": "cat",
                       "colour": "#808080"}, "nobody": {"descriptors": "x"}}
    style, plans = vision.plan_story(idea, shotlist, OPTIONS, edits)
    vision.write_plans(style, plans, tmp_path / "b")
    changed = sorted(p.relative_to(tmp_path / "a").as_posix()
                     for p in (tmp_path / "a").rglob("*.json")
                     if p.read_bytes() != (tmp_path / "b" / p.relative_to(tmp_path / "a"))
                     .read_bytes())
    assert changed == ["characters/tilly.json", "sh002.json", "sh003.json", "style.json"]
    tilly = next(c for c in plans[1]["cast"] if c["name"] == "Tilly")
    assert tilly["kind"] == "cat" and tilly["colour"] == "#808080"
    assert tilly["silhouette"].startswith("cat:") and tilly["id"] == "tilly"
    assert "Tilly, a grey fox with a white tail" in plans[1]["prompt"]
    assert "characters.demo.nobody: no such character (the cast: Mara, Tilly)" in caplog.text
    # by id too
    by_id = vision.plan_story(idea, shotlist, OPTIONS, {"tilly": {"colour": "#010203"}})[0]
    assert [c["colour"] for c in by_id["characters"] if c["id"] == "tilly"] == ["#010203"]


def test_character_ids_are_file_names_unique_and_stable():
    import re

    from storyreel.core import pipeline
    from storyreel.core.types import character_ids

    names = ["Old Tom", "old tom", "Zoë", "李明", "Mara", "---", "A" * 80]
    ids = character_ids(names)
    assert ids["Old Tom"] == "old-tom" and ids["old tom"] == "old-tom-2"
    assert ids["Zoë"] == "zoe" and ids["李明"].startswith("character-")
    assert len(set(ids.values())) == len(names)
    assert all(re.fullmatch(pipeline.CHARACTER_ID, i) for i in ids.values())
    assert character_ids(list(reversed(names))) == ids


def test_keyword_tables_find_what_to_draw():
    found = embedded.find_elements("Boats in the harbour below snowy mountains; two owls")
    assert "boat" in found["props"] and "mountains" in found["scenery"]
    assert "bird" in found["figures"] and "sea" in found["scenery"]
    assert embedded.find_elements("") == {"scenery": [], "props": [], "figures": []}


def test_a_shot_planned_alone_shares_the_story_palette():
    idea, shotlist = make_story()
    backend = embedded.EmbeddedVision(OPTIONS)
    first, second = (backend.plan_alone(s, idea, 0.5) for s in shotlist["shots"][:2])
    validate(first, "plan")
    assert first["palette"] == second["palette"]
    assert backend.plan_alone(shotlist["shots"][0], {**idea, "story": "another"}, 0.5)[
        "palette"] != first["palette"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=60), max_size=12))
def test_any_names_get_unique_file_name_ids(names):
    import re

    from storyreel.core import pipeline
    from storyreel.core.types import character_ids

    ids = character_ids(names)
    assert set(ids) == set(names) and len(set(ids.values())) == len(ids)
    assert all(re.fullmatch(pipeline.CHARACTER_ID, i) for i in ids.values())
