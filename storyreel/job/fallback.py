"""Fallback chains and per-shot graceful degradation.

A stage's config block may list ``fallback`` backends (``stages.voice.fallback: [espeak]``).
:func:`with_fallback` calls ``call(backend_name)`` with the configured backend, then each
fallback in turn:

- an error a retry cannot cure (:func:`storyreel.core.errors.classify`: permanent, such as a
  missing extra or model or a backend that cannot load, or resource: out of memory) moves on
  to the next backend at once: that is the graceful degradation;
- a transient error moves on only on the job's last attempt (earlier attempts fail, so that
  Snakemake retries the preferred backend after the backoff);
- bad input or config (:class:`~storyreel.core.errors.ConfigError`,
  :class:`~storyreel.core.errors.ArtifactError`), a full disk and a file that cannot be written
  never fall back: another backend would not help.

Every degradation is recorded as ``{"stage", "shot", "backend", "reason"}`` in a side file
``results/{story}/.degradations/{stage}[-{shot}].json`` (hidden: not an artifact), which a
successful primary call removes and ``post`` gathers into ``manifest.json["degradations"]``.
Which job, story and shot, and which attempt, come from the job's
:class:`~storyreel.job.context.JobContext`.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

from storyreel.core import pipeline, redact
from storyreel.core.errors import StoryreelError, classify
from storyreel.job import faults
from storyreel.job.context import JobContext

log = logging.getLogger(__name__)

T = TypeVar("T")


@cache
def _default_backend(stage: str) -> str | None:
    from storyreel.core.config import load_config

    return load_config({})["stages"].get(stage, {}).get("backend")


def chain(options: dict[str, Any], stage: str | None = None) -> list[str]:
    """The backends to try: the configured one (the schema's default when the options name
    none), then its fallbacks (no repeats)."""
    backend = options.get("backend") or (_default_backend(stage) if stage else None)
    names = [str(backend)] if backend else []
    fallback = options.get("fallback") or []
    for name in [fallback] if isinstance(fallback, str) else fallback:
        if name and name not in names:
            names.append(str(name))
    return names


def side_file(job: JobContext) -> Path | None:
    """Where the job's degradation is recorded (None for a job of no story)."""
    if not job.story:
        return None
    name = f"{job.stage}{'-' + job.shot if job.shot else ''}.json"
    return job.results / job.story / pipeline.DEGRADATIONS / name


def with_fallback(job: JobContext, options: dict[str, Any], call: Callable[[str], T]) -> T:
    """``call(backend)`` for the configured backend, then for each fallback (see module doc)."""
    names = chain(options, job.stage) or [""]
    errors: list[str] = []
    for index, name in enumerate(names):
        try:
            if name:
                faults.inject(f"{job.stage}/{name}", job.story, job.key, job.attempt)
            result = call(name)
        except Exception as exc:  # noqa: BLE001
            failure = classify(exc)
            if not failure.other_backend_may_help:
                raise
            reason = redact.redact(failure.message)
            errors.append(f"{name}: {reason}")
            permanent = not failure.retry or "LoadError" in type(exc).__name__
            if index + 1 >= len(names) or not (permanent or job.last_attempt):
                if index and isinstance(exc, StoryreelError):
                    raise StoryreelError("; ".join(errors)) from exc
                raise
            log.warning("%s: backend %s failed (%s); falling back to %s", job.stage, name,
                        reason, names[index + 1])
            continue
        side = side_file(job)
        if side is not None:
            if index == 0:
                side.unlink(missing_ok=True)
            else:
                _write(side, job, name, "; ".join(errors))
        return result
    raise AssertionError("unreachable")  # pragma: no cover


def _write(side: Path, job: JobContext, backend: str, reason: str) -> None:
    record = {"stage": job.stage, "shot": job.shot, "backend": backend, "reason": reason}
    side.parent.mkdir(parents=True, exist_ok=True)
    tmp = side.with_name(f".{side.name}.part")
    tmp.write_text(json.dumps(record) + "\n", encoding="utf-8")
    os.replace(tmp, side)
    log.warning("%s degraded: used %s (%s)", job.where, backend, reason)


def record(job: JobContext, backend: str, reason: str) -> None:
    """Flag a degradation that needed no fallback backend (e.g. a shot rendered only with
    memory savers)."""
    side = side_file(job)
    if side is not None:
        _write(side, job, backend, reason)


def gather(story_dir: str | Path, shots: set[str] | None = None) -> list[dict[str, Any]]:
    """The story's recorded degradations, in stage order (those of shots it no longer has
    are left out; a portrait's ``shot`` is its character)."""
    records = []
    for path in sorted((Path(story_dir) / pipeline.DEGRADATIONS).glob("*.json")):
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if shots is not None and record.get("shot") and record["shot"] not in shots and \
                record.get("stage") in pipeline.PER_SHOT:
            continue
        records.append(record)
    return sorted(records, key=lambda r: (pipeline.order(r.get("stage")), r.get("shot") or ""))
