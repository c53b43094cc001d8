"""Expected job costs for the progress model: rates per stage from earlier runs (the benchmark
files under ``benchmarks/`` and the history in ``.snakemake/storyreel/costs.json``), else
:data:`DEFAULT_RATES`; narration and shot lengths read from a story's artifacts.

A rate is job seconds per second of narration (per-shot stages: of shot; a portrait counts as
a shot of :data:`SHOT_S`) at 1280x720; the
stages that draw or encode pictures scale with the frame's size (:data:`PIXEL_POWER`): a 9:16
story's 1080x1920 frames take its shots about twice as long."""

from __future__ import annotations

import csv
import json
import os
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from storyreel.core import pipeline
from storyreel.core.errors import StoryreelError
from storyreel.core.pipeline import PER_SHOT
from storyreel.media.ffmpeg import frame_size

# Until a run leaves benchmark files: the stage table's rates (seconds of job time per second
# of narration or of shot), plus the Python start-up of a Snakemake job.
DEFAULT_RATES = {s.name: s.rate for s in pipeline.RULES}
JOB_OVERHEAD_S = 0.3  # a job's Python start-up (measured: 0.25-0.3 s for the shortest jobs)
SHOT_S = 4.0  # narration seconds per shot, before a shot list has been seen
HISTORY_KEEP = 200
HD_PIXELS = 1280 * 720
# How a stage's time grows with the frame's pixels (measured: keyframes and clips in
# proportion, post's edit and encode with about the square root).
PIXEL_POWER = {**dict.fromkeys(PER_SHOT, 1.0), pipeline.FINAL.name: 0.5}


def frame_scale(aspect: str | None) -> float:
    """The frame's pixels against 1280x720 (1 when the aspect is unknown)."""
    try:
        w, h = frame_size(str(aspect or "16:9"))
    except StoryreelError:
        return 1.0
    return w * h / HD_PIXELS


def size_factor(rule: str, scale: float) -> float:
    """How much longer ``rule`` takes at ``scale`` times the pixels of 1280x720."""
    return scale ** PIXEL_POWER.get(rule, 0.0)


def story_scale(workdir: Path, story: str) -> float:
    """A story's frame scale from its idea.json (the aspect it was made at)."""
    idea = _json(pipeline.path(pipeline.story_dir(workdir, story), pipeline.NAMES[0]))
    return frame_scale(idea.get("aspect") if isinstance(idea, dict) else None)


def _bench_seconds(path: Path) -> float | None:
    try:
        with path.open(encoding="utf-8") as fh:
            row = next(csv.DictReader(fh, delimiter="\t"))
        return float(row["s"])
    except (OSError, StopIteration, KeyError, ValueError):
        return None


def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def narration_length(workdir: Path, story: str, target: float | None = None) -> float:
    """Narration seconds: voice.json when it exists, else the story's target ``duration_s``."""
    meta = _json(pipeline.path(pipeline.story_dir(workdir, story), "voice", "meta"))
    if isinstance(meta, dict) and meta.get("duration_s"):
        return float(meta["duration_s"])
    return float(target or 60.0)


def shot_lengths(workdir: Path, story: str) -> dict[str, float]:
    """Shot id -> duration (s) from the story's shots/ folder, when it exists."""
    lengths: dict[str, float] = {}
    shots = pipeline.path(pipeline.story_dir(workdir, story), "shotlist", "shots")
    if shots.is_dir():
        for path in shots.glob(pipeline.SHOT_GLOB):
            data = _json(path)
            if isinstance(data, dict) and data.get("duration"):
                lengths[path.stem] = float(data["duration"])
    return lengths


def harvest(workdir: Path, only: set[Path] | None = None) -> dict[str, list[float]]:
    """Rates (job seconds per narration or shot second) from the benchmark files in ``workdir``
    (``only`` those, when given) whose story still has its voice.json / shot files, plus
    ``shots_per_s`` samples (shots per narration second) from its shot lists."""
    rates: dict[str, list[float]] = {}
    bench = workdir / "benchmarks"

    def wanted(tsv: Path) -> bool:
        return only is None or tsv.resolve() in only

    for stage in (s.name for s in pipeline.RULES):
        folder = bench / stage
        if not folder.is_dir():
            continue
        for tsv in folder.glob("*.tsv"):
            seconds = _bench_seconds(tsv)
            meta = _json(pipeline.path(pipeline.story_dir(workdir, tsv.stem), "voice", "meta"))
            if seconds is None or not wanted(tsv) or not isinstance(meta, dict) or not meta.get(
                    "duration_s"):
                continue
            length = float(meta["duration_s"]) * size_factor(stage, story_scale(workdir,
                                                                                 tsv.stem))
            rates.setdefault(stage, []).append(max(seconds - JOB_OVERHEAD_S, 0.0) / length)
        if stage in pipeline.PER_CHARACTER:  # a portrait: one picture, counted as a shot's
            for tsv in folder.glob("*/*.tsv"):
                seconds = _bench_seconds(tsv)
                if seconds is not None and wanted(tsv):
                    rates.setdefault(stage, []).append(
                        max(seconds - JOB_OVERHEAD_S, 0.0) / SHOT_S)
        if stage in PER_SHOT:
            for story_dir in (p for p in folder.iterdir() if p.is_dir()):
                lengths = shot_lengths(workdir, story_dir.name)
                size = size_factor(stage, story_scale(workdir, story_dir.name))
                for tsv in story_dir.glob("*.tsv"):
                    seconds = _bench_seconds(tsv)
                    if seconds is None or tsv.stem not in lengths or not wanted(tsv):
                        continue
                    rates.setdefault(stage, []).append(
                        max(seconds - JOB_OVERHEAD_S, 0.0) / (lengths[tsv.stem] * size))
    results = workdir / pipeline.RESULTS
    if results.is_dir() and only is None:
        for story_dir in results.iterdir():
            lengths = shot_lengths(workdir, story_dir.name)
            meta = _json(pipeline.path(story_dir, "voice", "meta"))
            if lengths and isinstance(meta, dict) and meta.get("duration_s"):
                rates.setdefault("shots_per_s", []).append(len(lengths) / meta["duration_s"])
    return rates


def history_path(workdir: Path) -> Path:
    return workdir / pipeline.RUN_STATE / "costs.json"


def load_history(workdir: Path) -> dict[str, list[float]]:
    data = _json(history_path(workdir))
    if not isinstance(data, dict):
        return {}
    return {k: [float(x) for x in v] for k, v in data.get("rates", {}).items()
            if isinstance(v, list)}


def save_history(workdir: Path, rates: dict[str, list[float]]) -> None:
    """Merge this run's rates into the workdir's history (newest kept)."""
    merged = load_history(workdir)
    for key, values in rates.items():
        merged[key] = (merged.get(key, []) + list(values))[-HISTORY_KEEP:]
    path = history_path(workdir)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"rates": merged}), encoding="utf-8")
    os.replace(tmp, path)


@dataclass
class Costs:
    """Expected job seconds per stage, from history (median rates) or the defaults."""

    rates: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_RATES))
    shots_per_s: float = 1.0 / SHOT_S
    from_history: set[str] = field(default_factory=set)

    @classmethod
    def from_samples(cls, samples: dict[str, list[float]]) -> Costs:
        costs = cls()
        for stage, values in samples.items():
            if not values:
                continue
            if stage == "shots_per_s":
                costs.shots_per_s = statistics.median(values)
            else:
                costs.rates[stage] = statistics.median(values)
                costs.from_history.add(stage)
        return costs

    def job(self, rule: str, length_s: float, scale: float = 1.0) -> float:
        """Expected seconds of one job of ``rule`` for ``length_s`` of narration (or shot), at
        ``scale`` times the pixels of 1280x720."""
        return JOB_OVERHEAD_S + self.rates.get(rule, 0.05) * max(length_s, 0.0) * size_factor(
            rule, scale)

    def shots(self, narration_s: float) -> int:
        return max(1, round(narration_s * self.shots_per_s))
