"""Honest retries and honest records of the model routes, against a local fake
OpenAI-compatible server: a time-out is a time-out (its own message, never sent again), a refused
connection is "cannot reach" (retried), a slow answer within the time-out is used, an unusable
answer is a permanent failure (the fallback writes at once, no job retry asks the same again),
each answer is asked with its own seed and temperature, and every rejected answer is recorded in
script.json, style.json and the manifest's degradations."""

from __future__ import annotations

import json
import logging
import socket
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storyreel.core.artifacts import read_json, validate, write_json
from storyreel.core.config import load_config
from storyreel.core.errors import PermanentError, StoryreelError, TransientError, classify
from storyreel.job import fallback
from storyreel.job.context import JobContext
from storyreel.models.chat import structured
from storyreel.models.chat.server import AnswerTimeoutError, ServerChat
from storyreel.stages import vision

from conftest import FakeChat, FakeChatHandler, local_server, run_script_stage
from conftest import chat_completion as completion

VALID = {"scenes": [
    {"beat": "setup", "narration": "Mara keeps the lamp on the island every night.",
     "visual": "A keeper in a lighthouse at dusk.", "setting": "the lighthouse",
     "time_of_day": "dusk", "mood": "calm", "characters": ["Mara"]},
    {"beat": "resolution", "narration": "At dawn the little boat is home, and the fishermen "
     "climb the hill to thank her for the light.", "visual": "A boat in the harbour at dawn.",
     "setting": "the harbour", "time_of_day": "dawn", "mood": "joyful", "characters": ["Mara"]},
]}
IDEA = {"story": "demo", "title": "Demo", "kind": "premise", "premise": "Mara keeps a lamp.",
        "text": None, "language": "en", "duration_s": 20, "aspect": "16:9",
        "style": "storybook", "voice": None, "seed": 9}


@pytest.fixture
def fake():
    return FakeChat.reset(completion(json.dumps(VALID)))


def options(base_url: str, stage: str = "script", **extra) -> dict:
    block = {"backend": "openai", "model": "slow-model", "base_url": base_url,
             "timeout_s": 5, "backoff_s": 0.01, "max_retries": 2, "temperature": 0.7} | extra
    return load_config({"stages": {stage: block}})["stages"][stage]


def first_attempt(tmp_path, stage: str = "script") -> JobContext:
    """Attempt 1 of 3 of a job: a transient error here would be left to Snakemake's retry."""
    return JobContext(stage, "demo", None, attempt=1, attempts=3, results=tmp_path)


def test_a_time_out_is_a_time_out_and_is_not_sent_again(server, fake):
    fake.delay_s = 1.5
    chat = ServerChat(options(server, timeout_s=0.3), "writer")
    with pytest.raises(AnswerTimeoutError) as info:
        chat.chat([{"role": "user", "content": "Hi"}], None, 0)
    message = str(info.value)
    assert "time-out" in message and "timeout_s=0.3" in message and "not sent again" in message
    assert "cannot reach" not in message
    assert not classify(info.value).retry  # a later attempt of the job does not resend it
    assert chat.requests == 1 and len(fake.requests) == 1


def test_a_gateway_time_out_is_not_sent_again(server, fake):
    fake.answers = [(504, b'{"error": "upstream timed out"}')]
    chat = ServerChat(options(server), "writer")
    with pytest.raises(AnswerTimeoutError, match="504"):
        chat.chat([{"role": "user", "content": "Hi"}], None, 0)
    assert len(fake.requests) == 1


def test_a_slow_answer_within_the_time_out_is_used(server, fake):
    fake.delay_s = 0.6  # longer than many a default connect time-out, within timeout_s
    chat = ServerChat(options(server, timeout_s=10), "writer")
    answer = chat.chat([{"role": "user", "content": "Hi"}], None, 0)
    assert json.loads(answer) == VALID and len(fake.requests) == 1


def test_a_refused_connection_is_cannot_reach_and_is_retried():
    with socket.socket() as sock:  # a port with nothing listening
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    chat = ServerChat(options(f"http://127.0.0.1:{port}/v1", max_retries=2), "writer")
    with pytest.raises(TransientError, match=rf"cannot reach http://127\.0\.0\.1:{port}/v1.*"
                                             r"3 attempts"):
        chat.chat([{"role": "user", "content": "Hi"}], None, 0)
    assert chat.requests == 3


def run_script(tmp_path, opts, job: JobContext) -> dict:
    return read_json(run_script_stage(tmp_path, IDEA, opts, job), "script")


def test_unusable_answers_fall_back_at_once_and_are_recorded(server, fake, tmp_path, caplog):
    """On the job's first attempt of three: no job retry, which would ask the same again."""
    caplog.set_level(logging.INFO)
    fake.answers = [completion("Once upon a time, a keeper."), completion("{\"scenes\": [")]
    script = run_script(tmp_path, options(server, max_repairs=1), first_attempt(tmp_path))
    assert (script["backend"], script["configured_backend"]) == ("template", "openai")
    generation = script["generation"]
    assert (generation["backend"], generation["model"]) == ("openai", "slow-model")
    rejected = generation["rejected"]
    assert [r["attempt"] for r in rejected] == [1, 2] and generation["attempts"] == 2
    assert rejected[0]["reason"] == "the answer holds no JSON object"
    assert rejected[0]["answer"] == "Once upon a time, a keeper."
    assert "truncated" in rejected[1]["reason"]
    # each answer asked with its own seed and temperature, never the same request twice
    asked = [(r["body"]["seed"], r["body"]["temperature"]) for r in fake.requests]
    assert asked == [(r["seed"], r["temperature"]) for r in rejected]
    assert len(set(asked)) == len(asked) == 2
    # the manifest's degradations (gathered by post) carry every rejected answer's reason
    [record] = fallback.gather(tmp_path / "demo")
    assert (record["stage"], record["backend"]) == ("script", "template")
    assert "1: the answer holds no JSON object" in record["reason"]
    assert "2: the JSON is truncated" in record["reason"]
    assert "template script (configured openai, which failed)" in caplog.text


def test_a_time_out_falls_back_at_once_with_the_answers_before_it(server, fake, tmp_path):
    fake.answers = [completion("not JSON"), completion(json.dumps(VALID))]
    delays = iter([0.0, 1.5])

    class Delayed(FakeChatHandler):
        def do_POST(self) -> None:  # noqa: N802
            FakeChat.delay_s = next(delays, 1.5)
            super().do_POST()

    with local_server(Delayed) as base:
        script = run_script(tmp_path, options(f"{base}/v1", timeout_s=0.5, max_repairs=2),
                            first_attempt(tmp_path))
    assert script["backend"] == "template"
    assert "time-out" in script["fallback"]["reason"]
    assert script["generation"]["requests"] == 2  # the timed-out one was not sent again
    assert [r["reason"] for r in script["generation"]["rejected"]] == [
        "the answer holds no JSON object"]


def test_no_usable_answer_is_permanent(server, fake, tmp_path):
    fake.answers = [completion("nope")]
    with pytest.raises(PermanentError, match="no usable answer in 1 attempts"):
        run_script(tmp_path, options(server, max_repairs=0, fallback=[]), first_attempt(tmp_path))
    assert len(fake.requests) == 1


SHOT = {"story": "demo", "id": "sh001", "index": 1, "scene": "sc01", "sentences": ["sc01_01"],
        "start": 0, "end": 1, "duration": 1.0, "narration": "Mara climbs.",
        "prompt": "A lighthouse.", "setting": "the lighthouse", "time_of_day": "dusk",
        "mood": "calm", "characters": ["Mara"], "camera": "hold", "transition": "cut",
        "seed": 1, "aspect": "16:9"}


def run_vision(tmp_path, opts) -> dict:
    idea, shotlist = tmp_path / "idea.json", tmp_path / "shotlist.json"
    write_json(idea, IDEA, "idea")
    write_json(shotlist, {"story": "demo", "aspect": "16:9", "duration_s": 1.0,
                          "crossfade_s": 0.5, "shots": [SHOT]}, "shotlist")
    smk = SimpleNamespace(input=SimpleNamespace(idea=str(idea), shotlist=str(shotlist)),
                          output=SimpleNamespace(plan=str(tmp_path / "vision")),
                          params=SimpleNamespace(options=opts, characters={}))
    vision.main(smk, first_attempt(tmp_path, "vision"))
    return read_json(tmp_path / "vision" / "style.json", "style")


def test_vision_records_rejected_answers_and_its_degradation(server, fake, tmp_path, caplog):
    caplog.set_level(logging.INFO)
    fake.answers = [completion("A lighthouse keeper with a grey braid.")]
    style = run_vision(tmp_path, options(server, stage="vision", max_repairs=0))
    validate(style, "style")
    assert style["fallback"]["backend"] == "embedded"
    [rejected] = style["generation"]["rejected"]
    assert rejected["reason"] == "the answer holds no JSON object"
    assert rejected["answer"].startswith("A lighthouse keeper")
    [record] = fallback.gather(tmp_path / "demo")
    assert (record["stage"], record["backend"]) == ("vision", "embedded")
    assert "no JSON object" in record["reason"]
    assert "embedded style:" in caplog.text
    # a later run that gets an answer removes the degradation
    fake.answers = [completion(json.dumps({"characters": {"Mara": "a tall keeper"},
                                             "shots": {"sh001": "Mara on the stairs."}}))]
    style = run_vision(tmp_path, options(server, stage="vision", max_repairs=0))
    assert "fallback" not in style and fallback.gather(tmp_path / "demo") == []


@given(st.floats(min_value=0, max_value=2), st.integers(min_value=2, max_value=6))
def test_every_repair_has_another_temperature(base, attempt):
    temperatures = [structured.attempt_temperature(base, a) for a in range(1, attempt + 1)]
    assert len(set(temperatures)) == len(temperatures)
    assert all(0 <= t <= 2 for t in temperatures)


def test_a_transport_error_keeps_the_answers_rejected_before_it():
    class Flaky:
        name, model, temperature = "fake", "m", 0.5

        def __init__(self) -> None:
            self.calls = 0

        def chat(self, messages, schema, seed, temperature=None, max_tokens=None):
            self.calls += 1
            if self.calls > 1:
                raise StoryreelError("cannot reach http://x")
            return "prose"

    rejected: list[dict] = []
    with pytest.raises(StoryreelError, match="cannot reach"):
        structured.generate(Flaky(), [], {"type": "object"}, max_repairs=2, rejected=rejected)
    assert [r["reason"] for r in rejected] == ["the answer holds no JSON object"]
