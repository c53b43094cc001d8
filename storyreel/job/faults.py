"""Fault injection for tests and the chaos benchmark (never set in production).

``STORYREEL_FAULTS`` holds comma-separated rules ``TARGET[@STORY]:KIND[:PROBABILITY[:SECONDS]]``:

- ``TARGET``: a stage (``voice``, ``keyframes``...) or a backend ``<stage>/<name>``
  (``voice/piper``: only when that backend is tried, so a fallback can take over);
- ``@STORY`` (optional): only jobs of that story;
- ``KIND``: ``transient`` (a retryable error), ``permanent`` (an error that is not retried),
  ``crash`` (the job's process kills itself with SIGKILL) or ``hang`` (the job sleeps
  ``SECONDS``, default 3600, until the stage's ``retry.timeout_s`` ends it);
- ``PROBABILITY``: 0–1, default 1. The draw is deterministic per job and attempt (seeded by
  ``STORYREEL_FAULTS_SEED``, default 0), so a chaos run can be repeated.

Example: ``STORYREEL_FAULTS="voice:transient:0.3,keyframes@k03:permanent,video:hang:0.1:60"``.
"""

from __future__ import annotations

import hashlib
import os
import signal
import time
from dataclasses import dataclass

from storyreel.core.errors import ConfigError, PermanentError, TransientError

ENV = "STORYREEL_FAULTS"
SEED_ENV = "STORYREEL_FAULTS_SEED"
KINDS = ("transient", "permanent", "crash", "hang")


@dataclass(frozen=True)
class Fault:
    target: str
    story: str | None
    kind: str
    probability: float = 1.0
    seconds: float = 3600.0


def parse(spec: str) -> list[Fault]:
    """The rules of a ``STORYREEL_FAULTS`` value; a malformed one is a :class:`ConfigError`."""
    faults = []
    for item in filter(None, (part.strip() for part in spec.split(","))):
        parts = item.split(":")
        if len(parts) < 2 or parts[1] not in KINDS:
            raise ConfigError(f"{ENV}: '{item}' is not TARGET[@STORY]:KIND[:P[:S]] with KIND "
                              f"one of {', '.join(KINDS)}")
        target, _, story = parts[0].partition("@")
        try:
            probability = float(parts[2]) if len(parts) > 2 and parts[2] else 1.0
            seconds = float(parts[3]) if len(parts) > 3 else 3600.0
        except ValueError:
            raise ConfigError(f"{ENV}: '{item}': probability and seconds must be numbers") \
                from None
        if not 0 <= probability <= 1:
            raise ConfigError(f"{ENV}: '{item}': probability must be between 0 and 1")
        faults.append(Fault(target, story or None, parts[1], probability, seconds))
    return faults


def active() -> list[Fault]:
    return parse(os.environ.get(ENV, ""))


def draw(key: str) -> float:
    """A deterministic number in [0, 1) for one job attempt (``TARGET|KIND|JOB|ATTEMPT``);
    the chaos benchmark picks seeds with it."""
    seed = os.environ.get(SEED_ENV, "0")
    digest = hashlib.sha256(f"{seed}|{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def inject(target: str, story: str | None, job_key: str, attempt: int) -> None:
    """Fail as the matching rules say (a no-op when ``STORYREEL_FAULTS`` is unset)."""
    for fault in active():
        if fault.target != target or (fault.story and fault.story != story):
            continue
        if draw(f"{fault.target}|{fault.kind}|{job_key}|{attempt}") >= fault.probability:
            continue
        message = f"injected {fault.kind} fault in {target} ({ENV})"
        if fault.kind == "transient":
            raise TransientError(message)
        if fault.kind == "permanent":
            raise PermanentError(message)
        if fault.kind == "crash":
            os.kill(os.getpid(), signal.SIGKILL)
        time.sleep(fault.seconds)  # hang: the stage's time-out (retry.timeout_s) ends it
        raise TransientError(f"{message}: slept {fault.seconds:g} s")
