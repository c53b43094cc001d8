"""storyreel's Snakemake logger plugin: progress that tells the truth, with an ETA.

    snakemake --logger storyreel ...        (profiles/default selects it)

On a terminal it draws a live block, redrawn in place: overall progress weighted by expected
work, per-story progress with the stage and shot each story is at, the ETA, and the running
jobs with their live memory. When the output is not a terminal it prints plain lines, one per
finished job. ``-q`` shows only the progress and the end-of-run summary; ``-v`` shows everything
Snakemake's default logger shows as well. Dry runs (``-n``) print exactly what the default
logger prints.

The live state is also written to ``.snakemake/storyreel/progress.json`` (read by
``storyreel monitor``), and each change of the overall fraction is appended, with the ETA, to
``.snakemake/storyreel/trace.jsonl`` (read by the benchmark to measure the ETA's error).
"""


import logging
import os
import re
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from snakemake_interface_logger_plugins.base import LogHandlerBase
from snakemake_interface_logger_plugins.common import LogEvent
from snakemake_interface_logger_plugins.settings import LogHandlerSettingsBase

from storyreel.ops import progress as pg
from storyreel.ops import summary as run_summary

from .display import Display
from .ending import Ending
from .processes import STATE_DIR, Sampling, benchmark_rss

# Snakemake's own chatter, shown only with -v.
NOISE = re.compile(r"^(Building DAG|Using shell|Provided |Rules claiming|Singularity|Conda env|"
                   r"Assuming unrestricted|host:|Select jobs|Execute \d+ jobs|Job stats|"
                   r"Complete log|Workflow has started|Updating checkpoint|None$)")
RESTART = re.compile(r"^Trying to restart job (\d+)\.")
# Snakemake's own account of a failed job's exception, already told in one line per job
JOB_EXCEPTION = re.compile(r"^(RuleException|CalledProcessError|Exiting because a job "
                           r"execution failed)")


@dataclass
class LogHandlerSettings(LogHandlerSettingsBase):
    refresh: float = field(
        default=0.5,
        metadata={"help": "Seconds between redraws of the live block on a terminal."},
    )
    plain_every: float = field(
        default=60.0,
        metadata={"help": "Seconds between progress lines when no job finishes (plain text)."},
    )
    sample_every: float = field(
        default=1.0,
        metadata={"help": "Seconds between samples of the jobs' memory."},
    )
    state_every: float = field(
        default=2.0,
        metadata={"help": "Seconds between writes of .snakemake/storyreel/progress.json "
                          "(also written at every job start and end)."},
    )


def _quietness(settings: Any) -> set[str]:
    return {str(q).lower().split(".")[-1] for q in getattr(settings, "quiet", None) or ()}


class LogHandler(Ending, Display, Sampling, LogHandlerBase):
    """A stream handler: replaces Snakemake's default terminal output."""

    def __post_init__(self) -> None:
        from snakemake.logging import DefaultFilter, DefaultFormatter

        cs = self.common_settings
        self.stream = sys.stdout if getattr(cs, "stdout", False) else sys.stderr
        self.dryrun = bool(getattr(cs, "dryrun", False))
        self.verbose = bool(getattr(cs, "verbose", False))
        quietness = _quietness(cs)
        self.quiet = bool(quietness & {"progress", "rules", "all"})
        # `-q` (quiet about progress): Snakemake sends no job-finished events; the DAG tells.
        self.finish_events = "progress" not in quietness
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)()) and \
            os.environ.get("TERM") != "dumb"
        self.refresh = getattr(self.settings, "refresh", 0.5) or 0.5
        self.plain_every = getattr(self.settings, "plain_every", 60.0) or 60.0
        self.sample_every = getattr(self.settings, "sample_every", 1.0) or 1.0
        self.state_every = getattr(self.settings, "state_every", 2.0) or 2.0
        self.last_sample = 0.0
        self.cpu_s = 0.0  # the plugin's own CPU time (the benchmark reads it)
        self.formatter_ = DefaultFormatter(getattr(cs, "quiet", None),
                                           getattr(cs, "show_failed_logs", False))
        self.filter_ = DefaultFilter(getattr(cs, "quiet", None), getattr(cs, "debug_dag", False),
                                     self.verbose, self.dryrun,
                                     getattr(cs, "printshellcmds", False))
        self.lock = threading.RLock()
        self.model: pg.Progress | None = None
        self.workflow: Any = None  # introduced by the Snakefile (storyreel.ops.progress)
        self.stories: dict[str, dict[str, Any]] = {}
        self.cores = 1
        self.drawn = 0
        self.last_total = -1
        self.last_plain = 0.0
        self.last_state = 0.0
        self.trace_fraction = -1.0
        self.failures: dict[str, dict[str, Any]] = {}  # job label -> its failure, once
        self.summary: dict[str, Any] | None = None  # storyreel.ops.summary's, at the end
        self.summary_text = ""
        self.stop_event = threading.Event()
        self.thread: threading.Thread | None = None
        self.rss_mb = 0.0
        self.peak_rss_mb = 0.0
        self.gpu_mb: float | None = None
        self.peak_gpu_mb: float | None = None
        self.last_gpu = 0.0
        self.workdir: Path | None = None
        self.closed = False
        # Jobs' own INFO lines go to their log files; on the terminal only what matters.
        level = "INFO" if self.verbose else ("ERROR" if self.quiet else "WARNING")
        os.environ.setdefault("STORYREEL_STDERR_LEVEL", level)

    # ------------------------------------------------------------------ plugin interface
    @property
    def writes_to_stream(self) -> bool:
        return True

    @property
    def writes_to_file(self) -> bool:
        return False

    @property
    def has_filter(self) -> bool:
        return True

    @property
    def has_formatter(self) -> bool:
        return True

    @property
    def needs_rulegraph(self) -> bool:
        return False

    # ------------------------------------------------------------------------ output
    def _write(self, text: str) -> None:
        with self.lock:
            self._erase()
            self.stream.write(text if text.endswith("\n") else text + "\n")
            self.stream.flush()
            self._draw()

    def _passthrough(self, record: logging.LogRecord) -> None:
        if not self.filter_.filter(record):
            return
        text = self.formatter_.format(record)
        if text and text != "None":
            self._write(text)

    def emit(self, record: logging.LogRecord) -> None:
        started = time.thread_time()
        try:
            self._emit(record)
        except Exception:  # a progress display must never break a run
            self.handleError(record)
        self.cpu_s += time.thread_time() - started

    def _emit(self, record: logging.LogRecord) -> None:
        run = getattr(record, pg.RUN_ATTRIBUTE, None)
        if run is not None:  # the Snakefile introduces the workflow and the stories
            self.workflow, self.stories = run["workflow"], run["stories"]
            return
        summary = getattr(record, run_summary.RECORD_ATTRIBUTE, None)
        if summary is not None:  # the end-of-run summary: shown under the last progress line
            self.summary, self.summary_text = summary, record.getMessage()
            return
        event = getattr(record, "event", None)
        if self.dryrun:
            self._passthrough(record)
            return
        restart = RESTART.match(record.getMessage()) if event is None else None
        if restart and self.model is not None:
            self._job_retrying(int(restart.group(1)))
            if not self.verbose:
                return
        if event == LogEvent.RESOURCES_INFO and getattr(record, "cores", None):
            self.cores = int(record.cores)
        if event == LogEvent.RUN_INFO and getattr(record, "stats", None) is not None:
            self._begin()
        elif event == LogEvent.JOB_INFO:
            self._job_started(record)
        elif event == LogEvent.JOB_FINISHED:
            self._job_finished(record)
        elif event == LogEvent.JOB_ERROR:
            job = self._job_failed(record)
            if self.verbose or job is None:
                self._show_error(record)
            return
        elif event == LogEvent.PROGRESS:
            total = getattr(record, "total", None)
            if total != self.last_total:  # the DAG grew (a checkpoint ran)
                self.last_total = total
                self._replan()
                self._tick(force=True)
        if self.verbose:
            self._passthrough(record)
        elif self.model is None and event is None and record.levelno == logging.INFO:
            message = record.getMessage()
            if message and not NOISE.match(message):
                self._write(message)
        elif event in (LogEvent.ERROR, LogEvent.GROUP_ERROR) or record.levelno >= logging.WARNING:
            if not (self.model is not None and JOB_EXCEPTION.match(record.getMessage())):
                self._show_error(record)

    def _show_error(self, record: logging.LogRecord) -> None:
        text = self.formatter_.format(record)
        if text and text != "None":
            self._write(text)

    # ------------------------------------------------------------------------ the model
    def _begin(self) -> None:
        if self.model is not None:  # one model per run
            self._replan()
            return
        workflow = self.workflow
        self.workdir = Path.cwd()
        settings: dict[str, Any] = {}
        if workflow is not None:
            try:
                settings = dict(workflow.config["stages"])
                self.cores = int(workflow.resource_settings.cores or self.cores)
            except (KeyError, TypeError, AttributeError, ValueError):
                pass
        with self.lock:
            self.model = pg.Progress(self.workdir, self.stories, cores=self.cores,
                                     settings=settings)
            self._replan()
        (self.workdir / STATE_DIR).mkdir(parents=True, exist_ok=True)
        (self.workdir / STATE_DIR / "trace.jsonl").write_text("", encoding="utf-8")
        self.thread = threading.Thread(target=self._loop, name="storyreel-progress", daemon=True)
        self.thread.start()

    def _dag_keys(self) -> tuple[list[pg.JobKey], dict[pg.JobKey, int]]:
        dag = getattr(self.workflow, "dag", None) if self.workflow is not None else None
        if dag is None:
            return [], {}
        for _ in range(3):
            try:
                jobs = list(dag._needrun)  # copying a set does not run Python code: atomic
                break
            except RuntimeError:
                time.sleep(0.01)
        else:
            return [], {}
        keys, threads = [], {}
        for job in jobs:
            try:
                wc = dict(job.wildcards_dict)
                key = pg.JobKey(job.rule.name, wc.get("story"),
                                wc.get("shot") or wc.get("character"))
                keys.append(key)
                threads[key] = int(job.threads)
            except (AttributeError, TypeError, ValueError):
                continue
        return keys, threads

    def _replan(self) -> None:
        if self.model is None:
            return
        keys, threads = self._dag_keys()
        with self.lock:
            self.model.plan(keys, threads)

    @staticmethod
    def _key(record: logging.LogRecord) -> pg.JobKey:
        wc = getattr(record, "wildcards", None) or {}
        wc = dict(wc)
        return pg.JobKey(getattr(record, "rule_name", "?"), wc.get("story"),
                         wc.get("shot") or wc.get("character"))

    def _job_started(self, record: logging.LogRecord) -> None:
        if self.model is None:
            return
        self._reconcile()
        key = self._key(record)
        if key.rule == "all":
            return
        with self.lock:
            self.model.start(key, getattr(record, "jobid", None),
                             list(getattr(record, "log", None) or []))
            bench = getattr(record, "benchmark", None)
            self.model.jobs[key].benchmark = str(bench) if bench else None
        self._tick(force=True)

    def _job_finished(self, record: logging.LogRecord) -> None:
        self._finished(getattr(record, "job_id", -1))

    def _reconcile(self) -> None:
        """Mark done the running jobs that the DAG has finished (no events under ``-q``)."""
        dag = getattr(self.workflow, "dag", None)
        if self.finish_events or self.model is None or dag is None:
            return
        try:
            finished = {job.jobid for job in list(dag._finished)}
        except (RuntimeError, AttributeError):
            return
        with self.lock:  # (an RLock) the drawing thread reconciles too: each job once
            for jobid in [j.jobid for j in self.model.jobs.values()
                          if j.state == "running" and j.jobid in finished]:
                self._finished(jobid)

    def _finished(self, jobid: int) -> None:
        if self.model is None:
            return
        with self.lock:
            job = self.model.finish(jobid, ok=True)
            if job is not None:
                bench_rss = benchmark_rss(job.benchmark)
                job.peak_rss_mb = max(job.peak_rss_mb, bench_rss)
        if job is not None and not self.tty and not self.quiet:
            seconds = (job.ended or 0) - (job.started or 0)
            self._write(f"{self._status_line()} · done {job.key.label} in {seconds:.1f} s"
                        + (f", {job.peak_rss_mb:.0f} MB" if job.peak_rss_mb else ""))
            self.last_plain = time.monotonic()
        elif not self.tty and self.quiet:
            self._plain_progress(force=False)
        self._tick(force=True)

    def _job_failed(self, record: logging.LogRecord) -> pg.JobState | None:
        """A job's attempt failed: one line (its error from the runner's status record and its
        log), once per attempt; whether Snakemake retries it is known right after."""
        if self.model is None:
            return None
        with self.lock:
            job = self.model.finish(getattr(record, "jobid", -1), ok=False)
            if job is not None:
                job.log = list(getattr(record, "log", None) or job.log)
                job.error = self._error_of(job)
                self.failures[job.key.label] = {"job": job.key.label, "story": job.key.story,
                                                "log": job.log, "error": job.error}
                self._write(f"storyreel: {job.key.label} failed (attempt {job.attempts}): "
                            f"{job.error}" + (f"  (log: {', '.join(job.log)})" if job.log
                                              else ""))
        self._tick(force=True)
        return job

    # ------------------------------------------------------------------- live display
    def _loop(self) -> None:
        # On a terminal: redraw every `refresh` s. Plain text: wake once a second at most.
        period = self.refresh if self.tty else max(self.refresh, 1.0)
        while not self.stop_event.wait(period):
            started = time.thread_time()
            try:
                now = time.monotonic()
                if now - self.last_sample >= self.sample_every:
                    self.last_sample = now
                    self._sample()
                self._reconcile()
                self._tick()
            except Exception:  # noqa: S110 - keep drawing
                pass
            self.cpu_s += time.thread_time() - started

    def _tick(self, force: bool = False) -> None:
        if self.model is None:
            return
        now = time.monotonic()
        with self.lock:
            fraction = round(self.model.shown_fraction(), 4)
            if force or now - self.last_state >= self.state_every:
                self.last_state = now
                self._save_state(self.model.snapshot(), running=True)
            if fraction != self.trace_fraction:
                self.trace_fraction = fraction
                estimate = self.model.estimate()
                self._trace({"elapsed_s": round(now - self.model.started, 1),
                             "fraction": fraction, "eta_s": estimate.seconds,
                             "eta_low_s": estimate.low, "eta_high_s": estimate.high})
            if self.tty:
                self._erase()
                self._draw()
            else:
                self._plain_progress(force=False)

    # ------------------------------------------------------------------------- the end
