"""Glue between Snakemake ``script:`` adapters and the pure stage functions.

Each ``scripts/<stage>.py`` is two lines: it passes the ``snakemake`` object and the stage's
``main`` to :func:`run`, which builds the job's :class:`~storyreel.job.context.JobContext`,
calls ``main(snakemake, job)`` and, around the stage:

- logs to the rule's ``log:`` file and to a numbered copy per attempt
  (``logs/voice/tiny.attempt2.log``), every line redacted (:mod:`storyreel.core.redact`);
- keeps temporary work under the project (``.snakemake/storyreel-tmp/``, removed by
  ``storyreel resume``), never in the system's temporary directory;
- turns telemetry off (onnxruntime, Hugging Face);
- classifies every error with the project's one taxonomy (:func:`storyreel.core.errors.classify`:
  transient, permanent or resource) and shows its one line (cause and fix); on a retry, waits
  with the project's one backoff policy (:mod:`storyreel.core.retry`, config ``retry``), and
  fails at once when the previous attempt hit an error a retry cannot cure (permanent: bad input
  or config, a full disk, no permission, a missing model or extra; resource: out of memory) —
  Snakemake retries regardless, so the later attempt exits immediately and cheaply;
- checks every input file (:mod:`storyreel.job.integrity`): a corrupt one fails with one line
  naming it and the rule that makes it;
- injects faults when ``STORYREEL_FAULTS`` asks (:mod:`storyreel.job.faults`), and ends a job that
  runs past the stage's ``retry.timeout_s``;
- records the job's outcome in ``logs/.status/`` for the end-of-run summary
  (:mod:`storyreel.ops.summary`), and turns errors into one clear line instead of a traceback
  (the traceback goes to the log).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import random
import shutil
import signal
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from storyreel.core import redact, retry
from storyreel.core.errors import TransientError, classify
from storyreel.job import faults, integrity
from storyreel.job.context import JobContext
from storyreel.models import peaks

log = logging.getLogger("storyreel")

TMP_DIR = Path(".snakemake") / "storyreel-tmp"  # relative to the working directory
STATUS_DIR = Path("logs") / ".status"
TELEMETRY_OFF = {"HF_HUB_DISABLE_TELEMETRY": "1", "DO_NOT_TRACK": "1",
                 "ORT_DISABLE_TELEMETRY": "1", "DISABLE_TELEMETRY": "1",
                 "HF_HUB_OFFLINE": os.environ.get("HF_HUB_OFFLINE", "0")}
DEFAULT_RETRY = {"backoff_s": [2, 8, 30], "jitter": 0.5, "timeout_s": {}}


class _QuietOnnxruntime:
    """An import hook: onnxruntime writes a device id and a usage database under
    ``$XDG_CACHE_HOME`` (default ``~/.cache/Microsoft/DeveloperTools``) when it is imported,
    whatever ``disable_telemetry_events()`` says. While it is imported, ``XDG_CACHE_HOME``
    points at the job's project-local temporary folder (removed with the job), so nothing
    reaches the user's home; then telemetry events are disabled."""

    def __init__(self, scratch: Path) -> None:
        self.scratch = scratch

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name != "onnxruntime":
            return None
        import importlib.util

        sys.meta_path.remove(self)
        try:
            spec = importlib.util.find_spec(name)
        finally:
            sys.meta_path.insert(0, self)
        if spec is None or spec.loader is None:
            return spec
        loader, scratch = spec.loader, self.scratch

        class Loader:
            def create_module(self, spec: Any) -> Any:
                return loader.create_module(spec)

            def exec_module(self, module: Any) -> None:
                before = os.environ.get("XDG_CACHE_HOME")
                os.environ["XDG_CACHE_HOME"] = str(scratch)
                try:
                    loader.exec_module(module)
                finally:
                    if before is None:
                        os.environ.pop("XDG_CACHE_HOME", None)
                    else:
                        os.environ["XDG_CACHE_HOME"] = before
                if hasattr(module, "disable_telemetry_events"):
                    module.disable_telemetry_events()

        spec.loader = Loader()
        return spec


def telemetry_off(scratch: Path | None = None) -> None:
    """Switch off usage telemetry of the libraries backends use (storyreel runs offline)."""
    for name, value in TELEMETRY_OFF.items():
        os.environ.setdefault(name, value)
    ort = sys.modules.get("onnxruntime")
    if ort is not None and hasattr(ort, "disable_telemetry_events"):
        ort.disable_telemetry_events()
    elif scratch is not None and not any(isinstance(f, _QuietOnnxruntime)
                                         for f in sys.meta_path):
        sys.meta_path.insert(0, _QuietOnnxruntime(scratch))


def attempt_log(path: str | Path, attempt: int) -> Path:
    """``logs/voice/tiny.log`` -> ``logs/voice/tiny.attempt2.log``."""
    path = Path(path)
    return path.with_name(f"{path.stem}.attempt{attempt}{path.suffix}")


def setup_logging(path: str | None, attempt: int = 1) -> None:
    stderr = logging.StreamHandler(sys.stderr)
    # The storyreel logger plugin keeps the terminal for progress: the job's own INFO lines go
    # to its log file only (STORYREEL_STDERR_LEVEL=WARNING; INFO with -v, ERROR with -q).
    stderr.setLevel(os.environ.get("STORYREEL_STDERR_LEVEL", "INFO").upper())
    handlers: list[logging.Handler] = [stderr]
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(path, mode="w", encoding="utf-8"))
        if attempt == 1:  # a fresh run: drop numbered logs of an earlier run's attempts
            for old in Path(path).parent.glob(f"{Path(path).stem}.attempt*{Path(path).suffix}"):
                old.unlink(missing_ok=True)
        handlers.append(logging.FileHandler(attempt_log(path, attempt), mode="w",
                                            encoding="utf-8"))
    logging.basicConfig(level=logging.INFO, handlers=handlers, force=True,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # a log line that cannot be written (a full disk) must not print "--- Logging error ---"
    # with a traceback on the console: the job's own error says what happened
    logging.raiseExceptions = False
    redact.install()


def retry_settings(config: dict[str, Any]) -> dict[str, Any]:
    return {**DEFAULT_RETRY, **(config.get("retry") or {})}


def backoff_delay(attempt: int, backoff_s: list[float], jitter: float,
                  rng: random.Random | None = None) -> float:
    """Seconds to wait before ``attempt`` (2, 3, ...): the project's backoff policy
    (:class:`storyreel.core.retry.Backoff`) before retry ``attempt - 1``."""
    if not backoff_s:
        return 0.0
    return retry.Backoff(backoff_s, jitter, rng).seconds(attempt - 1)


def _marker(key: str) -> Path:
    return TMP_DIR / "permanent" / f"{key.replace('/', '__')}.txt"


def _write_status(job: JobContext, status: str, log_path: str | None, error: str | None = None,
                  kind: str | None = None) -> None:
    path = STATUS_DIR / f"{job.key}.json"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.part")
        tmp.write_text(json.dumps({
            "stage": job.stage, "story": job.story, "shot": job.shot, "status": status,
            "attempt": job.attempt, "attempts": job.attempts,
            "permanent": kind not in (None, "transient"), "kind": kind,
            "error": redact.redact(error) if error else None, "log": log_path,
            "time": time.time()}) + "\n", encoding="utf-8")
        os.replace(tmp, path)
    except OSError:  # the status is a convenience; never fail a job for it
        pass


class _Timeout(TransientError):
    pass


def _alarm(seconds: float) -> None:
    def expired(signum: int, frame: Any) -> None:
        raise _Timeout(f"timed out after {seconds:g} s (retry.timeout_s)")

    signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)


@contextlib.contextmanager
def _job_tmp(job: JobContext) -> Iterator[Path]:
    """A private temporary folder under the project for this job, also $TMPDIR for tools;
    removed afterwards with the folders above it when they are left empty (a finished run
    leaves nothing for ``storyreel resume`` to clean), and temporary files pointed back where
    they were (a stage run in-process, as the tests do, must not leave tempfile aimed at a
    removed folder)."""
    path = (TMP_DIR / "jobs" / job.key.replace("/", "__")).resolve()
    shutil.rmtree(path, ignore_errors=True)
    for _ in range(3):  # another job may remove the empty parent folders meanwhile
        try:
            path.mkdir(parents=True, exist_ok=True)
            break
        except FileNotFoundError:
            continue
    saved = tempfile.tempdir, os.environ.get("TMPDIR")
    tempfile.tempdir = str(path)
    os.environ["TMPDIR"] = str(path)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
        for folder in (path.parent, path.parent.parent):  # jobs/, then storyreel-tmp/
            with contextlib.suppress(OSError):  # not empty: another job's, or a marker
                folder.rmdir()
        tempfile.tempdir = saved[0]
        if saved[1] is None:
            os.environ.pop("TMPDIR", None)
        else:
            os.environ["TMPDIR"] = saved[1]


def _fail(job: JobContext, log_path: str | None, exc: BaseException) -> None:
    """Log the error (a bug's traceback to the log file only), record it, exit with its one
    classified line."""
    failure = classify(exc)
    first = redact.redact(failure.message)
    if not failure.retry:
        with contextlib.suppress(OSError):  # a full disk may refuse even this
            marker = _marker(job.key)
            marker.parent.mkdir(parents=True, exist_ok=True)
            marker.write_text(first + "\n", encoding="utf-8")
    how = {"transient": "transient" + ("" if job.last_attempt else ", will retry"),
           "permanent": "permanent, not retried",
           "resource": "resource: out of memory, not retried"}[failure.kind]
    log.error("FAILED (%s) attempt %d/%d: %s", how, job.attempt, job.attempts,
              redact.redact(str(exc).strip() or type(exc).__name__))
    if failure.unexpected:  # a bug, perhaps: keep its traceback in the log
        if log_path:
            with contextlib.suppress(OSError), open(log_path, "a", encoding="utf-8") as fh:
                fh.write(redact.redact(traceback.format_exc()))
    _write_status(job, "failed", log_path, first, failure.kind)
    sys.exit(f"storyreel {job.where}: {first}" + (f" (log: {log_path})" if log_path else ""))


def run(smk: Any, main: Callable[[Any, JobContext], None]) -> None:
    """Run one stage inside a Snakemake job: ``main(smk, job)``. Whatever fails, the job ends
    with one classified line on the console, never a traceback."""
    try:
        _run(smk, main)
    except Exception as exc:  # noqa: BLE001 (outside the stage: logs, status, temporary folder)
        where = " ".join([str(getattr(smk, "rule", "job")), *map(str, dict(
            smk.wildcards.items()).values())])
        sys.exit(f"storyreel {where}: {redact.redact(classify(exc).message)}")


def _run(smk: Any, main: Callable[[Any, JobContext], None]) -> None:
    config = dict(getattr(smk, "config", {}) or {})
    redact.register_env(redact.config_env_names(config))
    mon = peaks.Monitor()  # peak RSS and GPU memory, a model worker's included
    job = JobContext.of(smk, observe=mon.observe)
    log_path = smk.log[0] if len(smk.log) else None
    setup_logging(log_path, job.attempt)
    started = time.perf_counter()
    log.info("rule %s %s starting (attempt %d/%d)", smk.rule, dict(smk.wildcards.items()),
             job.attempt, job.attempts)
    marker = _marker(job.key)
    if job.attempt == 1:
        marker.unlink(missing_ok=True)
    elif marker.exists():  # the previous attempt's error cannot go away: fail at once
        first = marker.read_text(encoding="utf-8").strip()
        log.error("FAILED (permanent, not retried) attempt %d/%d: %s", job.attempt,
                  job.attempts, first)
        _write_status(job, "failed", log_path, first, "permanent")
        sys.exit(f"storyreel {job.where}: {first} (not retried: permanent error)")
    settings = retry_settings(config)
    delay = backoff_delay(job.attempt, list(settings["backoff_s"]), float(settings["jitter"]))
    if delay:
        log.info("retry: waiting %.2f s before attempt %d", delay, job.attempt)
        time.sleep(delay)
    _write_status(job, "running", log_path)  # left as is when the job is killed
    timeout = (settings.get("timeout_s") or {}).get(smk.rule)
    with _job_tmp(job) as tmp:
        telemetry_off(tmp / "cache")
        try:
            if timeout:
                _alarm(float(timeout))
            integrity.check_inputs([str(p) for p in smk.input], (config.get("output") or {}
                                                                  ).get("fps"))
            faults.inject(smk.rule, job.story, job.key, job.attempt)
            with mon:
                main(smk, job)
            if timeout:
                signal.setitimer(signal.ITIMER_REAL, 0)
        except Exception as exc:  # noqa: BLE001 (classified; a bug's traceback goes to the log)
            _fail(job, log_path, exc)
    _write_status(job, "done", log_path)
    if log_path:
        peaks.write_peaks(log_path, mon.record())
    log.info("rule %s done in %.2f s, %s", smk.rule, time.perf_counter() - started, mon.text())
