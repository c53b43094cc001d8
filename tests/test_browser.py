"""The web monitor and the report in a real headless browser (Chromium from the system packages).

    make test-browser        (installs chromium with apt-get when it is missing and allowed)

Skipped when no Chromium is installed. With STORYREEL_SCREENSHOTS=DIR the screenshots are also
copied to DIR (docs/ keeps monitor.png and report.png from such a run).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from storyreel.ops import monitor

from conftest import BIN, REPO, TINY_STORY, Workdir

pytestmark = [pytest.mark.browser, pytest.mark.workflow]

CHROMIUM = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")
                 if shutil.which(n)), None)
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="no chromium (make test-browser)")


def chromium(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
               "--no-first-run", "--disable-dev-shm-usage", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout)


def keep(png: Path, name: str) -> None:
    target = os.environ.get("STORYREEL_SCREENSHOTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        shutil.copy(png, Path(target) / name)


def wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


@needs_chromium
def test_monitor_shows_the_jobs_of_a_running_story(tmp_path):
    import json

    work = Workdir(tmp_path / "live", [TINY_STORY])
    log = tmp_path / "run.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(work.command("--logger", "storyreel", "--cores", "1"),
                                stdout=out, stderr=subprocess.STDOUT, env=work.env(),
                                start_new_session=True)
    server = monitor.make_server(work.path, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    state = work.path / monitor.STATE

    def running_with_history() -> bool:
        if proc.poll() is not None:
            raise AssertionError("the run ended before the monitor could see it:\n"
                                 + log.read_text(errors="replace")[-3000:])
        try:
            data = json.loads(state.read_text())
        except (OSError, ValueError):
            return False
        return data["counts"]["done"] >= 3 and data["counts"]["running"] >= 1

    try:
        wait_for(running_with_history, 600, "a running job after three finished ones")
        dom = chromium("--virtual-time-budget=4000", "--dump-dom", url).stdout
        png = tmp_path / "monitor.png"
        chromium("--virtual-time-budget=4000", "--window-size=1200,900",
                 f"--screenshot={png}", url)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=60)
        server.shutdown()
        server.server_close()
    assert 'data-loaded="1"' in dom, dom[-2000:]
    rows = re.findall(r'<tr data-state="(\w+)"><td>(\w+)</td>', dom)
    states = {rule: st for st, rule in rows}
    assert states.get("idea") == "done" and states.get("script") == "done", rows
    assert "running" in states.values()
    assert {"voice", "asr", "shotlist", "post"} <= set(states)  # pending jobs are listed too
    assert ">tiny<" in dom and "ETA" in dom
    assert png.stat().st_size > 20_000
    keep(png, "monitor.png")


@needs_chromium
def test_monitor_shows_a_failed_jobs_error_and_no_pending_row_after_the_run(tmp_path):
    work = Workdir(tmp_path / "failed", [TINY_STORY])
    env = {**work.env(), "STORYREEL_FAULTS": "script@tiny:transient"}
    proc = subprocess.run(work.command("--until", "revise", "--logger", "storyreel"),
                          capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 1, proc.stderr[-3000:]
    server = monitor.make_server(work.path, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        dom = chromium("--virtual-time-budget=4000", "--dump-dom",
                       f"http://127.0.0.1:{server.server_address[1]}/").stdout
    finally:
        server.shutdown()
        server.server_close()
    assert 'data-loaded="1"' in dom, dom[-2000:]
    states = dict((rule, st) for st, rule in
                  re.findall(r'<tr data-state="([\w ]+)"><td>(\w+)</td>', dom))
    assert states == {"idea": "done", "script": "failed", "revise": "not run"}, states
    assert ('<div class="error">injected transient fault in script (STORYREEL_FAULTS)</div>'
            in dom)
    assert "failed: 1 of 3 jobs done, 1 failed, 1 not run" in dom
    assert "pending" not in re.sub(r"<(style|script)>.*?</\1>", "", dom, flags=re.S)


REPORT_NAV = """
<script>
// Screenshot helper: open Results > Stories > the story's table once the report has rendered.
function clickText(text) {
  for (const el of document.querySelectorAll("a, li, div, span, td, button")) {
    if (el.children.length === 0 && el.textContent.trim() === text) { el.click(); return true; }
  }
  return false;
}
setTimeout(() => clickText("Results"), 300);
setTimeout(() => clickText("Stories"), 700);
setTimeout(() => clickText("tiny"), 1100);
setTimeout(() => {  // show the contact sheet beside the table (the row's "view" button)
  const cell = [...document.querySelectorAll("td")].find(
    (td) => td.textContent.trim() === "3 contact sheet");
  const view = cell && cell.closest("tr").querySelector("a, button, svg");
  if (view) view.dispatchEvent(new MouseEvent("click", {bubbles: true}));
}, 1500);
</script>
"""


@needs_chromium
def test_report_renders_the_story_items(shared_tmp):
    work = Workdir(shared_tmp / "report", [TINY_STORY])
    subprocess.run(work.command(), check=True, capture_output=True, env=work.env(), timeout=900)
    report = work.path / "report.html"
    subprocess.run([str(BIN / "storyreel"), "report", "--out", str(report), "-s",
                    str(REPO / "Snakefile"), "-d", str(work.path), "--workflow-profile",
                    str(REPO / "profiles" / "test")], check=True, capture_output=True,
                   timeout=300)
    nav = work.path / "report-nav.html"
    head, tail = report.read_text(encoding="utf-8").rsplit("</body>", 1)
    nav.write_text(head + REPORT_NAV + "</body>" + tail, encoding="utf-8")
    dom = chromium("--virtual-time-budget=6000", "--dump-dom", nav.as_uri()).stdout
    # the rendered table of the story (not the embedded data): one row per item, by its label
    for label in ("1 film", "2 poster", "3 contact sheet", "4 subtitles",
                  "5 manifest (provenance)", "6 time and memory per stage"):
        assert re.search(rf">\s*{re.escape(label)}\s*<", dom), label
    png = work.path / "report.png"
    chromium("--virtual-time-budget=6000", "--window-size=1400,900", f"--screenshot={png}",
             nav.as_uri())
    assert png.stat().st_size > 20_000
    keep(png, "report.png")
