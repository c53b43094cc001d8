"""The ETA: calibrated on the speed this run achieves, then the rest of the run played out.

:class:`Calibration` compares each finished job's wall time with what it was expected to take
(:mod:`storyreel.ops.costs`): per stage, shrunk toward the run-wide factor while a stage has few
jobs behind it, and the run-wide factor shrunk toward 1 while the run has done little. A machine
that other work slows down, or a first run whose guesses are off, shows up in these factors
within the first jobs.

:func:`play_out` then schedules the jobs that are left (and the shots still to be planned) on
the run's cores, each after the jobs it is made from (the stage table's ``made_from``), with the
calibrated durations and the scheduling gap between a job's inputs being ready and its start
that this run shows: a story's stages run one after the other, its shots side by side, so the
ETA is not simply work / cores.

The range (``low``, ``high``) widens with what is still unknown: the share of the remaining
work in stages no job of this run has measured yet, and the spread of the measured factors.
"""

from __future__ import annotations

import heapq
import math
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from storyreel.core import pipeline

PRIOR_JOBS = 2.0  # a stage's own factor weighs as much as this many run-wide jobs
PRIOR_SECONDS = 10.0  # the run-wide factor starts at 1, weighing this many expected seconds
GAP_DEFAULT_S = 0.5  # Snakemake's gap between a job's inputs and its start, before measured
OVERRUN = 0.5  # a job past its expected time: this share of its time so far is still to come
MEMORY_S = 60.0  # a finished job's weight in the calibration halves every this many seconds


@dataclass
class Job:
    """What the ETA needs of one job (the progress model's JobState, or a planned shot)."""

    rule: str
    story: str | None
    shot: str | None
    cost: float  # expected seconds (costs.py)
    state: str = "pending"  # pending | running | done | failed | retrying | skipped
    started: float | None = None
    ended: float | None = None
    threads: int = 1


@dataclass
class Calibration:
    """Wall seconds per expected second: per stage, and for the run as a whole."""

    stages: dict[str, float] = field(default_factory=dict)
    overall: float = 1.0
    spread: float = 0.5  # the relative spread of the measured factors (log scale)
    measured: set[str] = field(default_factory=set)
    gap_s: float = GAP_DEFAULT_S

    def factor(self, rule: str) -> float:
        return self.stages.get(rule, self.overall)

    @classmethod
    def of(cls, jobs: Iterable[Job], now: float | None = None) -> Calibration:
        """From the jobs this run has finished, the recent ones weighing more (other work on
        the machine comes and goes): a job that ended :data:`MEMORY_S` ago counts half."""
        finished = [j for j in jobs if j.state == "done" and j.started is not None
                    and j.ended is not None and j.cost > 0]
        if now is None:
            now = max((j.ended for j in finished), default=0.0)  # type: ignore[type-var]

        def weight(job: Job) -> float:
            return 0.5 ** (max(now - job.ended, 0.0) / MEMORY_S)  # type: ignore[operator]

        def took(job: Job) -> float:
            return max(job.ended - job.started, 0.01)  # type: ignore[operator]

        spent = sum(weight(j) * took(j) for j in finished)
        expected = sum(weight(j) * j.cost for j in finished)
        overall = (spent + PRIOR_SECONDS) / (expected + PRIOR_SECONDS)
        by_stage: dict[str, list[tuple[float, float]]] = {}
        for job in finished:
            by_stage.setdefault(job.rule, []).append((weight(job), math.log(took(job) / job.cost)))
        stages = {}
        for rule, samples in by_stage.items():
            total = sum(w for w, _ in samples)
            own = math.exp(sum(w * x for w, x in samples) / total)
            n = len(samples)
            stages[rule] = (n * own + PRIOR_JOBS * overall) / (n + PRIOR_JOBS)
        logs = [math.log(took(j) / j.cost / stages[j.rule]) for j in finished]
        spread = statistics.pstdev(logs) if len(logs) >= 3 else 0.5
        return cls(stages, overall, min(spread, 1.0), set(by_stage), _gap(finished))


def _gap(finished: list[Job]) -> float:
    """The median wait between a job's end and the start of the next job of its story
    (Snakemake's bookkeeping, the job's Python starting), when measured."""
    by_story: dict[str | None, list[Job]] = {}
    for job in finished:
        by_story.setdefault(job.story, []).append(job)
    waits = []
    for jobs in by_story.values():
        jobs.sort(key=lambda j: j.started or 0.0)
        for before, after in zip(jobs, jobs[1:], strict=False):
            wait = (after.started or 0.0) - (before.ended or 0.0)
            if 0 <= wait < 30:
                waits.append(wait)
    return statistics.median(waits) if len(waits) >= 3 else GAP_DEFAULT_S


def _left(job: Job, calibration: Calibration, now: float) -> float:
    duration = job.cost * calibration.factor(job.rule)
    if job.state != "running" or job.started is None:
        return duration + calibration.gap_s
    ran = now - job.started
    return max(duration - ran, OVERRUN * ran, 0.1)


_RULE_ORDER = {s.name: i for i, s in enumerate(pipeline.RULES)}
_KNOWN = set(_RULE_ORDER)


def play_out(jobs: list[Job], calibration: Calibration, cores: int, now: float,
             settings: Mapping[str, Any] | None = None) -> float:
    """Seconds until the last of ``jobs`` ends: the running ones carry on, the pending ones
    start in pipeline order as their inputs are made and cores are free (Snakemake's greedy
    scheduler, approximately)."""
    cores = max(1, cores)
    left = [j for j in jobs if j.state in ("pending", "running", "retrying")]
    if not left:
        return 0.0
    # the stage a job waits for, within its story: jobs of the same (story, rule) are grouped
    groups: dict[tuple[str | None, str], list[int]] = {}
    for i, job in enumerate(left):
        groups.setdefault((job.story, job.rule), []).append(i)
    waits_for: list[list[int]] = []
    for job in left:
        deps: list[int] = []
        source = pipeline.upstream_of(job.rule, settings or {}) if job.rule in _KNOWN else None
        while source is not None and (job.story, source) not in groups:
            source = pipeline.upstream_of(source, settings or {})
        if source is not None:
            deps = [i for i in groups[(job.story, source)]
                    if not (job.shot and left[i].shot and left[i].shot != job.shot)]
        waits_for.append(deps)
    blocking = [0] * len(left)
    unblocks: list[list[int]] = [[] for _ in left]
    for i, deps in enumerate(waits_for):
        blocking[i] = len(deps)
        for d in deps:
            unblocks[d].append(i)
    duration = [_left(j, calibration, now) for j in left]
    ready: list[tuple[int, str, int]] = []
    events: list[tuple[float, int]] = []
    free = cores
    clock = 0.0
    for i, job in enumerate(left):
        if job.state == "running":
            free -= min(job.threads, cores)
            heapq.heappush(events, (duration[i], i))
        elif blocking[i] == 0:
            heapq.heappush(ready, (_RULE_ORDER.get(job.rule, 99), job.story or "", i))
    free = max(free, 0)
    end = 0.0
    while ready or events:
        waiting: list[tuple[int, str, int]] = []
        while ready:
            item = heapq.heappop(ready)
            need = min(left[item[2]].threads, cores)
            if need <= free:
                free -= need
                heapq.heappush(events, (clock + duration[item[2]], item[2]))
            else:
                waiting.append(item)
        for item in waiting:
            heapq.heappush(ready, item)
        if not events:
            break
        clock, i = heapq.heappop(events)
        end = max(end, clock)
        free += min(left[i].threads, cores)
        for j in unblocks[i]:
            blocking[j] -= 1
            if blocking[j] == 0:
                heapq.heappush(ready, (_RULE_ORDER.get(left[j].rule, 99), left[j].story or "", j))
    return end


def uncertainty(jobs: list[Job], calibration: Calibration) -> float:
    """The relative half-width of the ETA's range: larger while much of what is left lies in
    stages this run has not measured, and with the spread of what it has."""
    left = [j for j in jobs if j.state in ("pending", "running", "retrying")]
    total = sum(j.cost for j in left)
    if total <= 0:
        return 0.0
    unknown = sum(j.cost for j in left if j.rule not in calibration.measured) / total
    return min(0.6, 0.1 + 0.4 * unknown + 0.3 * calibration.spread)


@dataclass(frozen=True)
class Estimate:
    seconds: float
    low: float
    high: float

    @property
    def sure(self) -> bool:
        """Whether the range is narrow enough to show one figure (within about ±25 %)."""
        return self.high <= 1.3 * max(self.seconds, 1.0) and self.low >= 0.75 * self.seconds


def estimate(jobs: list[Job], cores: int, now: float,
             settings: Mapping[str, Any] | None = None) -> tuple[Calibration, Estimate]:
    """This run's calibration, and the seconds left with their range."""
    calibration = Calibration.of(jobs, now)
    seconds = play_out(jobs, calibration, cores, now, settings)
    half = uncertainty(jobs, calibration)
    return calibration, Estimate(seconds, seconds * (1 - half), seconds * (1 + half))


def fmt_duration(seconds: float | None) -> str:
    if seconds is None:
        return "--"
    seconds = int(round(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    if seconds >= 60:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds}s"


def fmt_estimate(estimate: Estimate) -> str:
    """``1m20s``, or ``1m20s (1m05s–1m50s)`` while unsure."""
    if estimate.sure or estimate.seconds < 5:
        return fmt_duration(estimate.seconds)
    return (f"{fmt_duration(estimate.seconds)} ({fmt_duration(estimate.low)}–"
            f"{fmt_duration(estimate.high)})")
