"""Each story's state from the artifacts on disk, without running anything (``storyreel status``).

For every story (those in ``results/`` and those listed in the stories file the run uses: the
same ``--config``/``--configfile`` as ``storyreel run``) it reports the last stage whose outputs
are all there, which stages are stale (an output older than what it is made from), outputs
Snakemake recorded as being written (by the run working now when one holds the directory's lock
and its process is alive, else left incomplete by a killed run), and the last failure with the
path of its log.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from storyreel.core import pipeline
from storyreel.ops import runconfig
from storyreel.recovery.resume import other_snakemake_running

KEEP = {a.path for s in (pipeline.FINAL, *pipeline.REPORTS) for a in s.artifacts}
FAILURE = re.compile(r"\b(ERROR|CRITICAL)\b|Traceback \(most recent call last\)")


@dataclass
class StoryStatus:
    story: str
    state: str = "not started"  # not started | in progress | finished | failed | archived
    reached: str | None = None
    stages: dict[str, str] = field(default_factory=dict)
    stale: list[str] = field(default_factory=list)
    incomplete: list[str] = field(default_factory=list)
    failure: dict[str, Any] | None = None
    shots: int = 0

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Run:
    """Whether a Snakemake run holds the working directory now."""

    live: bool  # a Snakemake process works in the directory
    locked: bool  # Snakemake's lock is there (a killed run leaves it)

    @classmethod
    def of(cls, workdir: Path) -> Run:
        locks = workdir / ".snakemake" / "locks"
        locked = locks.is_dir() and any(locks.iterdir())
        return cls(locked and other_snakemake_running(workdir), locked)

    def line(self) -> str | None:
        if self.live:
            return "a run is working here now: outputs being written are its own"
        if self.locked:
            return "a killed run left its lock here: `storyreel resume` removes it and goes on"
        return None


def story_ids(workdir: Path, configfiles: tuple[str, ...] = (),
              config: tuple[str, ...] = ()) -> list[str]:
    """Stories in the run's stories file (in file order) and in ``results/``."""
    ids: dict[str, None] = dict.fromkeys(runconfig.story_ids(workdir, configfiles, config))
    results = workdir / pipeline.RESULTS
    if results.is_dir():
        for path in sorted(results.iterdir()):
            if path.is_dir() and not path.name.startswith("."):
                ids.setdefault(path.name, None)
    return list(ids)


def incomplete_outputs(workdir: Path) -> list[str]:
    """Outputs Snakemake marked as being written when its run stopped (kill -9, power loss)."""
    root = workdir / ".snakemake" / "incomplete"
    found = []
    if not root.is_dir():
        return found
    for record in root.rglob("*"):
        if not record.is_file() or record.name == "migration_underway":
            continue
        parts = record.relative_to(root).parts
        encoded = "".join(p.lstrip("@") for p in parts)
        try:
            found.append(base64.urlsafe_b64decode(encoded.encode()).decode())
        except (ValueError, UnicodeDecodeError):
            continue
    return sorted(found)


def _shots(folder: Path) -> list[str]:
    shotlist = pipeline.path(folder, "shotlist")
    if not shotlist.exists():
        return []
    try:
        return [s["id"] for s in json.loads(shotlist.read_text(encoding="utf-8")).get("shots", [])]
    except (OSError, ValueError, KeyError, TypeError):
        return pipeline.shot_ids_in(pipeline.path(folder, "shotlist", "shots"))


def last_failure(workdir: Path, story: str, after: dict[str, float]) -> dict[str, Any] | None:
    """The newest job log of the story that reports an error and is newer than that stage's
    outputs (an error fixed by a later successful run does not count)."""
    best: tuple[float, dict[str, Any]] | None = None
    for stage in pipeline.NAMES:
        logs = [workdir / "logs" / stage / f"{story}.log",
                *sorted((workdir / "logs" / stage / story).glob("*.log"))]
        for log in logs:
            try:
                stat = log.stat()
            except OSError:
                continue
            if stat.st_mtime <= after.get(stage, 0.0):
                continue
            try:
                text = log.read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
            lines = [ln for ln in text.splitlines() if FAILURE.search(ln)]
            if not lines:
                continue
            message = next((ln for ln in reversed(text.splitlines())
                            if ln.strip() and not ln.startswith(" ")), lines[-1])
            info = {"stage": stage, "log": str(log.relative_to(workdir)),
                    "message": message.strip()[:200]}
            if best is None or stat.st_mtime > best[0]:
                best = (stat.st_mtime, info)
    return best[1] if best else None


def stage_settings(workdir: Path, configfiles: tuple[str, ...] = (),
                   config: tuple[str, ...] = ()) -> dict[str, Any]:
    """The run's stage settings (the config as ``run`` would merge it, defaults filled in);
    the defaults when it is invalid."""
    from storyreel.core.config import load_config

    try:
        return runconfig.load(workdir, configfiles, config)["stages"]
    except Exception:  # noqa: BLE001 (status reads what it can)
        return load_config({})["stages"]


def _older(path: Path, than: Path) -> bool:
    try:
        return path.stat().st_mtime + 1e-3 < than.stat().st_mtime
    except OSError:
        return False


def story_status(workdir: Path, story: str, incomplete: list[str] | None = None,
                 settings: dict[str, Any] | None = None, live: bool = False) -> StoryStatus:
    folder = pipeline.story_dir(workdir, story)
    settings = settings if settings is not None else stage_settings(workdir)
    status = StoryStatus(story)
    shots = _shots(folder)
    status.shots = len(shots)
    newest: dict[str, float] = {}
    oldest: dict[str, float] = {}
    for stage in pipeline.STAGES:
        files = [f for f, _, _ in pipeline.files(folder, (stage,), shots)]
        mtimes = [f.stat().st_mtime for f in files if f.exists()]
        if files and len(mtimes) == len(files):
            status.stages[stage.name] = "done"
            status.reached = stage.name
            newest[stage.name], oldest[stage.name] = max(mtimes), min(mtimes)
        elif mtimes:
            status.stages[stage.name] = f"partial {len(mtimes)}/{len(files)}"
            newest[stage.name] = max(mtimes)
        else:
            status.stages[stage.name] = "missing"
    for stage in pipeline.STAGES:  # an optional stage that does not run, and has not run
        if not pipeline.runs(stage, settings) and status.stages[stage.name] == "missing":
            status.stages[stage.name] = "off"
    runs = {s.name: {"enabled": status.stages[s.name] != "off"} for s in pipeline.STAGES}
    for stage in pipeline.STAGES:
        source = pipeline.upstream_of(stage.name, runs)
        if stage.per_shot and source and pipeline.stage(source).per_shot:
            # each shot's file against the same shot's file of the stage it is made from
            if any(_older(pipeline.path(folder, stage.name, shot=s),
                          pipeline.path(folder, source, shot=s)) for s in shots):
                status.stale.append(stage.name)
        elif stage.name in oldest and source in newest \
                and oldest[stage.name] + 1e-3 < newest[source]:
            status.stale.append(stage.name)
    prefix = f"{pipeline.RESULTS}/{story}/"
    status.incomplete = [p for p in (incomplete or []) if p.startswith(prefix)]
    status.failure = last_failure(workdir, story, newest)
    if (folder / pipeline.ARCHIVED).exists():
        status.state = "archived"
    elif live and status.incomplete:
        status.state = "running"
    elif status.stages.get(pipeline.FINAL.name) == "done" and not status.stale \
            and not status.incomplete:
        status.state = "finished"
    elif status.failure:
        status.state = "failed"
    elif status.reached or any(v.startswith("partial") for v in status.stages.values()):
        status.state = "in progress"
    return status


def collect(workdir: Path, stories: list[str] | None = None, configfiles: tuple[str, ...] = (),
            config: tuple[str, ...] = (), run: Run | None = None) -> list[StoryStatus]:
    incomplete = incomplete_outputs(workdir)
    settings = stage_settings(workdir, configfiles, config)
    live = bool(run and run.live)
    return [story_status(workdir, s, incomplete, settings, live)
            for s in (stories or story_ids(workdir, configfiles, config))]


def render(statuses: list[StoryStatus], run: Run | None = None) -> str:
    if not statuses:
        return "no stories here (no results/ and no config/stories.yaml)"
    lines = [run.line()] if run is not None and run.line() else []
    written = "being written by the run" if run is not None and run.live else \
        "left incomplete by a killed run"
    for st in statuses:
        done = sum(v == "done" for v in st.stages.values())
        total = sum(v != "off" for v in st.stages.values())
        line = f"{st.story:20} {st.state:12} reached {st.reached or '-':9} {done}/{total} stages"
        if st.shots:
            line += f", {st.shots} shots"
        lines.append(line)
        partial = [f"{k} {v.split(' ', 1)[1]}" for k, v in st.stages.items()
                   if v.startswith("partial")]
        if partial:
            lines.append(f"  partial: {', '.join(partial)}")
        if st.stale:
            lines.append(f"  stale (older than what they are made from): {', '.join(st.stale)}")
        if st.incomplete:
            lines.append(f"  {written}: {', '.join(st.incomplete)}")
        if st.failure:
            lines.append(f"  last failure: {st.failure['stage']}: {st.failure['message']}")
            lines.append(f"    log: {st.failure['log']}")
    return "\n".join(lines)
