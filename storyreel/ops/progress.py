"""Progress that tells the truth: expected work per job, per story and overall, and an ETA.

The logger plugin (``snakemake_logger_plugin_storyreel``) feeds this model with Snakemake's
events; the model is plain Python so that it can be tested without Snakemake.

* **Work** is measured in expected seconds. Every job of the run weighs what its stage is
  expected to cost for its story: per-story stages scale with the narration length, per-shot
  stages (keyframes, video) with the shot's length. Costs come from earlier runs (the benchmark
  files under ``benchmarks/`` and the history kept in ``.snakemake/storyreel/costs.json``);
  on a first run, :data:`DEFAULT_RATES` (measured on the embedded CPU backends).
* **Shots before the shot list exists** are estimated from the story's ``duration_s``, so the
  fan-out after the ``shotlist`` checkpoint does not make the bar jump backwards; the fraction
  shown is in any case never lower than one shown before.
* **Only the jobs of this run count** (Snakemake's DAG of jobs that need to run), so
  ``--until shotlist`` ends at 100 %.
* **ETA**: calibrated on the speed this run achieves (each finished job's time against its
  expected time, per stage and run-wide), then the jobs that are left are played out on the
  run's cores in the order the stage table allows (:mod:`storyreel.ops.eta`). While much of
  what is left lies in stages this run has not measured yet, it is shown as a range.
* **Retries**: a job whose attempt failed and that Snakemake restarts is ``retrying``, then
  ``done`` with its attempts counted; at the end, jobs that never ran are ``skipped`` (not
  needed after all) or ``not run`` (a failure upstream stopped them).

``rules/common.smk`` calls :func:`introduce` with Snakemake's ``workflow`` object and the
validated stories, which hands them to the plugin (in the same process) through Snakemake's own
log channel, so that it can read the DAG of jobs.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from storyreel.core import pipeline
from storyreel.ops import eta as eta_model
from storyreel.ops.costs import (
    PER_SHOT,
    SHOT_S,
    Costs,
    frame_scale,
    harvest,
    load_history,
    narration_length,
    shot_lengths,
)
from storyreel.ops.jobstate import LEFT, STATES, JobKey, JobState

ETA_EVERY_S = 1.0  # the ETA's play-out is redone at most this often (and at each job event)
RUN_ATTRIBUTE = "storyreel_run"  # the log record attribute that carries the workflow


def introduce(workflow: Any, stories: dict[str, dict[str, Any]]) -> None:
    """Called from the Snakefile: hands the workflow (its DAG) and the stories to the logger
    plugin in one log record, which Snakemake's own console leaves out (a DAG debug event,
    shown only with ``--debug-dag``)."""
    from snakemake.logging import LogEvent, logger

    logger.info("storyreel: following the jobs of %d stories", len(stories),
                extra={"event": LogEvent.DEBUG_DAG,
                       RUN_ATTRIBUTE: {"workflow": workflow, "stories": stories}})


class Progress:
    """Expected work of the run's jobs, what is done, and the ETA."""

    def __init__(self, workdir: Path, stories: dict[str, dict[str, Any]] | None = None,
                 cores: int = 1, costs: Costs | None = None,
                 settings: dict[str, Any] | None = None,
                 clock: Any = time.monotonic) -> None:
        self.workdir = workdir
        self.stories = stories or {}
        self.cores = max(1, cores)
        self.clock = clock
        self.started = clock()
        self.settings = settings or {}  # the config's stages: which optional stages run
        if costs is None:
            samples = load_history(workdir)
            for key, values in harvest(workdir).items():
                samples[key] = samples.get(key, []) + values
            costs = Costs.from_samples(samples)
        self.costs = costs
        self.jobs: dict[JobKey, JobState] = {}
        self.by_id: dict[int, JobKey] = {}
        self.phantoms: dict[str, float] = {}  # story -> expected work of its unknown shots
        self._lengths: dict[str, float] = {}
        self._shot_lengths: dict[str, dict[str, float]] = {}
        self._shown = 0.0
        self._version = 0  # bumped by every event: cached figures are redone
        self._cached: tuple[int, float, eta_model.Calibration, eta_model.Estimate] | None = None

    # ---- sizes
    def length(self, story: str | None) -> float:
        if story is None:
            return 0.0
        if story not in self._lengths:
            target = self.stories.get(story, {}).get("duration_s")
            self._lengths[story] = narration_length(self.workdir, story, target)
        return self._lengths[story]

    def shot_length(self, story: str, shot: str) -> float:
        lengths = self._shot_lengths.get(story)
        if lengths is None or shot not in lengths:
            lengths = self._shot_lengths[story] = shot_lengths(self.workdir, story)
        if shot in lengths:
            return lengths[shot]
        return self.length(story) / self.costs.shots(self.length(story))

    def scale(self, story: str | None) -> float:
        """The story's frame size against 1280x720 (per-shot stages and post scale with it)."""
        return frame_scale(self.stories.get(story or "", {}).get("aspect"))

    def expected(self, key: JobKey) -> float:
        scale = self.scale(key.story)
        if key.rule in PER_SHOT and key.story and key.shot:
            return self.costs.job(key.rule, self.shot_length(key.story, key.shot), scale)
        if key.rule in pipeline.PER_CHARACTER:  # a portrait: one picture, like a shot's
            return self.costs.job(key.rule, SHOT_S, scale)
        return self.costs.job(key.rule, self.length(key.story), scale)

    # ---- the plan: the jobs of this run
    def plan(self, keys: list[JobKey], threads: dict[JobKey, int] | None = None) -> None:
        """Set the run's jobs: Snakemake's jobs that need to run (after a checkpoint, without
        the finished ones). Called at the start and whenever the DAG changes: new jobs join,
        and pending jobs the DAG no longer needs (a checkpoint's outputs made them current)
        leave, so that the bar can reach 100 %."""
        wanted = {k for k in keys if k.rule != "all"}
        for key in keys:
            if key.rule == "all" or key in self.jobs:
                continue
            if key.rule in pipeline.CHECKPOINTS and key.story:
                self._lengths.pop(key.story, None)  # voice.json may exist now
            self.jobs[key] = JobState(key, self.expected(key))
        for key, n in (threads or {}).items():
            if key in self.jobs:
                self.jobs[key].threads = max(1, n)
        if wanted:
            for key in [k for k, j in self.jobs.items() if j.state == "pending"
                        and k not in wanted]:
                del self.jobs[key]
        self._estimate_shots()
        self._version += 1

    def _estimate_shots(self) -> None:
        """Stories whose post will run but whose shot jobs are not known yet (the shot list or
        the vision checkpoint is still to run) get an estimate from their narration length."""
        by_story: dict[str, set[str]] = {}
        for key in self.jobs:
            if key.story:
                by_story.setdefault(key.story, set()).add(key.rule)
        self.phantoms = {}
        for story, rules in by_story.items():
            if "post" not in rules or rules & PER_SHOT:
                continue
            if not rules & set(pipeline.CHECKPOINTS):
                continue
            length = self.length(story)
            n = self.costs.shots(length)
            per_shot = sum(self.costs.job(r, length / n, self.scale(story)) for r in PER_SHOT)
            self.phantoms[story] = n * per_shot

    # ---- events
    def start(self, key: JobKey, jobid: int | None = None, log: list[str] | None = None) -> None:
        job = self.jobs.get(key)
        if job is None:
            job = self.jobs[key] = JobState(key, self.expected(key))
        job.state, job.started, job.ended, job.jobid = "running", self.clock(), None, jobid
        job.attempts += 1
        job.log = list(log or job.log)
        if jobid is not None:
            self.by_id[jobid] = key
        self._version += 1

    def finish(self, jobid: int, ok: bool = True) -> JobState | None:
        key = self.by_id.get(jobid)
        if key is None or key not in self.jobs:
            return None
        job = self.jobs[key]
        job.state = "done" if ok else "failed"
        job.ended = self.clock()
        if ok and key.rule == "voice" and key.story:
            self._remeasure(key.story)
        self._version += 1
        return job

    def retrying(self, jobid: int) -> JobState | None:
        """Snakemake restarts a job whose attempt failed: it is not a failure (yet)."""
        key = self.by_id.get(jobid)
        job = self.jobs.get(key) if key is not None else None
        if job is not None and job.state in ("failed", "running"):
            job.state = "retrying"
            self._version += 1
        return job

    def end(self, ok: bool) -> None:
        """The run is over: jobs that never ran were not needed after all (a run that
        succeeded: ``skipped``) or were stopped by a failure (``not run``)."""
        for job in self.jobs.values():
            if job.state in LEFT:
                job.state = "skipped" if ok else ("failed" if job.state == "retrying"
                                                  else "not run")
        if ok:
            self.phantoms = {}
            self._shown = 1.0
        self._version += 1

    def _remeasure(self, story: str) -> None:
        """The narration exists now: its real length replaces the target in what is left."""
        self._lengths.pop(story, None)
        self._shot_lengths.pop(story, None)
        for job in self.jobs.values():
            if job.key.story == story and job.state == "pending":
                job.cost = self.expected(job.key)
        self._estimate_shots()

    # ---- figures
    def _credit(self, job: JobState, weight: float, now: float) -> float:
        if job.state == "done":
            return weight
        if job.state == "running" and job.started is not None:
            return min(0.9 * weight, now - job.started)
        return 0.0

    def _weighed(self) -> list[tuple[str | None, float, float]]:
        """(story, done, total) per job and per story's estimated shots, in wall seconds: the
        expected costs times this run's calibration."""
        now = self.clock()
        calibration = self.calibration()
        rows = []
        for job in self.jobs.values():
            if job.state in ("failed", "not run", "skipped"):
                continue
            weight = job.cost * calibration.factor(job.key.rule)
            rows.append((job.key.story, self._credit(job, weight, now), weight))
        for name, work in self.phantoms.items():
            factor = sum(calibration.factor(r) for r in PER_SHOT) / len(PER_SHOT)
            rows.append((name, 0.0, work * factor))
        return rows

    def totals(self, story: str | None = None) -> tuple[float, float]:
        """(done, total) work in calibrated seconds, for one story or the whole run."""
        done = total = 0.0
        for name, d, t in self._weighed():
            if story is None or name == story:
                done, total = done + d, total + t
        return done, total

    def story_fractions(self) -> dict[str, float]:
        """Every story's fraction, in one pass over the jobs."""
        sums: dict[str, list[float]] = {}
        for name, d, t in self._weighed():
            if name is not None:
                acc = sums.setdefault(name, [0.0, 0.0])
                acc[0] += d
                acc[1] += t
        return {k: min(1.0, d / t) if t > 0 else 1.0 for k, (d, t) in sums.items()}

    def fraction(self, story: str | None = None) -> float:
        done, total = self.totals(story)
        value = done / total if total > 0 else 1.0
        return min(1.0, value)

    def completed(self) -> float:
        """The share of everything the run set out to do that is done, failed and stopped
        jobs counted (where a run that stopped ended)."""
        factor = self.calibration().factor
        done = sum(j.cost * factor(j.key.rule) for j in self.jobs.values() if j.state == "done")
        total = sum(j.cost * factor(j.key.rule) for j in self.jobs.values()
                    if j.state != "skipped") + sum(self.phantoms.values())
        return done / total if total > 0 else 1.0

    def shown_fraction(self) -> float:
        """The overall fraction as shown: never lower than one shown before."""
        self._shown = max(self._shown, self.fraction())
        return self._shown

    def _figures(self) -> tuple[eta_model.Calibration, eta_model.Estimate]:
        now = self.clock()
        cached = self._cached
        if cached is None or cached[0] != self._version or now - cached[1] >= ETA_EVERY_S:
            jobs: list[Any] = list(self.jobs.values())
            for story in self.phantoms:
                length = self.length(story)
                n = self.costs.shots(length)
                jobs += [eta_model.Job(rule, story, f"~{i}", self.costs.job(
                    rule, length / n, self.scale(story))) for i in range(n)
                    for rule in sorted(PER_SHOT, key=pipeline.order)]
            calibration, estimate = eta_model.estimate(jobs, self.cores, now, self.settings)
            cached = self._cached = (self._version, now, calibration, estimate)
        return cached[2], cached[3]

    def calibration(self) -> eta_model.Calibration:
        """This run's speed against the expected costs (see :mod:`storyreel.ops.eta`)."""
        return self._figures()[0]

    def estimate(self) -> eta_model.Estimate:
        """Seconds left, with a range."""
        return self._figures()[1]

    def eta(self) -> float | None:
        """Seconds left (the range's middle)."""
        return self.estimate().seconds

    def story_ids(self) -> list[str]:
        seen: dict[str, None] = {}
        for key in self.jobs:
            if key.story:
                seen.setdefault(key.story, None)
        return list(seen)

    def current(self, story: str) -> str:
        """What the story is doing: its running jobs' stage and shot, else its next stage."""
        running = [j.key for j in self.jobs.values()
                   if j.key.story == story and j.state == "running"]
        if running:
            stages = sorted({k.rule for k in running}, key=pipeline.order)
            shots = sorted(k.shot for k in running if k.shot)
            text = ",".join(stages)
            if shots:
                n = self._shots_total(story)
                text += " " + ",".join(shots) + (f"/{n}" if n else "")
            return text
        states = [j.state for j in self.jobs.values() if j.key.story == story]
        if any(s == "failed" for s in states):
            return "failed"
        if states and all(s == "done" for s in states) and story not in self.phantoms:
            return "done"
        return "waiting"

    def _shots_total(self, story: str) -> int:
        return len({k.shot for k in self.jobs if k.story == story and k.shot})

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(STATES, 0)
        for job in self.jobs.values():
            counts[job.state] += 1
        return counts

    def snapshot(self) -> dict[str, Any]:
        """Everything the web monitor and the summary show, JSON-ready."""
        now = self.clock()
        fractions = self.story_fractions()
        stories = {}
        for story in self.story_ids():
            stories[story] = {"fraction": round(fractions.get(story, 1.0), 4),
                              "current": self.current(story)}
        calibration = self.calibration()
        jobs = []
        for job in sorted(self.jobs.values(), key=lambda j: (j.key.story or "",
                                                             pipeline.order(j.key.rule),
                                                             j.key.shot or "")):
            seconds = started = None
            if job.started is not None:
                seconds = round((job.ended or now) - job.started, 2)
                started = round(job.started - self.started, 2)
            jobs.append({"rule": job.key.rule, "story": job.key.story, "shot": job.key.shot,
                         "state": job.state, "seconds": seconds, "started_s": started,
                         "expected_s": round(job.cost * calibration.factor(job.key.rule), 2),
                         "attempts": job.attempts, "error": job.error,
                         "peak_rss_mb": round(job.peak_rss_mb, 1), "log": job.log})
        estimate = self.estimate()
        return {"fraction": round(self.shown_fraction(), 4), "elapsed_s": round(
            now - self.started, 1), "eta_s": round(estimate.seconds, 1),
            "eta_low_s": round(estimate.low, 1), "eta_high_s": round(estimate.high, 1),
            "counts": self.counts(), "estimated_shots": {
                s: self.costs.shots(self.length(s)) for s in self.phantoms},
            "stories": stories, "jobs": jobs}
