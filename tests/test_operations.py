"""Operating a run, for real on a tiny story: progress from the storyreel logger, notifications
to a local webhook, the report, status, verify and clean."""

from __future__ import annotations

import base64
import json
import os
import re
import signal
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from storyreel.ops import joblog

from conftest import BIN, REPO, TINY_STORY, Workdir

pytestmark = pytest.mark.workflow

STORYREEL = str(BIN / "storyreel")
PERCENT = re.compile(r"^\[\s*([\d.]+)%\]")


class Hook:
    """A webhook receiver on 127.0.0.1: keeps every POSTed body."""

    def __init__(self) -> None:
        self.bodies: list[dict] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length", 0))
                hook.bodies.append(json.loads(self.rfile.read(length) or b"{}"))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"json://127.0.0.1:{self.port}/hook-secret-path"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def run(work: Workdir, *args: str, env: dict | None = None,
        timeout: float = 900) -> subprocess.CompletedProcess:
    return subprocess.run(work.command(*args), capture_output=True, text=True, timeout=timeout,
                          env={**work.env(), **(env or {})})


def storyreel(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([STORYREEL, *args], capture_output=True, text=True, timeout=300,
                          cwd=cwd)


@pytest.fixture(scope="module")
def hook():
    server = Hook()
    yield server
    server.close()


@pytest.fixture(scope="module")
def finished(shared_tmp, hook):
    """One full run of the tiny story with the storyreel logger and a notification URL."""
    work = Workdir(shared_tmp / "ops", [TINY_STORY])
    proc = run(work, "--logger", "storyreel", env={"STORYREEL_NOTIFY_URLS": hook.url})
    assert proc.returncode == 0, proc.stderr[-5000:]
    work.output = proc.stdout + proc.stderr
    work.notified = list(hook.bodies)
    return work


def test_progress_lines_only_go_forward_and_end_at_100(finished):
    lines = [ln for ln in finished.output.splitlines() if PERCENT.match(ln)]
    percents = [float(PERCENT.match(ln).group(1)) for ln in lines]
    assert len(percents) >= 8, finished.output[-3000:]
    assert percents == sorted(percents)
    assert percents[-1] == 100.0
    assert "storyreel: finished" in finished.output
    assert "ETA" in lines[0]
    # jobs' own INFO lines stay in their log files
    assert " INFO storyreel" not in finished.output


def test_notification_carries_the_summary_and_the_url_is_written_nowhere(finished, hook):
    pytest.importorskip("apprise", reason="notifications need storyreel[notify]")
    assert len(finished.notified) == 1
    note = finished.notified[0]
    assert "finished" in note["title"] and note["type"] == "success"
    assert "tiny: finished" in note["message"] and "results/tiny/final.mp4" in note["message"]
    secret = f"{hook.port}/hook-secret-path"
    assert secret not in finished.output
    for path in finished.path.rglob("*"):
        if path.is_file() and path.stat().st_size < 5_000_000:
            assert secret.encode() not in path.read_bytes(), path


def test_report_holds_every_item_with_a_caption(finished):
    out = finished.path / "report.html"
    proc = storyreel("report", "--out", str(out), "-s", str(REPO / "Snakefile"), "-d",
                     str(finished.path), "--workflow-profile", str(REPO / "profiles" / "test"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    page = out.read_text(encoding="utf-8")
    results = json.loads(re.search(r"var results = (\{.*?\});\n", page, re.S).group(1))
    items = {Path(k).name: v for k, v in results.items()}
    for name in ("final.mp4", "poster.jpg", "contactsheet.jpg", "final.srt", "manifest.json",
                 "stages.html"):
        assert name in items, sorted(items)
        assert items[name]["labels"]["story"] == "tiny"
        assert "tiny" in items[name]["caption"]
    assert items["final.mp4"]["mime_type"] == "video/mp4"
    stages = base64.b64decode(items["stages.html"]["data_uri"].split("base64,", 1)[1]).decode()
    for stage in ("voice", "asr", "keyframes", "video", "post", "peak RSS", "Provenance"):
        assert stage in stages
    assert "time and memory per stage" in page


def test_status_reads_the_state_from_disk(finished):
    proc = storyreel("status", "-d", str(finished.path), "--json")
    assert proc.returncode == 0, proc.stderr
    (tiny,) = json.loads(proc.stdout)
    assert tiny["state"] == "finished" and tiny["reached"] == "post"
    assert tiny["stale"] == [] and tiny["failure"] is None


def test_clean_keeps_the_films_and_the_next_run_leaves_them_alone(finished, tmp_path):
    work = Workdir(tmp_path / "clean", [TINY_STORY])
    subprocess.run(["cp", "-a", f"{finished.path}/.", str(work.path)], check=True)
    results = work.results()
    (results / ".final.mp4.x1.part.mp4").write_bytes(b"left by kill -9")
    listed = storyreel("clean", "-d", str(work.path), "--dry-run")
    assert listed.returncode == 0, listed.stderr
    assert "would remove results/tiny/narration.wav" in listed.stdout
    assert "would remove results/tiny/.final.mp4.x1.part.mp4" in listed.stdout
    assert re.search(r"would free [\d.]+ (KB|MB)", listed.stdout)
    assert (results / "narration.wav").exists()

    young = storyreel("clean", "-d", str(work.path), "--older-than", "1d").stdout
    assert "removed results/tiny/narration.wav" not in young  # finished a minute ago
    assert "removed results/tiny/.final.mp4.x1.part.mp4" in young  # orphans go regardless
    done = storyreel("clean", "-d", str(work.path))
    assert done.returncode == 0, done.stderr
    left = sorted(p.name for p in results.iterdir())
    assert left == sorted([".archived", "contactsheet.jpg", "final.mp4", "final.srt",
                           "final.vtt", "manifest.json", "poster.jpg", "stages.html"])
    assert storyreel("verify", "-d", str(work.path)).returncode == 0
    again = run(work, "-n")
    assert again.returncode == 0 and joblog.jobs(again.stdout + again.stderr) == []
    status = json.loads(storyreel("status", "-d", str(work.path), "--json").stdout)
    assert status[0]["state"] == "archived"
    # the report says what it leaves out, and writes no empty report
    out = work.path / "after-clean.html"
    report = storyreel("report", "--out", str(out), *work.command()[1:])
    assert report.returncode == 1 and not out.exists()
    assert ("storyreel report: left out 1 archived story (tiny): `storyreel clean` removed "
            "their intermediates; to include one, make it again: storyreel run "
            "results/tiny/final.mp4") in report.stderr.splitlines()
    assert "Error: nothing to report: every story is archived" in report.stderr
    # ... and asking for the film makes the story again, as the docs say
    remade = storyreel("run", "results/tiny/final.mp4", *work.command("--logger", "storyreel")[1:])
    assert remade.returncode == 0, (remade.stdout + remade.stderr)[-3000:]
    assert "  tiny                 done: results/tiny/final.mp4" in remade.stderr
    assert (results / "narration.wav").exists() and not (results / ".archived").exists()
    status = json.loads(storyreel("status", "-d", str(work.path), "--json").stdout)
    assert status[0]["state"] == "finished"


def test_failure_notifies_and_status_names_the_log(tmp_path, hook):
    pytest.importorskip("apprise", reason="notifications need storyreel[notify]")
    stages = {"script": {"backend": "openai", "base_url": "http://127.0.0.1:9/v1",
                         "timeout_s": 2, "max_retries": 0, "fallback": []}}
    work = Workdir(tmp_path / "broken", [{"id": "broken", "idea": "A fox finds a lantern.",
                                          "duration_s": 8}], {"stages": stages, "retries": 0})
    before = len(hook.bodies)
    proc = run(work, "--until", "script", "--logger", "storyreel",
               env={"STORYREEL_NOTIFY_URLS": hook.url})
    assert proc.returncode != 0
    output = proc.stdout + proc.stderr
    failed = [line for line in output.splitlines() if "FAILED at script" in line]
    assert len(failed) == 1, output[-3000:]  # listed once, in the summary
    assert re.fullmatch(r"  broken +FAILED at script: .*Connection refused.*  \(log: "
                        r"logs/script/broken\.log\)  \[1/2 jobs, .*\]", failed[0]), failed
    note = hook.bodies[before]
    assert note["type"] == "failure" and "broken" in note["message"]
    assert "logs/script/broken.log" in note["message"]
    status = json.loads(storyreel("status", "-d", str(work.path), "--json").stdout)
    assert status[0]["state"] == "failed"
    assert status[0]["failure"]["log"] == "logs/script/broken.log"


def test_quiet_run_counts_its_jobs_done_and_its_bar_ends_at_100(tmp_path):
    # Snakemake's -q: no job-finished events; the summary must still count every job done.
    work = Workdir(tmp_path / "quiet", [TINY_STORY])
    result = work.run("--until", "revise", "--logger", "storyreel", "-q")
    lines = result.output.splitlines()
    last = next(i for i, ln in enumerate(lines) if ln.startswith("storyreel: finished"))
    assert re.fullmatch(r"\[100\.0%\] 3/3 jobs · elapsed \d+s.*", lines[last - 1]), lines
    assert re.fullmatch(r"storyreel: finished: 3 of 3 jobs done in \d+s", lines[last]), lines
    assert "Finished jobid" not in result.output and "rule idea" not in result.output
    # storyreel run -q: quiet about jobs, not about progress
    proc = storyreel("run", *work.command("--until", "script", "--logger", "storyreel",
                                          "-F", "-q")[1:])
    lines = (proc.stdout + proc.stderr).splitlines()
    last = next(i for i, ln in enumerate(lines) if ln.startswith("storyreel: finished"))
    assert proc.returncode == 0 and re.fullmatch(r"\[100\.0%\] 2/2 jobs · .*", lines[last - 1])
    assert "rule idea" not in proc.stdout + proc.stderr


def faults_env(stage: str, story: str, first_only: bool = True) -> dict[str, str]:
    """STORYREEL_FAULTS that fail ``stage`` of ``story`` with a transient error on its first
    attempt only (a seed whose draws fail attempt 1 and spare attempt 2), or on every one."""
    from unittest import mock

    from storyreel.job import faults

    if not first_only:
        return {faults.ENV: f"{stage}@{story}:transient"}
    for seed in map(str, range(1000)):
        with mock.patch.dict("os.environ", {faults.SEED_ENV: seed}):
            draws = [faults.draw(f"{stage}|transient|{stage}/{story}|{a}") for a in (1, 2)]
        if draws[0] < 0.5 <= draws[1]:
            return {faults.ENV: f"{stage}@{story}:transient:0.5", faults.SEED_ENV: seed}
    raise AssertionError("no seed fails only the first attempt")


def state_of(work: Workdir) -> dict:
    return json.loads((work.path / ".snakemake" / "storyreel" / "progress.json").read_text())


def test_a_retried_job_is_a_success_with_its_retries_noted(tmp_path, hook):
    pytest.importorskip("apprise", reason="notifications need storyreel[notify]")
    work = Workdir(tmp_path / "retried", [TINY_STORY])
    before = len(hook.bodies)
    proc = run(work, "--until", "revise", "--logger", "storyreel",
               env={**faults_env("script", "tiny"), "STORYREEL_NOTIFY_URLS": hook.url})
    output = proc.stdout + proc.stderr
    lines = output.splitlines()
    assert proc.returncode == 0, output[-3000:]
    assert "storyreel: script[tiny] failed (attempt 1): injected transient fault in script " \
           "(STORYREEL_FAULTS)  (log: logs/script/tiny.log)" in lines
    assert "storyreel: retrying script[tiny] (attempt 2)" in lines
    assert any(re.fullmatch(r"\[100\.0%\] 3/3 jobs · elapsed \d+s.*", ln) for ln in lines)
    assert any(re.fullmatch(r"storyreel: finished: 3 of 3 jobs done \(1 after a retry\) in \d+s",
                            ln) for ln in lines), output[-3000:]
    assert "    retried: script[tiny] (2 attempts)" in lines
    assert not any(ln.startswith("  FAILED") or "FAILED at" in ln for ln in lines)
    assert "degraded" not in output.replace("0 degraded", "")
    summary = json.loads((work.path / "logs" / "summary.json").read_text())
    assert summary["ok"] is True and summary["exit_code"] == 0
    assert summary["jobs"] == {"done": 3, "failed": 0, "not run": 0, "retried": 1}
    note = hook.bodies[before]
    assert note["type"] == "success" and "retried: script[tiny] (2 attempts)" in note["message"]
    state = state_of(work)
    assert state["running"] is False and state["fraction"] == 1.0
    assert state["counts"]["done"] == 3 and state["counts"]["failed"] == 0
    assert {j["rule"]: j["attempts"] for j in state["jobs"]}["script"] == 2


def test_a_failure_is_listed_once_and_every_view_agrees(tmp_path, hook):
    pytest.importorskip("apprise", reason="notifications need storyreel[notify]")
    work = Workdir(tmp_path / "failing", [TINY_STORY])
    before = len(hook.bodies)
    proc = run(work, "--until", "revise", "--logger", "storyreel",
               env={**faults_env("script", "tiny", first_only=False),
                    "STORYREEL_NOTIFY_URLS": hook.url})
    output = proc.stdout + proc.stderr
    lines = output.splitlines()
    assert proc.returncode == 1, output[-3000:]
    assert sum("FAILED at" in line for line in lines) == 1, output[-3000:]  # in the summary
    assert ("  tiny                 FAILED at script: injected transient fault in script "
            "(STORYREEL_FAULTS)  (log: logs/script/tiny.log)  [1/3 jobs, ") in output
    assert any(re.fullmatch(r"\[ *[\d.]+%\] stopped: 1/3 jobs done, 1 failed, 1 not run · .*",
                            ln) and not ln.startswith("[100.0%]") for ln in lines), output[-3000:]
    assert any(re.fullmatch(r"storyreel: failed: 1 of 3 jobs done, 1 failed, 1 not run in \d+s",
                            ln) for ln in lines)
    summary = json.loads((work.path / "logs" / "summary.json").read_text())
    assert summary["ok"] is False and summary["exit_code"] == proc.returncode
    assert summary["jobs"] == {"done": 1, "failed": 1, "not run": 1, "retried": 0}
    note = hook.bodies[before]
    assert note["type"] == "failure"
    assert "failed at script: injected transient fault in script" in note["message"]
    state = state_of(work)  # what the web monitor shows after the run
    jobs = {j["rule"]: j for j in state["jobs"]}
    assert [jobs[r]["state"] for r in ("idea", "script", "revise")] == ["done", "failed",
                                                                        "not run"]
    assert jobs["script"]["error"] == "injected transient fault in script (STORYREEL_FAULTS)"
    assert jobs["script"]["attempts"] == 2
    assert state["summary"]["jobs"] == summary["jobs"]


def test_a_rerun_after_a_config_change_ends_at_100(finished, tmp_path):
    work = Workdir(tmp_path / "changed", [TINY_STORY])
    subprocess.run(["cp", "-a", f"{finished.path}/.", str(work.path)], check=True)
    config = yaml.safe_load((work.path / "config" / "config.yaml").read_text())
    config["stages"].setdefault("vision", {})["temperature"] = 0.3  # vision reruns
    work.write_config(config)
    proc = run(work, "--logger", "storyreel")
    lines = (proc.stdout + proc.stderr).splitlines()
    assert proc.returncode == 0, lines[-30:]
    final = [ln for ln in lines if ln.startswith("[100.0%]") and "done " not in ln]
    assert final and re.fullmatch(r"\[100\.0%\] (\d+)/\1 jobs · elapsed .*", final[-1]), lines[-12:]
    head = [ln for ln in lines if ln.startswith("storyreel: finished: ")]
    assert head and re.fullmatch(r"storyreel: finished: (\d+) of \1 jobs done in \d+s", head[0])


def test_run_verbose_is_verbose_and_targets_mix_with_config(tmp_path):
    work = Workdir(tmp_path / "cli", [TINY_STORY])
    (work.path / "config" / "other.yaml").write_text(yaml.safe_dump(
        {"stories": [{**TINY_STORY, "id": "other"}]}))
    verbose = storyreel("run", "-v", "-n", *work.command()[1:])
    assert verbose.returncode == 0, verbose.stderr[-2000:]
    assert "This was a dry-run" in verbose.stdout + verbose.stderr  # not the version
    mixed = storyreel("run", "--config", "stories=config/other.yaml",
                      "results/other/final.mp4", "-n", *work.command()[1:])
    assert mixed.returncode == 0, mixed.stderr[-2000:]
    assert "voice" in joblog.jobs(mixed.stdout + mixed.stderr)
    assert "Traceback" not in mixed.stdout + mixed.stderr
    wrong = storyreel("run", "results/nope/final.mp4", "-n", *work.command()[1:])
    assert wrong.returncode == 2 and "Traceback" not in wrong.stderr
    assert ("Error: results/nope/final.mp4: the stories file has no story 'nope' (stories: "
            "tiny)") in wrong.stderr.splitlines()


def test_status_takes_the_runs_config(tmp_path):
    work = Workdir(tmp_path / "other", [TINY_STORY])
    (work.path / "config" / "other.yaml").write_text(yaml.safe_dump(
        {"stories": [{**TINY_STORY, "id": "other"}]}))
    default = storyreel("status", "-d", str(work.path)).stdout.splitlines()
    assert [line.split()[0] for line in default] == ["tiny"]
    other = storyreel("status", "-d", str(work.path), "--config", "stories=config/other.yaml")
    assert [line.split()[0] for line in other.stdout.splitlines()] == ["other"], other.stdout
    bad = storyreel("status", "-d", str(work.path), "--config", "nokey")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr, bad.stderr


def test_status_knows_a_live_run_from_a_killed_one(tmp_path):
    work = Workdir(tmp_path / "live", [TINY_STORY])
    env = {**work.env(), "STORYREEL_FAULTS": "voice:hang:1:120"}
    proc = subprocess.Popen(work.command("--until", "voice"), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=env, start_new_session=True)
    try:
        marker = work.path / "logs" / ".status" / "voice" / "tiny.json"
        deadline = time.monotonic() + 300
        while not marker.exists():
            assert proc.poll() is None and time.monotonic() < deadline, "voice never started"
            time.sleep(0.2)
        live = storyreel("status", "-d", str(work.path)).stdout.splitlines()
        assert live[0] == "a run is working here now: outputs being written are its own", live
        assert live[1].startswith("tiny                 running      reached revise")
        assert "  being written by the run: results/tiny/narration.wav, results/tiny/voice.json" \
            in live
        assert not any("killed" in line for line in live)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    dead = storyreel("status", "-d", str(work.path)).stdout.splitlines()
    assert dead[0] == ("a killed run left its lock here: `storyreel resume` removes it and goes "
                       "on"), dead
    assert ("  left incomplete by a killed run: results/tiny/narration.wav, "
            "results/tiny/voice.json") in dead
