"""keyframes: the animatic renderer draws a real picture, deterministically and fast."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from test_vision import OPTIONS, make_story

from storyreel.artifacts import write_json
from storyreel.backends.keyframes.animatic import AnimaticRenderer
from storyreel.backends.vision.embedded import LIGHTING
from storyreel.media import PRESETS
from storyreel.stages import keyframes, vision

KEY_OPTIONS = {"backend": "animatic", "headroom": 1.2}


def plans_for(aspect: str) -> list[dict]:
    idea, shotlist = make_story(aspect)
    return vision.plan_story(idea, shotlist, OPTIONS)[1]


@pytest.mark.parametrize("aspect", sorted(PRESETS))
def test_keyframe_has_headroom_size_and_looks_like_a_picture(aspect: str, tmp_path: Path):
    plan = plans_for(aspect)[0]
    write_json(tmp_path / "plan.json", plan, "plan")
    started = time.perf_counter()
    keyframes.render_keyframe(keyframes.read_plan(tmp_path / "plan.json"), tmp_path / "k.png",
                              KEY_OPTIONS)
    elapsed = time.perf_counter() - started
    image = Image.open(tmp_path / "k.png")
    w, h = PRESETS[aspect]
    assert abs(image.width - w * 1.2) <= 2 and abs(image.height - h * 1.2) <= 2
    assert elapsed < 3.0  # ~0.3-1.3 s here; generous for a loaded CI machine
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


def test_bare_shot_renders_without_a_style_bible(tmp_path: Path):
    _, shotlist = make_story("1:1")
    write_json(tmp_path / "sh001.json", shotlist["shots"][0], "shot")
    keyframes.render_keyframe(keyframes.read_plan(tmp_path / "sh001.json"),
                              tmp_path / "k.png", KEY_OPTIONS)
    assert Image.open(tmp_path / "k.png").size == (1296, 1296)
