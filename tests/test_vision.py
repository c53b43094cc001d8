"""vision: a valid, deterministic style; per-shot plans that change only with their shot."""

from __future__ import annotations

import copy
from pathlib import Path

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
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert names == ["sh001.json", "sh002.json", "sh003.json", "style.json"]
    for name in names:
        a, b, c = ((tmp_path / d / name).read_bytes() for d in "abc")
        assert a == b
        assert (a != c) == (name == "sh002.json")


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
