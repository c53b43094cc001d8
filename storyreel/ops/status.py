"""Each story's state from the artifacts on disk, without running anything (``storyreel status``).

For every story (those in ``results/`` and those listed in the stories file) it reports the last
stage whose outputs are all there, which stages are stale (an output older than what it is made
from), outputs a killed run left incomplete (Snakemake's ``.snakemake/incomplete`` records), and
the last failure with the path of its log.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

# Stage -> (outputs relative to results/{story}/, the stage it is made from).
PER_STORY = [
    ("idea", ["idea.json"], None),
    ("script", ["script.json"], "idea"),
    ("revise", ["revised.json"], "script"),
    ("voice", ["narration.wav", "voice.json"], "revise"),
    ("asr", ["words.json", "subtitles.srt", "subtitles.vtt"], "voice"),
    ("shotlist", ["shotlist.json"], "asr"),
    ("vision", ["vision/style.json"], "shotlist"),
    ("keyframes", ["keyframes/{shot}.png"], "vision"),
    ("video", ["clips/{shot}.mp4"], "keyframes"),
    ("post", ["final.mp4", "final.srt", "final.vtt", "poster.jpg", "manifest.json"], "video"),
]
STAGES = [s for s, _, _ in PER_STORY]
KEEP = {"final.mp4", "final.srt", "final.vtt", "poster.jpg", "manifest.json", "contactsheet.jpg",
        "stages.html"}
ARCHIVED = ".archived"
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


def story_ids(workdir: Path) -> list[str]:
    """Stories in ``results/`` and in the workdir's stories file, in file order first."""
    ids: dict[str, None] = {}
    for path in (workdir / "config" / "config.yaml",):
        try:
            config = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            stories_file = workdir / config.get("stories", "config/stories.yaml")
            for entry in (yaml.safe_load(stories_file.read_text(encoding="utf-8")) or {}).get(
                    "stories", []):
                if isinstance(entry, dict) and isinstance(entry.get("id"), str):
                    ids.setdefault(entry["id"], None)
        except (OSError, yaml.YAMLError, AttributeError, TypeError):
            pass
    results = workdir / "results"
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
    if not (folder / "shotlist.json").exists():
        return []
    try:
        data = json.loads((folder / "shotlist.json").read_text(encoding="utf-8"))
        return [s["id"] for s in data.get("shots", [])]
    except (OSError, ValueError, KeyError, TypeError):
        return sorted(p.stem for p in (folder / "shots").glob("sh[0-9][0-9][0-9].json"))


def _stage_files(folder: Path, outputs: list[str], shots: list[str]) -> list[Path]:
    files = []
    for out in outputs:
        if "{shot}" in out:
            files += [folder / out.format(shot=s) for s in shots]
        else:
            files.append(folder / out)
    return files


def last_failure(workdir: Path, story: str, after: dict[str, float]) -> dict[str, Any] | None:
    """The newest job log of the story that reports an error and is newer than that stage's
    outputs (an error fixed by a later successful run does not count)."""
    best: tuple[float, dict[str, Any]] | None = None
    for stage in STAGES:
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


def vision_enabled(workdir: Path) -> bool:
    try:
        config = yaml.safe_load((workdir / "config" / "config.yaml").read_text(encoding="utf-8"))
        return bool(config["stages"]["vision"].get("enabled", True))
    except (OSError, yaml.YAMLError, KeyError, TypeError, AttributeError):
        return True


def _older(path: Path, than: Path) -> bool:
    try:
        return path.stat().st_mtime + 1e-3 < than.stat().st_mtime
    except OSError:
        return False


def story_status(workdir: Path, story: str, incomplete: list[str] | None = None) -> StoryStatus:
    folder = workdir / "results" / story
    status = StoryStatus(story)
    shots = _shots(folder)
    status.shots = len(shots)
    newest: dict[str, float] = {}
    oldest: dict[str, float] = {}
    for stage, outputs, _ in PER_STORY:
        if stage in ("keyframes", "video") and not shots:
            status.stages[stage] = "missing"
            continue
        files = _stage_files(folder, outputs, shots)
        mtimes = [f.stat().st_mtime for f in files if f.exists()]
        if len(mtimes) == len(files):
            status.stages[stage] = "done"
            status.reached = stage
            newest[stage], oldest[stage] = max(mtimes), min(mtimes)
        elif mtimes:
            status.stages[stage] = f"partial {len(mtimes)}/{len(files)}"
            newest[stage] = max(mtimes)
        else:
            status.stages[stage] = "missing"
    if not vision_enabled(workdir) and not (folder / "vision").exists():
        status.stages["vision"] = "off"
    for stage, _outputs, source in PER_STORY:
        if source == "vision" and status.stages.get("vision") == "off":
            source = "shotlist"
        if stage == "video":  # per shot: each clip against its own keyframe
            if any(_older(folder / "clips" / f"{s}.mp4", folder / "keyframes" / f"{s}.png")
                   for s in shots):
                status.stale.append(stage)
        elif stage in oldest and source in newest and oldest[stage] + 1e-3 < newest[source]:
            status.stale.append(stage)
    prefix = f"results/{story}/"
    status.incomplete = [p for p in (incomplete or []) if p.startswith(prefix)]
    status.failure = last_failure(workdir, story, newest)
    if (folder / ARCHIVED).exists():
        status.state = "archived"
    elif status.stages.get("post") == "done" and not status.stale and not status.incomplete:
        status.state = "finished"
    elif status.failure:
        status.state = "failed"
    elif status.reached or any(v.startswith("partial") for v in status.stages.values()):
        status.state = "in progress"
    return status


def collect(workdir: Path, stories: list[str] | None = None) -> list[StoryStatus]:
    incomplete = incomplete_outputs(workdir)
    return [story_status(workdir, s, incomplete) for s in (stories or story_ids(workdir))]


def render(statuses: list[StoryStatus]) -> str:
    if not statuses:
        return "no stories here (no results/ and no config/stories.yaml)"
    lines = []
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
            lines.append(f"  left incomplete by a killed run: {', '.join(st.incomplete)}")
        if st.failure:
            lines.append(f"  last failure: {st.failure['stage']}: {st.failure['message']}")
            lines.append(f"    log: {st.failure['log']}")
    return "\n".join(lines)
