"""The OpenAI-compatible route against a scripted local server (no network): structured output
(prose, truncation, a missing field, runaway length, wrong language), repair turns, fallback,
retries with backoff, redaction of the key, and the LLM vision backend."""

from __future__ import annotations

import json
import logging

import pytest

from storyreel.backends.script.llm import OpenAIWriter, write_scenes
from storyreel.core.artifacts import validate
from storyreel.core.config import load_config
from storyreel.core.errors import StoryreelError
from storyreel.core.vocabulary import MOODS, TIMES_OF_DAY
from storyreel.models.chat import structured
from storyreel.models.chat.server import ServerChat
from storyreel.stages import script as sc

from conftest import FakeChat, run_script_stage
from conftest import chat_completion as completion

SECRET = "sk-test-very-secret-123"
SCENE = {"beat": "setup", "narration": "Mara keeps the lamp on the island.",
         "visual": "An old keeper in a lighthouse at dusk.", "setting": "the lighthouse",
         "time_of_day": "dusk", "mood": "calm", "characters": ["Mara"]}
VALID = {"scenes": [
    SCENE,
    {**SCENE, "beat": "climax", "narration": "The lamp fails, and Mara lifts a lantern "
     "into the storm.", "time_of_day": "midnight", "mood": "scary"},
    {**SCENE, "beat": "resolution", "narration": "At dawn the little boat is home, and the "
     "fishermen climb the hill to thank her."},
]}


@pytest.fixture
def fake():
    return FakeChat.reset(completion(json.dumps(VALID)))


def options(base_url: str, stage: str = "script", **extra) -> dict:
    """The stage's config block with the schema's defaults, as the workflow passes it."""
    block = {"backend": "openai", "model": "tiny-model", "base_url": base_url,
             "api_key_env": "STORYREEL_TEST_KEY", "temperature": 0.2, "timeout_s": 5,
             "backoff_s": 0.01} | extra
    return load_config({"stages": {stage: block}})["stages"][stage]


IDEA = {"story": "demo", "title": "Demo", "kind": "premise", "premise": "Mara keeps a lamp.",
        "text": None, "language": "en", "duration_s": 30, "aspect": "16:9",
        "style": "storybook", "voice": None, "seed": 9}
BUDGET = sc.budget_for(IDEA, 160, {})


def run_stage(tmp_path, opts) -> dict:
    written = run_script_stage(tmp_path, IDEA, opts).read_text()
    script = json.loads(written)
    validate(script, "script")
    return script


def test_request_schema_and_repaired_script(server, fake, monkeypatch, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("STORYREEL_TEST_KEY", SECRET)
    script = run_stage(tmp_path, options(server + "/"))
    request = fake.requests[0]
    assert request["path"] == "/v1/chat/completions"
    assert request["headers"]["Authorization"] == f"Bearer {SECRET}"
    body = request["body"]
    assert (body["model"], body["temperature"], body["seed"]) == ("tiny-model", 0.2, 9)
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["schema"]["required"] == ["scenes"]
    assert "Mara keeps a lamp." in body["messages"][-1]["content"]
    assert (script["backend"], script["model"]) == ("openai", "tiny-model")
    assert script["generation"]["attempts"] == 1 and "fallback" not in script
    assert script["scenes"][1]["time_of_day"] in TIMES_OF_DAY  # "midnight" mapped, not refused
    assert script["scenes"][1]["mood"] in MOODS
    assert SECRET not in json.dumps(script) and SECRET not in caplog.text


def test_each_bad_answer_is_repaired_in_turn(server, fake, tmp_path):
    """Prose-wrapped JSON is read; truncated JSON, a missing field and the wrong language are
    quoted back in repair turns; an over-long script is fitted to the length."""
    long_scene = {**SCENE, "narration": " ".join(["Mara climbs the stairs again."] * 60)}
    fake.answers = [
        completion("Sure! Here is the story:\n" + json.dumps({"scenes": [{
            k: v for k, v in SCENE.items() if k != "visual"}]}) + "\nEnjoy."),  # missing field
        completion(json.dumps(VALID)[:120], finish="length"),  # truncated
        completion(json.dumps({"scenes": [{**SCENE, "narration": "Mara garde la lampe. " * 3
                                           + "Elle attend le bateau dans la nuit."}]})),
        completion("```json\n" + json.dumps({"scenes": [SCENE, long_scene]}) + "\n```"),
    ]
    chat = ServerChat(options(server), "writer")
    scenes, record = write_scenes(chat, IDEA, 4, BUDGET.target_words(),
                                             max_repairs=3)
    assert record["attempts"] == 4
    errors = [r["reason"] for r in record["rejected"]]
    assert "scenes[0]: 'visual' is a required property" in errors[0]
    assert "truncated" in errors[1]
    assert "English" in errors[2]
    assert len(errors) == 3
    # each repair turn quotes the error and the previous answer back to the model
    last = fake.requests[-1]["body"]["messages"]
    assert last[-1]["role"] == "user" and errors[-1] in last[-1]["content"]
    assert last[-2]["role"] == "assistant"
    words = sum(len(s["narration"].split()) for s in scenes)
    assert record["fitting"]["words_before"] > 300
    assert words <= BUDGET.target_words() * 1.15
    assert scenes[0]["narration"] == SCENE["narration"]


def test_too_short_a_script_is_sent_back(server, fake):
    fake.answers = [completion(json.dumps({"scenes": [SCENE]})), completion(json.dumps(VALID))]
    chat = ServerChat(options(server), "writer")
    _, record = write_scenes(chat, IDEA, 4, BUDGET.target_words(), max_repairs=1)
    assert "narration has 7 words" in record["rejected"][0]["reason"]
    assert record["attempts"] == 2


def test_unusable_answers_fall_back_to_the_template_writer(server, fake, tmp_path):
    fake.answers = [completion("I cannot write JSON today.")]
    script = run_stage(tmp_path, options(server, max_repairs=1))
    assert script["backend"] == "template" and script["model"] is None
    assert script["configured_backend"] == "openai"
    assert script["fallback"] == {"backend": "template", "from": "openai",
                                  "reason": script["fallback"]["reason"]}
    assert "no usable answer in 2 attempts" in script["fallback"]["reason"]
    assert len(fake.requests) == 2
    assert all(s["narration"] for s in script["scenes"])


def test_no_fallback_configured_fails_with_one_line(server, fake, tmp_path):
    fake.answers = [completion("nope")]
    with pytest.raises(StoryreelError, match="no usable answer"):
        run_stage(tmp_path, options(server, max_repairs=0, fallback=[]))


def test_retries_429_and_5xx_with_backoff_then_succeeds(server, fake):
    fake.answers = [(429, b'{"error": "slow down"}'), (503, b"busy"),
                    completion(json.dumps(VALID))]
    writer = OpenAIWriter(options(server, max_retries=3))
    scenes = writer.write(IDEA, BUDGET)
    assert len(scenes) == 3 and len(fake.requests) == 3


def test_client_errors_are_not_retried(server, fake):
    fake.answers = [(401, b'{"error": "bad key"}')]
    with pytest.raises(StoryreelError, match=r"127\.0\.0\.1.*HTTP 401"):
        ServerChat(options(server, response_format="none"), "writer").chat([], None, 0)
    assert len(fake.requests) == 1


def test_server_refusing_each_structured_output_form_steps_down(server, fake):
    """400 to OpenAI's form, 422 to the servers' own fields, then plain JSON mode."""
    fake.answers = [(400, b'{"error": "response_format json_schema unsupported"}'),
                    (422, b'{"error": "unknown field"}'), completion(json.dumps(VALID))]
    OpenAIWriter(options(server)).write(IDEA, BUDGET)
    bodies = [r["body"] for r in fake.requests]
    assert bodies[0]["response_format"]["type"] == "json_schema"
    schema = bodies[0]["response_format"]["json_schema"]["schema"]
    assert "response_format" not in bodies[1]
    assert bodies[1]["structured_outputs"] == {"json": schema}  # vLLM
    assert bodies[1]["guided_json"] == bodies[1]["json_schema"] == bodies[1]["format"] == schema
    assert bodies[2]["response_format"] == {"type": "json_object"}
    assert len(bodies) == 3


def test_errors_never_carry_the_key(server, fake, monkeypatch, caplog):
    """A server that echoes the request headers in a 401 body or in a 5xx body."""
    monkeypatch.setenv("STORYREEL_TEST_KEY", SECRET)
    fake.echo_headers = True
    for status in (401, 500):
        fake.answers = [(status, b"")]
        with pytest.raises(StoryreelError) as info:
            ServerChat(options(server, max_retries=1), "writer").chat([], None, 0)
        assert SECRET not in str(info.value)
        assert "HTTP" in str(info.value)
    assert SECRET not in caplog.text


def test_unreachable_server_names_the_base_url():
    with pytest.raises(StoryreelError, match=r"cannot reach http://127\.0\.0\.1:9/v1.*2 attempts"):
        ServerChat(options("http://127.0.0.1:9/v1", timeout_s=2, max_retries=1),
                     "writer").chat([], None, 0)


@pytest.mark.parametrize("content", [
    "```json\n" + json.dumps(VALID) + "\n```",
    "Here you go: " + json.dumps(VALID) + " Enjoy!",
    json.dumps(VALID["scenes"]),
])
def test_parse_json_tolerates_fences_prose_and_bare_lists(content):
    data = structured.parse_json(content)
    scenes = data["scenes"] if isinstance(data, dict) else data
    assert [s["beat"] for s in scenes] == ["setup", "climax", "resolution"]


def test_vision_model_character_sheet_reused_verbatim(server, fake):
    from storyreel.stages.vision import plan_story

    shots = [{"story": "demo", "id": f"sh00{i}", "index": i, "scene": "sc01",
              "sentences": ["sc01_01"], "start": i, "end": i + 1, "duration": 1.0,
              "narration": text, "prompt": "A lighthouse at dusk.", "setting": "the lighthouse",
              "time_of_day": "dusk", "mood": "calm", "characters": cast, "camera": "hold",
              "transition": "cut", "seed": i, "aspect": "16:9"}
             for i, (text, cast) in enumerate([("Mara climbs the stairs.", ["Mara"]),
                                                ("A whale calf calls below.", []),
                                                ("Mara waves her lantern.", ["Mara"])], 1)]
    look = "a tall woman of seventy, grey braid, yellow oilskin coat"
    answer = {"characters": {"Mara": look},
              "shots": {s["id"]: f"Wide shot: {s['narration']}" for s in shots}}
    fake.answers = [completion(json.dumps({**answer, "characters": {}})),
                    completion(json.dumps({**answer, "characters": {"Mara": "  "}})),
                    completion(json.dumps(answer))]
    idea = {**IDEA, "premise": "Mara guides a lost whale calf home."}
    style, plans = plan_story(idea, {"shots": shots, "crossfade_s": 0.5},
                              options(server, stage="vision"))
    validate(style, "style")
    rejected = [r["reason"] for r in style["generation"]["rejected"]]
    assert rejected == ["characters: 'Mara' is a required property",
                        "characters: no look for Mara"]
    schema = fake.requests[0]["body"]["response_format"]["json_schema"]["schema"]
    assert schema["properties"]["shots"]["required"] == [s["id"] for s in shots]
    assert style["characters"][0]["descriptors"] == f"Mara, {look}"
    for plan in plans:
        validate(plan, "plan")
        assert plan["prompt"].count(look) == (1 if "Mara" in plan["characters"] else 0)
        assert plan["narration"] in plan["prompt"]  # the shot's prompt follows its narration
    assert "whale calf" in plans[1]["prompt"]


def test_vision_model_falls_back_to_the_embedded_style(server, fake):
    from storyreel.stages.vision import plan_story

    shot = {"story": "demo", "id": "sh001", "index": 1, "scene": "sc01",
            "sentences": ["sc01_01"], "start": 0, "end": 1, "duration": 1.0,
            "narration": "Mara climbs.", "prompt": "A lighthouse.", "setting": "the lighthouse",
            "time_of_day": "dusk", "mood": "calm", "characters": ["Mara"], "camera": "hold",
            "transition": "cut", "seed": 1, "aspect": "16:9"}
    fake.answers = [completion("no")]
    style, plans = plan_story(IDEA, {"shots": [shot], "crossfade_s": 0.5},
                              options(server, stage="vision", max_repairs=0))
    validate(style, "style")
    assert style["fallback"]["backend"] == "embedded"
    assert plans[0]["shot_prompt"] == "A lighthouse."


def test_vision_model_keeps_the_embedded_style_when_the_server_is_down():
    from storyreel.stages.vision import plan_story

    shot = {"story": "demo", "id": "sh001", "index": 1, "scene": "sc01",
            "sentences": ["sc01_01"], "start": 0, "end": 1, "duration": 1.0,
            "narration": "Mara climbs.", "prompt": "A lighthouse.", "setting": "the lighthouse",
            "time_of_day": "dusk", "mood": "calm", "characters": ["Mara"], "camera": "hold",
            "transition": "cut", "seed": 1, "aspect": "16:9"}
    style, _ = plan_story(IDEA, {"shots": [shot], "crossfade_s": 0.5},
                          options("http://127.0.0.1:9/v1", stage="vision", max_retries=0,
                                  timeout_s=2))
    assert "cannot reach" in style["fallback"]["reason"]
