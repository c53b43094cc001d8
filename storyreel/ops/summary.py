"""The end-of-run summary: the one account of a run, also ``logs/summary.json``.

The Snakefile's ``onsuccess``/``onerror`` handlers call :func:`finish` with Snakemake's
workflow. What it says is what everything else shows: the console (the storyreel logger plugin
prints it under its last progress line; Snakemake's default logger prints it as it is), the exit
status (``ok`` is false exactly when Snakemake ends with an error), the notification
(:mod:`storyreel.ops.notify` reads ``logs/summary.json``) and the web monitor's last state (the
plugin marks its jobs from it).

**Jobs** of this run come from Snakemake's DAG: ``done`` (finished; one whose earlier attempt
failed and that Snakemake retried is done, its attempts counted in ``retried``), ``failed``
(its last attempt failed) and ``not run`` (a failure stopped the run before it). Without the
workflow (a test, a tool) the runner's ``logs/.status/`` records of the run stand in.

**Stories** are ``done`` (film and manifest there), ``degraded`` (done, with fallbacks recorded in
the manifest's ``degradations``), ``failed`` at a stage (a job of this run failed there; the
earliest stage wins; its error's first line from ``logs/.status/`` and its log), or
``incomplete`` (``--until``, a target subset, a stop; the last stage whose outputs exist is
named).

When ``post`` failed, Snakemake has put the previous film back (``update()`` outputs); its time
stamps are set to the epoch so that the next run remakes it rather than trusting it.
"""

from __future__ import annotations

import csv
import json
import os
import time
from pathlib import Path
from typing import Any

from storyreel.core import pipeline, redact
from storyreel.ops.eta import fmt_duration

SUMMARY = Path("logs") / "summary.json"
STATUS = Path("logs") / ".status"
RECORD_ATTRIBUTE = "storyreel_summary"  # the log record attribute the logger plugin reads
KILLED = "the job was killed (crashed, out of memory or timed out)"


def job_record(workdir: Path, stage: str, story: str | None, shot: str | None
                   ) -> dict[str, Any]:
    """The runner's record of a job's last attempt (stage, status, attempt, error, log)."""
    rel = Path(stage) / (story or "") / shot if shot else Path(stage) / (story or "")
    try:
        return json.loads((workdir / STATUS / f"{rel}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _records(workdir: Path, since: float | None) -> list[dict[str, Any]]:
    records = []
    for path in sorted((workdir / STATUS).rglob("*.json")):
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if since is None or float(record.get("time", 0)) >= since - 1:
            records.append(record)
    return records


def _bench(path: Any) -> tuple[float, float]:
    """(seconds, peak RSS MB) from a job's benchmark file; zeros when there is none."""
    if not path:
        return 0.0, 0.0
    try:
        with open(str(path), encoding="utf-8") as fh:
            row = next(csv.DictReader(fh, delimiter="\t"))
        return float(row.get("s") or 0), float(row.get("max_rss") or 0)
    except (OSError, StopIteration, ValueError):
        return 0.0, 0.0


def run_jobs(workdir: Path, workflow: Any = None, since: float | None = None
             ) -> list[dict[str, Any]]:
    """Every job of this run: rule, story, shot, state (done, failed, not run), attempts,
    error, log, and the time and peak memory its benchmark file recorded."""
    jobs = []
    dag = getattr(workflow, "dag", None)
    if dag is not None:
        finished = set(dag._finished)
        failed = set(getattr(workflow.scheduler, "failed", None) or ())
        for job in finished | set(dag._needrun):
            if getattr(job, "is_group", lambda: False)() or job.rule.name == "all":
                continue
            wc = dict(job.wildcards_dict)
            state = "done" if job in finished else "failed" if job in failed else "not run"
            jobs.append({"rule": job.rule.name, "story": wc.get("story"),
                         "shot": wc.get("shot") or wc.get("character"),
                         "state": state, "attempts": int(job.attempt),
                         "log": [str(f) for f in job.log],
                         "benchmark": str(job.benchmark) if job.benchmark else None})
    else:
        for r in _records(workdir, since):
            state = {"done": "done", "failed": "failed", "running": "failed"}.get(r["status"])
            jobs.append({"rule": r.get("stage"), "story": r.get("story"), "shot": r.get("shot"),
                         "state": state, "attempts": int(r.get("attempt") or 1),
                         "log": [r["log"]] if r.get("log") else [], "benchmark": None})
    for job in jobs:
        record = job_record(workdir, job["rule"], job["story"], job["shot"])
        if job["state"] == "failed":
            error = record.get("error") if record.get("status") == "failed" else None
            if record.get("status") == "running":
                error = KILLED
            job["error"] = error or "Snakemake reported the job failed (see its log)"
        job["seconds"], job["peak_mb"] = _bench(workdir / job["benchmark"]) \
            if job["benchmark"] and job["state"] == "done" else (0.0, 0.0)
    jobs.sort(key=lambda j: (j["story"] or "", pipeline.order(j["rule"]), j["shot"] or ""))
    return jobs


def label(job: dict[str, Any]) -> str:
    where = "/".join(p for p in (job.get("story"), job.get("shot")) if p)
    return f"{job['rule']}[{where}]" if where else str(job["rule"])


def _story_ids(workdir: Path, stories: list[str] | None) -> list[str]:
    if stories is not None:
        return list(stories)
    results = workdir / pipeline.RESULTS
    return sorted(p.name for p in results.iterdir() if p.is_dir()) if results.exists() else []


def _manifest(story_dir: Path) -> dict[str, Any]:
    try:
        manifest = json.loads(pipeline.path(story_dir, "post", "manifest").read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return manifest if isinstance(manifest, dict) else {}


def _story(workdir: Path, story: str, jobs: list[dict[str, Any]]) -> dict[str, Any]:
    story_dir = pipeline.story_dir(workdir, story)
    film = pipeline.path(story_dir, pipeline.FINAL.name)
    mine = [j for j in jobs if j["story"] == story]
    # a failed report rule leaves a story done when its film and every job making it are; else
    # it is the story's failure (a corrupt keyframe stops the contact sheet first)
    reports = {s.name for s in pipeline.REPORTS}
    made = film.exists() and all(j["state"] == "done" for j in mine if j["rule"] not in reports)
    failed = [j for j in mine if j["state"] == "failed" and not (made and j["rule"] in reports)]
    entry: dict[str, Any] = {
        "story": story, "stage": None, "error": None, "log": None, "degradations": [],
        "flagged": [],
        "jobs": {k: sum(j["state"] == k for j in mine) for k in ("done", "failed", "not run")},
        "retried": [f"{label(j)} ({j['attempts']} attempts)" for j in mine
                    if j["state"] == "done" and j["attempts"] > 1],
        "job_s": round(sum(j["seconds"] for j in mine), 1),
        "peak_mb": round(max((j["peak_mb"] for j in mine), default=0.0), 1)}
    if failed:
        first = failed[0]
        entry.update(status="failed", stage=first["rule"], shot=first["shot"],
                     error=first["error"], log=(first["log"] or [None])[0])
    elif made and pipeline.path(story_dir, "post", "manifest").exists():
        manifest = _manifest(story_dir)
        entry["degradations"] = list(manifest.get("degradations") or [])
        entry["flagged"] = list((manifest.get("scores") or {}).get("flagged") or [])
        entry["status"] = "degraded" if entry["degradations"] else "done"
        entry["stage"] = pipeline.FINAL.name
        entry["final"] = film.relative_to(workdir).as_posix()
    else:
        reached = [s.name for s in pipeline.STAGES if (story_dir / s.mark).exists()]
        entry.update(status="incomplete", stage=reached[-1] if reached else None)
    return entry


def build_summary(workdir: str | Path, stories: list[str] | None = None,
                  since: float | None = None, snakemake_log: str | None = None,
                  failed_run: bool = False, workflow: Any = None) -> dict[str, Any]:
    """The summary document (see the module doc); ``since`` limits the runner's records to this
    run's jobs when there is no workflow to ask."""
    workdir = Path(workdir)
    jobs = run_jobs(workdir, workflow, since)
    lines = [_story(workdir, story, jobs) for story in _story_ids(workdir, stories)]
    counts = {k: sum(1 for e in lines if e["status"] == k)
              for k in ("done", "degraded", "failed", "incomplete")}
    job_counts = {k: sum(j["state"] == k for j in jobs) for k in ("done", "failed", "not run")}
    job_counts["retried"] = sum(j["state"] == "done" and j["attempts"] > 1 for j in jobs)
    ok = not failed_run
    return redact.redact_data({
        "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "elapsed_s": round(time.time() - since, 1) if since else None,
        "snakemake_log": snakemake_log, "ok": ok, "exit_code": 0 if ok else 1,
        "counts": counts, "jobs": job_counts,
        "job_states": [{"job": label(j), "state": j["state"], "attempts": j["attempts"],
                        **({"error": j["error"]} if j.get("error") else {}),
                        "log": j["log"]} for j in jobs if j["state"] != "done"
                       or j["attempts"] > 1],
        "stories": lines,
    })


def head(summary: dict[str, Any]) -> str:
    """The first line: the run's outcome and its jobs."""
    jobs = summary["jobs"]
    total = jobs["done"] + jobs["failed"] + jobs["not run"]
    word = "finished" if summary["ok"] else "failed"
    text = f"storyreel: {word}: {jobs['done']} of {total} jobs done"
    if jobs["failed"]:
        text += f", {jobs['failed']} failed"
    if jobs["not run"]:
        text += f", {jobs['not run']} not run"
    if jobs["retried"]:
        text += f" ({jobs['retried']} after a retry)"
    if summary.get("elapsed_s") is not None:
        text += f" in {fmt_duration(summary['elapsed_s'])}"
    return text


def format_summary(summary: dict[str, Any]) -> str:
    """The console lines."""
    counts = summary["counts"]
    out = [head(summary),
           f"  stories: {counts['done']} done, {counts['degraded']} degraded, "
           f"{counts['failed']} failed, {counts['incomplete']} incomplete"]
    for e in summary["stories"]:
        jobs = e["jobs"]
        ran = jobs["done"] + jobs["failed"] + jobs["not run"]
        work = (f"  [{jobs['done']}/{ran} jobs, {e['job_s']:.1f} s of job time, peak "
                f"{e['peak_mb']:.0f} MB]") if ran else ""
        if e["status"] == "failed":
            where = e["stage"] + (f"/{e['shot']}" if e.get("shot") else "")
            out.append(f"  {e['story']:20} FAILED at {where}: {e['error']}  (log: {e['log']})"
                       + work)
        elif e["status"] == "degraded":
            used = ", ".join(f"{d['stage']}{'/' + d['shot'] if d.get('shot') else ''}"
                             f"->{d['backend']}" for d in e["degradations"])
            out.append(f"  {e['story']:20} degraded: {e['final']} ({used})" + work)
        elif e["status"] == "done":
            out.append(f"  {e['story']:20} done: {e['final']}" + work)
        else:
            why = f"; {jobs['not run']} jobs not run" if jobs["not run"] else ""
            out.append(f"  {e['story']:20} incomplete (reached {e['stage'] or 'nothing'}{why})"
                       + work)
        if e["retried"]:
            out.append(f"    retried: {', '.join(e['retried'])}")
        if e.get("flagged"):  # below the quality gate's thresholds (docs/quality.md)
            out.append(f"    flagged: {'; '.join(e['flagged'])}")
    out.append(f"  summary: {SUMMARY.as_posix()}"
               + (f"; Snakemake log: {summary['snakemake_log']}" if summary["snakemake_log"]
                  else ""))
    return "\n".join(out)


def mark_failed_films_stale(workdir: Path, summary: dict[str, Any]) -> None:
    """After a failed post, the last good film is in place (Snakemake restores ``update()``
    outputs; a film ``storyreel verify`` moved to ``.last-good/`` is put back here), dated to
    the epoch so that it never looks newer than its inputs. A finished story's ``.last-good/``
    is removed, and so is its archive mark (``storyreel clean``): it was made again."""
    import shutil

    for e in summary["stories"]:
        story_dir = pipeline.story_dir(workdir, e["story"])
        kept = story_dir / pipeline.LAST_GOOD
        if e["status"] in ("done", "degraded"):
            shutil.rmtree(kept, ignore_errors=True)
            if e["jobs"]["done"]:
                (story_dir / pipeline.ARCHIVED).unlink(missing_ok=True)
        elif e["status"] == "failed" and e["stage"] == pipeline.FINAL.name:
            for name in (a.path for a in pipeline.FINAL.artifacts):
                path = story_dir / name
                if not path.exists() and (kept / name).exists():
                    os.replace(kept / name, path)
                if path.exists():  # 1 s, not 0: Snakemake skips its input check at time 0
                    os.utime(path, (1, 1))


def finish(stories: Any, since: float | None, snakemake_log: str | None = None,
           failed_run: bool = False, workdir: str | Path = ".",
           workflow: Any = None) -> dict[str, Any]:
    """Write ``logs/summary.json`` and show the summary (the Snakefile's onsuccess/onerror):
    through Snakemake's logger, as one record that the storyreel logger plugin prints under its
    last progress line and Snakemake's default logger prints as it is."""
    workdir = Path(workdir)
    if isinstance(snakemake_log, list | tuple):
        snakemake_log = str(snakemake_log[0]) if snakemake_log else None
    summary = build_summary(workdir, list(stories) if stories is not None else None, since,
                            snakemake_log, failed_run, workflow)
    mark_failed_films_stale(workdir, summary)
    path = workdir / SUMMARY
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.part")
    tmp.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    from snakemake.logging import logger

    logger.warning(format_summary(summary), extra={RECORD_ATTRIBUTE: summary})
    return summary
