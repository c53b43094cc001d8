"""Retries that help, fallbacks, fault injection, redaction and the end-of-run summary
(issue 6): unit tests of the runner, fallback, faults, redact and summary modules, and a few
short workflow runs (up to idea or script) that check what a user sees."""

from __future__ import annotations

import json
import logging
import random
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from types import SimpleNamespace

import pytest

from storyreel.core import redact
from storyreel.core.errors import (
    ConfigError,
    MissingExtraError,
    PermanentError,
    StoryreelError,
    TransientError,
)
from storyreel.job import fallback, faults, runner
from storyreel.job.context import JobContext
from storyreel.ops import summary

from conftest import TINY_STORY, Workdir, local_server

SECRET = "sk-live-0123456789abcdef-secret"


# -- redaction -------------------------------------------------------------------------------

def test_redact_scrubs_secret_values_and_authorization_headers(monkeypatch):
    monkeypatch.setenv("MY_SERVICE_TOKEN", SECRET)
    redact.register_env(["ODD_NAME"])
    monkeypatch.setenv("ODD_NAME", "hunter2-password")
    text = (f"body: {{'headers': {{'Authorization': 'Bearer {SECRET}'}}}} token {SECRET} "
            "pw hunter2-password\nAuthorization: Basic dXNlcjpwYXNz\nurl ?api_key=abc123&x=1")
    out = redact.redact(text)
    assert SECRET not in out and "hunter2-password" not in out
    assert "dXNlcjpwYXNz" not in out and "abc123" not in out
    assert out.count(redact.MASK) >= 4


def test_redacting_filter_rewrites_log_records(monkeypatch, tmp_path):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    path = tmp_path / "x.log"
    runner.setup_logging(str(path))
    logging.getLogger("storyreel.test").error("server said %s", f"Authorization: Bearer {SECRET}")
    logging.shutdown()
    assert SECRET not in path.read_text()
    assert redact.MASK in path.read_text()


class Echo(BaseHTTPRequestHandler):
    """A hostile server: echoes the request's headers in a 401 body."""

    def do_POST(self) -> None:  # noqa: N802 (http.server API)
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = json.dumps({"error": "unauthorized", "headers": dict(self.headers)}).encode()
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def echo_server():
    with local_server(Echo) as url:
        yield f"{url}/v1"


@pytest.mark.workflow
def test_api_key_echoed_by_a_server_never_reaches_logs_or_console(echo_server, tmp_path,
                                                                   monkeypatch):
    monkeypatch.setenv("STORYREEL_TEST_KEY", SECRET)
    premise = {**TINY_STORY, "idea": "A cat finds a key in the garden."}
    work = Workdir(tmp_path / "w", [premise], {
        "retries": 1, "retry": {"backoff_s": [0.1], "jitter": 0},
        "stages": {"script": {"backend": "openai", "base_url": echo_server,
                              "api_key_env": "STORYREEL_TEST_KEY", "fallback": ["template"]}}})
    result = work.run("--until", "script")
    assert SECRET not in result.output
    for path in work.path.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path
    side = work.path / "results" / "tiny" / ".degradations" / "script.json"
    record = json.loads(side.read_text())
    assert record["backend"] == "template" and "401" in record["reason"]
    # 401 cannot be cured by asking again: the template writes at once, with no second attempt
    assert (work.path / "logs" / "script" / "tiny.attempt1.log").exists()
    assert not (work.path / "logs" / "script" / "tiny.attempt2.log").exists()


# -- faults ----------------------------------------------------------------------------------

def test_fault_spec_parses_and_rejects_nonsense():
    rules = faults.parse("voice:transient:0.3, keyframes@k03:permanent,video:hang:0.1:60")
    assert rules[0] == faults.Fault("voice", None, "transient", 0.3)
    assert rules[1] == faults.Fault("keyframes", "k03", "permanent", 1.0)
    assert rules[2].seconds == 60
    for bad in ("voice", "voice:explode", "voice:transient:2", "voice:transient:x"):
        with pytest.raises(ConfigError):
            faults.parse(bad)


def test_faults_fire_by_stage_story_and_probability(monkeypatch):
    monkeypatch.setenv(faults.ENV, "voice@k03:permanent,asr:transient:0.5")
    faults.inject("voice", "k01", "voice/k01", 1)
    with pytest.raises(PermanentError):
        faults.inject("voice", "k03", "voice/k03", 1)
    fired = 0
    for i in range(200):
        try:
            faults.inject("asr", "k01", f"asr/k{i}", 1)
        except TransientError:
            fired += 1
    assert 70 < fired < 130


# -- retries ---------------------------------------------------------------------------------

def test_backoff_grows_exponentially_with_jitter():
    rng = random.Random(1)
    delays = [runner.backoff_delay(a, [2, 8, 30], 0.5, rng) for a in (1, 2, 3, 4, 5)]
    assert delays[0] == 0
    assert 1 <= delays[1] <= 3 and 4 <= delays[2] <= 12 and 15 <= delays[3] <= 45
    assert 15 <= delays[4] <= 45  # the last entry repeats
    assert runner.backoff_delay(2, [2], 0.0) == 2


def fake_smk(tmp_path: Path, attempt: int, retries: int = 2, rule: str = "idea") -> SimpleNamespace:
    log = tmp_path / "logs" / rule / "tiny.log"
    return SimpleNamespace(
        rule=rule, wildcards=SimpleNamespace(items=lambda: [("story", "tiny")]),
        log=[str(log)], input=[], resources={"attempt": attempt},
        config={"retries": retries, "retry": {"backoff_s": [0.01], "jitter": 0}})


def test_permanent_error_fails_later_attempts_at_once(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    calls = []

    def main(smk, job):
        calls.append(1)
        raise MissingExtraError("keyframes/x", "diffusers", "diffusers")

    for attempt in (1, 2, 3):
        with pytest.raises(SystemExit) as info:
            runner.run(fake_smk(tmp_path, attempt), main)
        assert "pip install 'storyreel[diffusers]'" in str(info.value.code)
    assert calls == [1]  # attempts 2 and 3 did not run the stage again
    logs = tmp_path / "logs" / "idea"
    assert sorted(p.name for p in logs.iterdir()) == [
        "tiny.attempt1.log", "tiny.attempt2.log", "tiny.attempt3.log", "tiny.log"]
    assert "not retried" in (logs / "tiny.attempt3.log").read_text()
    status = json.loads((tmp_path / "logs" / ".status" / "idea" / "tiny.json").read_text())
    assert status["status"] == "failed" and status["permanent"]


def test_transient_error_is_retried_and_every_attempt_log_kept(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    attempts = []

    def main(smk, job):
        attempts.append(smk.resources["attempt"])
        logging.getLogger("storyreel").info("attempt %d working", attempts[-1])
        if len(attempts) < 2:
            raise TransientError("server busy")

    with pytest.raises(SystemExit):
        runner.run(fake_smk(tmp_path, 1), main)
    runner.run(fake_smk(tmp_path, 2), main)
    assert attempts == [1, 2]
    logs = tmp_path / "logs" / "idea"
    assert "server busy" in (logs / "tiny.attempt1.log").read_text()
    assert "waiting" in (logs / "tiny.attempt2.log").read_text()
    assert "attempt 2 working" in (logs / "tiny.log").read_text()


def test_timeout_ends_a_hanging_attempt(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(faults.ENV, "idea:hang:1:30")
    smk = fake_smk(tmp_path, 1)
    smk.config["retry"]["timeout_s"] = {"idea": 0.5}
    with pytest.raises(SystemExit) as info:
        runner.run(smk, lambda s, job: None)
    assert "timed out after 0.5 s" in str(info.value.code)


def test_temporary_work_lives_under_the_project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    seen = []

    def main(smk, job):
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            seen.append(tmp)

    runner.run(fake_smk(tmp_path, 1), main)
    assert seen[0].startswith(str(tmp_path / ".snakemake" / "storyreel-tmp"))


@pytest.mark.workflow
def test_workflow_retries_with_backoff_and_numbered_logs(tmp_path):
    work = Workdir(tmp_path / "w", [TINY_STORY],
                   {"retries": 2, "retry": {"backoff_s": [0.2, 0.4], "jitter": 0}})
    env = {**work.env(), faults.ENV: "idea:transient"}
    import subprocess

    proc = subprocess.run(work.command("--until", "idea"), capture_output=True, text=True,
                          env=env, timeout=300)
    assert proc.returncode != 0
    logs = work.path / "logs" / "idea"
    for n in (1, 2, 3):
        assert "injected transient fault" in (logs / f"tiny.attempt{n}.log").read_text()
    assert "waiting 0.40 s before attempt 3" in (logs / "tiny.attempt3.log").read_text()
    assert "FAILED at idea: injected transient fault in idea" in proc.stderr
    data = json.loads((work.path / "logs" / "summary.json").read_text())
    assert data["counts"]["failed"] == 1 and data["stories"][0]["log"] == "logs/idea/tiny.log"


# -- fallback --------------------------------------------------------------------------------

def test_fallback_records_a_degradation_and_clears_it_on_success(tmp_path):
    options = {"backend": "heavy", "fallback": ["light"]}

    def call(name):
        if name == "heavy":
            raise MissingExtraError("keyframes/heavy", "diffusers", "diffusers")
        return name

    job = JobContext.alone("keyframes", "k01", "sh002", results=tmp_path)
    assert fallback.with_fallback(job, options, call) == "light"
    records = fallback.gather(tmp_path / "k01")
    assert records == [{"stage": "keyframes", "shot": "sh002", "backend": "light",
                        "reason": "heavy: backend 'keyframes/heavy' needs the Python module "
                                  "'diffusers', which is not installed; install it with: pip "
                                  "install 'storyreel[diffusers]'"}]
    assert fallback.with_fallback(job, options, lambda n: n) == "heavy"
    assert fallback.gather(tmp_path / "k01") == []


def test_fallback_waits_for_the_last_attempt_on_transient_errors(tmp_path, monkeypatch):
    options = {"backend": "heavy", "fallback": ["light"]}

    def call(name):
        if name == "heavy":
            raise TransientError("CUDA busy")
        return name

    first = JobContext("video", "k01", "sh001", attempt=1, attempts=2, results=tmp_path)
    with pytest.raises(TransientError):
        fallback.with_fallback(first, options, call)
    last = JobContext("video", "k01", "sh001", attempt=2, attempts=2, results=tmp_path)
    assert fallback.with_fallback(last, options, call) == "light"


def test_bad_input_never_falls_back(tmp_path):
    def call(name):
        raise ConfigError("config: shots.k01.sh009: no such shot")

    with pytest.raises(ConfigError):
        fallback.with_fallback(JobContext.alone("keyframes", "k01", results=tmp_path),
                               {"backend": "a", "fallback": ["b"]}, call)


def test_all_backends_failing_names_each_reason(tmp_path):
    def call(name):
        raise PermanentError(f"{name} is broken")

    with pytest.raises(StoryreelError, match="a: a is broken; b: b is broken"):
        fallback.with_fallback(JobContext.alone("voice", "k01", results=tmp_path),
                               {"backend": "a", "fallback": ["b"]}, call)


# -- summary ---------------------------------------------------------------------------------

def test_summary_lines_per_story(tmp_path):
    for story, status in (("k01", "done"), ("k02", "failed")):
        path = tmp_path / "logs" / ".status" / "voice" / f"{story}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"stage": "voice", "story": story, "shot": None,
                                    "status": status, "error": "no audio" if status ==
                                    "failed" else None, "log": f"logs/voice/{story}.log",
                                    "time": 100.0}))
    for story in ("k01", "k03"):
        d = tmp_path / "results" / story
        d.mkdir(parents=True)
        (d / "idea.json").write_text("{}")
    (tmp_path / "results" / "k01" / "final.mp4").write_bytes(b"x")
    (tmp_path / "results" / "k01" / "manifest.json").write_text(json.dumps(
        {"degradations": [{"stage": "keyframes", "shot": "sh002", "backend": "animatic",
                           "reason": "x"}]}))
    crashed = tmp_path / "logs" / ".status" / "video" / "k04" / "sh002.json"
    crashed.parent.mkdir(parents=True)
    crashed.write_text(json.dumps({"stage": "video", "story": "k04", "shot": "sh002",
                                   "status": "running", "error": None,
                                   "log": "logs/video/k04/sh002.log", "time": 100.0}))
    data = summary.finish(["k01", "k02", "k03", "k04"], since=50.0, workdir=tmp_path)
    k04 = data["stories"][3]
    assert k04["status"] == "failed" and k04["stage"] == "video" and "killed" in k04["error"]
    by = {s["story"]: s for s in data["stories"]}
    assert by["k01"]["status"] == "degraded"
    assert by["k02"]["status"] == "failed" and by["k02"]["stage"] == "voice"
    assert by["k02"]["log"] == "logs/voice/k02.log" and by["k02"]["error"] == "no audio"
    assert by["k03"]["status"] == "incomplete" and by["k03"]["stage"] == "idea"
    assert json.loads((tmp_path / "logs" / "summary.json").read_text())["counts"] == {
        "done": 0, "degraded": 1, "failed": 2, "incomplete": 1}
    text = summary.format_summary(data)
    assert "k02" in text and "FAILED at voice: no audio  (log: logs/voice/k02.log)" in text
    assert "keyframes/sh002->animatic" in text


def test_onnxruntime_writes_nothing_under_the_home_folder(tmp_path, monkeypatch):
    """onnxruntime writes a device id under ~/.cache when imported: the runner's import hook
    sends it to the job's temporary folder instead (in a fresh interpreter)."""
    import subprocess
    import sys

    pytest.importorskip("onnxruntime")
    home = tmp_path / "home"
    home.mkdir()
    code = ("import sys, pathlib; from storyreel.job import runner; "
            "runner.telemetry_off(pathlib.Path(sys.argv[1])); import onnxruntime; "
            "onnxruntime.SessionOptions()")
    env = {k: v for k, v in __import__("os").environ.items() if k != "XDG_CACHE_HOME"}
    env["HOME"] = str(home)
    subprocess.run([sys.executable, "-c", code, str(tmp_path / "scratch")], check=True, env=env,
                   cwd=tmp_path)
    assert not [p for p in home.rglob("*") if p.is_file()]
