"""Operating a run, for real on a tiny story: progress from the storyreel logger, notifications
to a local webhook, the report, status, verify and clean."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

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
    assert "FAILED script[broken]: see logs/script/broken.log" in output
    note = hook.bodies[before]
    assert note["type"] == "failure" and "broken" in note["message"]
    assert "logs/script/broken.log" in note["message"]
    status = json.loads(storyreel("status", "-d", str(work.path), "--json").stdout)
    assert status[0]["state"] == "failed"
    assert status[0]["failure"]["log"] == "logs/script/broken.log"


def test_quiet_run_counts_its_jobs_done(tmp_path):
    # -q: Snakemake sends no job-finished events; the summary must still count every job done.
    work = Workdir(tmp_path / "quiet", [TINY_STORY])
    result = work.run("--until", "revise", "--logger", "storyreel", "-q")
    assert "storyreel: finished: 3 of 3 jobs done" in result.output, result.output[-3000:]
    assert "Finished jobid" not in result.output and "rule idea" not in result.output
