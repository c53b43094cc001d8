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

from storyreel.ops import summary
from storyreel.ops.summary import SUMMARY

ENV = "STORYREEL_NOTIFY_URLS"


def destinations(environ: dict[str, str] | None = None) -> list[str]:
    text = (environ if environ is not None else os.environ).get(ENV, "")
    return [u for u in re.split(r"[\s,]+", text) if u]


def read_summary(workdir: Path) -> dict[str, Any] | None:
    """The run's summary (:mod:`storyreel.ops.summary`, ``logs/summary.json``)."""
    try:
        data = json.loads((workdir / SUMMARY).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("stories"), list) else None


# storyreel.ops.summary's status -> the words of a notification
STATES = {"done": "finished", "degraded": "finished (degraded)", "failed": "failed",
          "incomplete": "incomplete"}


def _line(workdir: Path, entry: dict[str, Any]) -> str:
    """One story of the summary as a notification line."""
    line = f"{entry.get('story')}: {STATES.get(entry.get('status', ''), '?')}"
    if entry.get("stage"):
        line += f" (reached {entry['stage']})"
    final = entry.get("final")
    if final and (workdir / final).exists():
        line += f" → {final} ({round((workdir / final).stat().st_size / 2**20, 1)} MB)"
    if entry.get("status") == "failed":
        line += f"; failed at {entry.get('stage')}: {entry.get('error')}; log {entry.get('log')}"
    if entry.get("retried"):
        line += f"; retried: {', '.join(entry['retried'])}"
    if entry.get("flagged"):
        line += f"; flagged: {'; '.join(entry['flagged'])}"
    return line


def message(workdir: Path) -> tuple[str, str, bool]:
    """(title, body, ok) of the notification: the run's summary, as the console showed it."""
    data = read_summary(workdir)
    if data is None:
        return (f"storyreel: run ended in {workdir.name}",
                f"no summary ({SUMMARY.as_posix()} is missing)", False)
    ok = bool(data.get("ok"))
    title = f"storyreel: run {'finished' if ok else 'FAILED'} in {workdir.name}"
    body = [summary.head(data)] + [_line(workdir, s) for s in data["stories"]
                                   if isinstance(s, dict)]
    return title, "\n".join(body), ok


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


def finished(workdir: Path) -> None:
    """Called by the Snakefile's onsuccess/onerror, after the summary. Never raises."""
    urls = destinations()
    if not urls:
        return
    try:
        title, body, ok = message(workdir)
        problems = send(title, body, ok, urls)
    except Exception as exc:  # noqa: BLE001
        problems = [f"notification not sent ({type(exc).__name__})"]
    for line in problems:
        print(f"storyreel: notify: {line}", file=sys.stderr)
