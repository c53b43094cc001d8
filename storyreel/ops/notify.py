"""Notifications on finish and on failure, with the per-story summary, through apprise.

Destinations come only from the environment, never from a file::

    export STORYREEL_NOTIFY_URLS="slack://T000/B000/XXXX ntfy://ntfy.sh/my-topic"

Any apprise URL works (Slack, Discord, e-mail via ``mailto://``, ntfy, ``json://`` or
``form://`` webhooks...); several are separated by spaces or commas. The URLs hold secrets, so
they are never printed, logged or written anywhere: a failed destination is named by its
position only ("destination 2 of 3"). Nothing happens when the variable is unset. The
Snakefile's ``onsuccess`` / ``onerror`` handlers call :func:`finished`; apprise comes with
``pip install 'storyreel[notify]'``.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
from pathlib import Path
from typing import Any

from storyreel.core import pipeline

ENV = "STORYREEL_NOTIFY_URLS"


def destinations(environ: dict[str, str] | None = None) -> list[str]:
    text = (environ if environ is not None else os.environ).get(ENV, "")
    return [u for u in re.split(r"[\s,]+", text) if u]


def summary(workdir: Path) -> list[dict[str, Any]]:
    """Per-story lines: reliability's logs/summary.json when present, else the files on disk."""
    data = None
    try:
        data = json.loads((workdir / "logs" / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        data = None
    if isinstance(data, dict) and isinstance(data.get("stories"), list):
        return [_from_summary(workdir, s) for s in data["stories"] if isinstance(s, dict)]
    from storyreel.ops import status as st

    lines = []
    for s in st.collect(workdir):
        item: dict[str, Any] = {"story": s.story, "state": s.state, "reached": s.reached}
        final = pipeline.path(pipeline.story_dir(workdir, s.story), pipeline.FINAL.name)
        if s.state == "finished" and final.exists():
            item["final"] = str(final.relative_to(workdir))
            item["mb"] = round(final.stat().st_size / 2**20, 1)
        if s.failure and s.state != "finished":
            item["failure"] = f"{s.failure['stage']}: {s.failure['message']}"
            item["log"] = s.failure["log"]
        lines.append(item)
    return lines


# storyreel.ops.summary's status -> the words of a notification
STATES = {"done": "finished", "degraded": "finished (degraded)", "failed": "failed",
          "incomplete": "incomplete"}


def _from_summary(workdir: Path, entry: dict[str, Any]) -> dict[str, Any]:
    """One story of logs/summary.json (storyreel.ops.summary) as a notification line's fields."""
    item: dict[str, Any] = {"story": entry.get("story"),
                            "state": STATES.get(entry.get("status", ""), "?"),
                            "reached": entry.get("stage")}
    final = entry.get("final")
    if final and (workdir / final).exists():
        item["final"] = final
        item["mb"] = round((workdir / final).stat().st_size / 2**20, 1)
    if entry.get("status") == "failed":
        item["failure"] = f"{entry.get('stage')}: {entry.get('error')}"
        item["log"] = entry.get("log")
    return item


def message(workdir: Path, ok: bool) -> tuple[str, str]:
    """(title, body) of the notification."""
    stories = summary(workdir)
    title = f"storyreel: run {'finished' if ok else 'FAILED'} in {workdir.name}"
    body = []
    for s in stories:
        line = f"{s.get('story')}: {s.get('state', '?')}"
        if s.get("reached"):
            line += f" (reached {s['reached']})"
        if s.get("final"):
            line += f" → {s['final']} ({s.get('mb', '?')} MB)"
        if s.get("failure"):
            line += f"; failed at {s['failure']}"
        if s.get("log"):
            line += f"; log {s['log']}"
        body.append(line)
    return title, "\n".join(body) or "(no stories)"


def send(title: str, body: str, ok: bool, urls: list[str]) -> list[str]:
    """Send to every URL; return one line per problem, none of which names a URL."""
    try:
        import apprise
    except ImportError:
        return ["notifications need apprise: pip install 'storyreel[notify]'"]
    quiet = logging.getLogger("apprise")
    level, propagate = quiet.level, quiet.propagate
    quiet.setLevel(logging.CRITICAL + 1)  # apprise's own messages may quote the URL
    quiet.propagate = False
    problems = []
    try:
        kind = apprise.NotifyType.SUCCESS if ok else apprise.NotifyType.FAILURE
        for i, url in enumerate(urls, 1):
            where = f"destination {i} of {len(urls)}"
            sender = apprise.Apprise()
            if not sender.add(url):
                problems.append(f"{where}: not a valid apprise URL")
                continue
            try:
                if not sender.notify(title=title, body=body, notify_type=kind):
                    problems.append(f"{where}: sending failed")
            except Exception as exc:  # noqa: BLE001 - never let a notification fail the run
                problems.append(f"{where}: {type(exc).__name__}")
    finally:
        quiet.setLevel(level)
        quiet.propagate = propagate
    return problems


def finished(workdir: Path, ok: bool) -> None:
    """Called by the Snakefile's onsuccess/onerror. Never raises."""
    urls = destinations()
    if not urls:
        return
    try:
        title, body = message(workdir, ok)
        problems = send(title, body, ok, urls)
    except Exception as exc:  # noqa: BLE001
        problems = [f"notification not sent ({type(exc).__name__})"]
    for line in problems:
        print(f"storyreel: notify: {line}", file=sys.stderr)
