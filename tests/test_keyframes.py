"""keyframes: the animatic renderer draws a real picture, deterministically, and draws every
subject a plan may name."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from test_vision import OPTIONS, make_story

from storyreel.backends.keyframes.animatic import DRAWINGS, AnimaticRenderer
from storyreel.backends.vision.embedded import LIGHTING
from storyreel.core.artifacts import validate, write_json
from storyreel.core.vocabulary import DRAWABLE, TIMES_OF_DAY
from storyreel.media.ffmpeg import PRESETS
from storyreel.stages import keyframes, vision

KEY_OPTIONS = {"backend": "animatic", "headroom": 1.2}


def plans_for(aspect: str) -> list[dict]:
    idea, shotlist = make_story(aspect)
    return vision.plan_story(idea, shotlist, OPTIONS)[1]


@pytest.mark.parametrize("aspect", sorted(PRESETS))
def test_keyframe_has_headroom_size_and_looks_like_a_picture(aspect: str, tmp_path: Path):
    plan = plans_for(aspect)[0]
    write_json(tmp_path / "plan.json", plan, "plan")
    keyframes.render_keyframe(keyframes.read_plan(tmp_path / "plan.json", vision=True),
                              tmp_path / "k.png", KEY_OPTIONS)
    image = Image.open(tmp_path / "k.png")
    w, h = PRESETS[aspect]
    assert abs(image.width - w * 1.2) <= 2 and abs(image.height - h * 1.2) <= 2
    pixels = np.asarray(image.convert("RGB"), dtype=np.float32)
    # A picture, not a test pattern: many colours, real contrast, different top and bottom.
    assert len(np.unique(pixels[::4, ::4].reshape(-1, 3), axis=0)) > 2000
    assert pixels.std() > 20
    top, bottom = pixels[: h // 4].mean(axis=(0, 1)), pixels[-h // 4:].mean(axis=(0, 1))
    assert np.abs(top - bottom).sum() > 30


def test_render_is_deterministic_and_seed_dependent(tmp_path: Path):
    plan = plans_for("16:9")[1]
    renderer = AnimaticRenderer(KEY_OPTIONS)
    a = np.asarray(renderer.render(plan))
    b = np.asarray(renderer.render(plan))
    c = np.asarray(renderer.render(dict(plan, seed=plan["seed"] + 1)))
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)
    renderer.save(plan, tmp_path / "a.png")
    renderer.save(plan, tmp_path / "b.png")
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes()


def test_time_of_day_sets_the_light():
    plan = plans_for("16:9")[0]
    renderer = AnimaticRenderer(KEY_OPTIONS)
    means = {tod: np.asarray(renderer.render(dict(plan, time_of_day=tod,
                                                  lighting=LIGHTING[tod]))).mean()
             for tod in ("day", "night")}
    assert means["night"] < means["day"] - 30


def test_bare_shot_is_planned_once_with_the_story_style(tmp_path: Path):
    idea, shotlist = make_story("1:1")
    write_json(tmp_path / "sh001.json", shotlist["shots"][0], "shot")
    plan = keyframes.read_plan(tmp_path / "sh001.json", False, idea, 0.4)
    validate(plan, "plan")  # every renderer gets a plan
    assert (plan["style"], plan["crossfade_s"]) == (idea["style"], 0.4)
    other = keyframes.read_plan(tmp_path / "sh001.json", False, {**idea, "style": "noir"}, 0.4)
    assert other["style"] == "noir" and other["palette"] != plan["palette"]
    keyframes.render_keyframe(plan, tmp_path / "k.png", KEY_OPTIONS)
    assert Image.open(tmp_path / "k.png").size == (1296, 1296)


def test_every_subject_a_plan_may_name_has_a_drawing_that_shows():
    """Adding a word the vision backend may name (storyreel.core.vocabulary.DRAWABLE) to a plain
    hillside changes the picture, in the light of at least one time of day: a word with no
    drawing fails here. ``hills`` is that hillside, the layer every landscape off the coast
    stands on."""
    renderer = AnimaticRenderer(KEY_OPTIONS)
    bare = dict(plans_for("16:9")[0], cast=[], mood="calm")
    hillside = {"scenery": ["hills"], "props": [], "figures": []}
    size = (192, 108)

    def picture(tod: str, elements: dict) -> np.ndarray:
        return np.asarray(renderer.render(dict(bare, lighting=LIGHTING[tod], elements=elements),
                                          size))

    plain = {tod: picture(tod, hillside) for tod in TIMES_OF_DAY}
    assert not np.array_equal(plain["day"], picture("day", dict(hillside, scenery=[])))
    for group, words in DRAWABLE.items():
        assert sorted(DRAWINGS[group]) == sorted(words), group
        for word in words:
            if word == "hills":
                continue
            with_word = dict(hillside, **{group: [*hillside[group], word]})
            shown = [tod for tod in TIMES_OF_DAY
                     if not np.array_equal(plain[tod], picture(tod, with_word))]
            assert shown, f"{group} '{word}' draws nothing"
