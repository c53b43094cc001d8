"""The end-of-run summary: one line per story, also ``logs/summary.json``.

The Snakefile's ``onsuccess``/``onerror`` handlers call :func:`finish`. Each story is

- ``done`` (its film and manifest exist), or ``degraded`` (done, with fallbacks recorded in
  the manifest's ``degradations``);
- ``failed`` at a stage: a job of this run failed there (the earliest stage wins), with the log
  path and the error's first line (from the runner's ``logs/.status/`` records);
- ``incomplete``: not failed, but not finished either (``--until``, a target subset, a stop);
  the last stage whose output exists is named.

When ``post`` failed, Snakemake has put the previous film back (``update()`` outputs); its time
stamps are set to the epoch so that the next run remakes it rather than trusting it.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from storyreel.core import pipeline, redact


def _statuses(workdir: Path, since: float | None) -> list[dict[str, Any]]:
    records = []
    for path in sorted((workdir / "logs" / ".status").rglob("*.json")):
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if since is None or float(record.get("time", 0)) >= since - 1:
            records.append(record)
    return records


def _story_ids(workdir: Path, stories: list[str] | None) -> list[str]:
    if stories is not None:
        return list(stories)
    results = workdir / pipeline.RESULTS
    return sorted(p.name for p in results.iterdir() if p.is_dir()) if results.exists() else []


def _degradations(story_dir: Path) -> list[dict[str, Any]]:
    try:
        manifest = json.loads(pipeline.path(story_dir, "post", "manifest").read_text("utf-8"))
    except (OSError, ValueError):
        return []
    return list(manifest.get("degradations") or [])


def build_summary(workdir: str | Path, stories: list[str] | None = None,
                  since: float | None = None, snakemake_log: str | None = None
                  ) -> dict[str, Any]:
    """The summary document (see the module doc); ``since`` limits it to this run's jobs."""
    workdir = Path(workdir)
    statuses = _statuses(workdir, since)
    lines = []
    for story in _story_ids(workdir, stories):
        story_dir = pipeline.story_dir(workdir, story)
        film = pipeline.path(story_dir, pipeline.FINAL.name)
        for record in statuses:  # a job still "running" after the run ended was killed
            if record.get("status") == "running":
                record.update(status="failed", error=record.get("error") or
                              "the job was killed (crashed, out of memory or timed out)")
        failed = sorted((r for r in statuses if r.get("story") == story
                         and r.get("status") == "failed" and not (film.exists() and r.get(
                             "stage") in {s.name for s in pipeline.REPORTS})),
                        key=lambda r: (pipeline.order(r.get("stage")), r.get("shot") or ""))
        entry: dict[str, Any] = {"story": story, "stage": None, "error": None, "log": None,
                                 "degradations": []}
        if failed:
            first = failed[0]
            entry.update(status="failed", stage=first["stage"], error=first.get("error"),
                         log=first.get("log"), shot=first.get("shot"))
        elif film.exists() and pipeline.path(story_dir, "post", "manifest").exists():
            entry["degradations"] = _degradations(story_dir)
            entry["status"] = "degraded" if entry["degradations"] else "done"
            entry["stage"] = pipeline.FINAL.name
            entry["final"] = film.relative_to(workdir).as_posix()
        else:
            reached = [s.name for s in pipeline.STAGES if (story_dir / s.mark).exists()]
            entry.update(status="incomplete", stage=reached[-1] if reached else None)
        lines.append(entry)
    counts = {k: sum(1 for e in lines if e["status"] == k)
              for k in ("done", "degraded", "failed", "incomplete")}
    return redact.redact_data({
        "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "snakemake_log": snakemake_log, "counts": counts, "stories": lines,
        "ok": counts["failed"] == 0,
    })


def format_summary(summary: dict[str, Any]) -> str:
    """The console lines."""
    counts = summary["counts"]
    out = [f"storyreel summary: {counts['done']} done, {counts['degraded']} degraded, "
           f"{counts['failed']} failed, {counts['incomplete']} incomplete"]
    for e in summary["stories"]:
        if e["status"] == "failed":
            where = e["stage"] + (f"/{e['shot']}" if e.get("shot") else "")
            out.append(f"  {e['story']:24} FAILED at {where}: {e['error']}  (log: {e['log']})")
        elif e["status"] == "degraded":
            used = ", ".join(f"{d['stage']}{'/' + d['shot'] if d.get('shot') else ''}"
                             f"->{d['backend']}" for d in e["degradations"])
            out.append(f"  {e['story']:24} degraded: {e['final']} ({used})")
        elif e["status"] == "done":
            out.append(f"  {e['story']:24} done: {e['final']}")
        else:
            out.append(f"  {e['story']:24} incomplete (reached {e['stage'] or 'nothing'})")
    out.append("  summary: logs/summary.json"
               + (f"; Snakemake log: {summary['snakemake_log']}" if summary["snakemake_log"]
                  else ""))
    return "\n".join(out)


def mark_failed_films_stale(workdir: Path, summary: dict[str, Any]) -> None:
    """After a failed post, the last good film is in place (Snakemake restores ``update()``
    outputs; a film ``storyreel verify`` moved to ``.last-good/`` is put back here), dated to
    the epoch so that it never looks newer than its inputs. A finished story's ``.last-good/``
    is removed."""
    import shutil

    for e in summary["stories"]:
        story_dir = pipeline.story_dir(workdir, e["story"])
        kept = story_dir / pipeline.LAST_GOOD
        if e["status"] in ("done", "degraded"):
            shutil.rmtree(kept, ignore_errors=True)
        elif e["status"] == "failed" and e["stage"] == pipeline.FINAL.name:
            for name in (a.path for a in pipeline.FINAL.artifacts):
                path = story_dir / name
                if not path.exists() and (kept / name).exists():
                    os.replace(kept / name, path)
                if path.exists():  # 1 s, not 0: Snakemake skips its input check at time 0
                    os.utime(path, (1, 1))


def finish(stories: Any, since: float | None, snakemake_log: str | None = None,
           failed_run: bool = False, workdir: str | Path = ".") -> dict[str, Any]:
    """Write ``logs/summary.json`` and print the summary (the Snakefile's onsuccess/onerror)."""
    workdir = Path(workdir)
    if isinstance(snakemake_log, list | tuple):
        snakemake_log = str(snakemake_log[0]) if snakemake_log else None
    summary = build_summary(workdir, list(stories) if stories is not None else None, since,
                            snakemake_log)
    summary["run_failed"] = bool(failed_run)
    mark_failed_films_stale(workdir, summary)
    path = workdir / "logs" / "summary.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(".summary.json.part")
    tmp.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    print(format_summary(summary), file=sys.stderr)
    return summary
