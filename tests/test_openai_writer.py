"""OpenAIWriter against a tiny local OpenAI-compatible server (no network)."""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from types import SimpleNamespace

import pytest

from storyreel.artifacts import validate, write_json
from storyreel.backends.script.openai_compat import OpenAIWriter, parse_scenes
from storyreel.errors import StoryreelError
from storyreel.stages import script as sc
from storyreel.vocabulary import MOODS, TIMES_OF_DAY

SECRET = "sk-test-very-secret-123"
SCENES = {"scenes": [
    {"beat": "setup", "narration": "Mara keeps the **lamp** on the island.",
     "visual": "An old keeper in a lighthouse at dusk.", "setting": "lighthouse",
     "time_of_day": "dusk", "mood": "calm", "characters": ["Mara"]},
    {"beat": "climax", "narration": "The lamp fails, and Mara lifts a lantern into the storm.",
     "time_of_day": "midnight", "mood": "scary"},
    {"beat": "resolution", "narration": "At dawn the boat is home."},
]}


class Fake:
    """Answers set by a test, and the requests the server saw."""

    status = 200
    body: bytes = b""
    requests: list[dict] = []


class Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 (http.server API)
        length = int(self.headers.get("Content-Length", 0))
        Fake.requests.append({"path": self.path, "headers": dict(self.headers),
                              "body": json.loads(self.rfile.read(length))})
        self.send_response(Fake.status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(Fake.body)

    def log_message(self, *args) -> None:
        pass


def completion(content: str) -> bytes:
    return json.dumps({"choices": [{"message": {"role": "assistant", "content": content}}]}
                      ).encode()


@pytest.fixture(scope="module")
def server():
    httpd = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def fake():
    Fake.status, Fake.body, Fake.requests = 200, completion(json.dumps(SCENES)), []
    return Fake


def options(base_url: str, **extra) -> dict:
    return {"backend": "openai", "model": "tiny-model", "base_url": base_url,
            "api_key_env": "STORYREEL_TEST_KEY", "temperature": 0.2, "timeout_s": 5} | extra


IDEA = {"story": "demo", "title": "Demo", "kind": "premise", "premise": "Mara keeps a lamp.",
        "text": None, "language": "en", "duration_s": 30, "aspect": "16:9",
        "style": "storybook", "voice": None, "seed": 9}


def test_request_and_repaired_script(server, fake, monkeypatch, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("STORYREEL_TEST_KEY", SECRET)
    idea_path, out = tmp_path / "idea.json", tmp_path / "script.json"
    write_json(idea_path, IDEA, "idea")
    smk = SimpleNamespace(input=SimpleNamespace(idea=str(idea_path)),
                          output=SimpleNamespace(script=str(out)),
                          params=SimpleNamespace(options=options(server + "/"),
                                                 words_per_minute=165.0,
                                                 pauses={"sentence": 0.3, "scene": 0.7}))
    sc.main(smk)
    request = fake.requests[0]
    assert request["path"] == "/v1/chat/completions"
    assert request["headers"]["Authorization"] == f"Bearer {SECRET}"
    body = request["body"]
    assert (body["model"], body["temperature"], body["seed"]) == ("tiny-model", 0.2, 9)
    assert "Mara keeps a lamp." in body["messages"][-1]["content"]
    written = out.read_text()
    script = json.loads(written)
    validate(script, "script")
    assert (script["backend"], script["model"]) == ("openai", "tiny-model")
    assert script["scenes"][0]["narration"] == "Mara keeps the lamp on the island."
    assert script["scenes"][1]["time_of_day"] in TIMES_OF_DAY
    assert script["scenes"][1]["mood"] in MOODS
    assert script["scenes"][2]["visual"]
    assert SECRET not in written
    assert SECRET not in caplog.text
    assert server in caplog.text


def test_no_key_no_authorization_header(server, fake, monkeypatch):
    monkeypatch.delenv("STORYREEL_TEST_KEY", raising=False)
    scenes = OpenAIWriter(options(server)).write(IDEA, sc.budget_for(IDEA, 165, {}))
    assert len(scenes) == 3
    assert "Authorization" not in fake.requests[0]["headers"]


def test_http_error_names_the_server(server, fake):
    fake.status, fake.body = 500, b'{"error": "boom"}'
    with pytest.raises(StoryreelError, match=r"127\.0\.0\.1.*HTTP 500"):
        OpenAIWriter(options(server)).write(IDEA, sc.budget_for(IDEA, 165, {}))


def test_unreachable_server_names_the_base_url():
    with pytest.raises(StoryreelError, match=r"cannot reach http://127\.0\.0\.1:9/v1"):
        OpenAIWriter(options("http://127.0.0.1:9/v1", timeout_s=2)).write(
            IDEA, sc.budget_for(IDEA, 165, {}))


@pytest.mark.parametrize("body", [b"not json", json.dumps({"choices": []}).encode(),
                                  completion("Once upon a time, no JSON here.")])
def test_bad_answers_are_clear_errors(server, fake, body):
    fake.body = body
    with pytest.raises(StoryreelError, match="openai writer"):
        OpenAIWriter(options(server)).write(IDEA, sc.budget_for(IDEA, 165, {}))


@pytest.mark.parametrize("content", [
    "```json\n" + json.dumps(SCENES) + "\n```",
    "Here you go: " + json.dumps(SCENES) + " Enjoy!",
    json.dumps(SCENES["scenes"]),
])
def test_parse_scenes_tolerates_fences_prose_and_bare_lists(content):
    assert [s["beat"] for s in parse_scenes(content, "http://x")] == [
        "setup", "climax", "resolution"]
