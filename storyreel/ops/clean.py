"""``storyreel clean``: remove what finished stories no longer need, and what killed runs left.

* **Intermediates of finished stories** (``final.mp4`` and ``manifest.json`` present): everything
  under ``results/{story}/`` except ``final.*``, ``poster.jpg``, ``manifest.json`` and the
  report's ``contactsheet.jpg`` and ``stages.html``. The story is then marked archived
  (``results/{story}/.archived``): the default target leaves it alone, so the next
  ``storyreel run`` does not remake its intermediates; ask for it by name
  (``storyreel run results/{story}/final.mp4``) to make it again. Logs and benchmark files stay
  (small, and the ETA learns from them).
* **Orphans of killed runs**, for every story: atomic-write leftovers (``.NAME.*.part.EXT``),
  outputs Snakemake recorded as incomplete, ``.snakemake/scripts`` and ``.snakemake/shadow``
  leftovers, and storyreel's temporary folders (``storyreel-post-*``, ``storyreel-clip-*``) in
  the system temp folder that are more than six hours old. Skipped while a Snakemake run is
  working in the directory.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from storyreel.core import pipeline
from storyreel.ops import status as st

PART = re.compile(r"^\..+\.[^.]*\.part(\.[A-Za-z0-9]+)?$")
TEMP_PREFIXES = ("storyreel-post-", "storyreel-clip-")
TEMP_MIN_AGE_S = 6 * 3600
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_age(text: str) -> float:
    """'30m', '12h', '7d', '2w' or plain seconds -> seconds."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*", text)
    if not match:
        raise ValueError(f"--older-than: not a duration: {text!r} (e.g. 30m, 12h, 7d, 2w)")
    return float(match.group(1)) * UNITS[match.group(2) or "s"]


@dataclass
class Plan:
    remove: list[tuple[Path, int, str]] = field(default_factory=list)  # path, bytes, why
    archive: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    @property
    def bytes(self) -> int:
        return sum(size for _, size, _ in self.remove)


def size_of(path: Path) -> int:
    if path.is_symlink() or path.is_file():
        return path.lstat().st_size
    return sum(p.lstat().st_size for p in path.rglob("*") if p.is_file() or p.is_symlink())


def plan(workdir: Path, stories: list[str] | None = None, older_than: float | None = None,
         now: float | None = None, running: bool = False) -> Plan:
    now = time.time() if now is None else now
    result = Plan()
    results = workdir / pipeline.RESULTS
    chosen = stories or st.story_ids(workdir)
    for story in chosen:
        folder = results / story
        if not folder.is_dir():
            continue
        final = pipeline.path(folder, pipeline.FINAL.name)
        if not (final.exists() and pipeline.path(folder, pipeline.FINAL.name, "manifest").exists()):
            result.skipped.append(f"{story}: not finished")
            continue
        if older_than is not None and now - final.stat().st_mtime < older_than:
            result.skipped.append(f"{story}: finished less than --older-than ago")
            continue
        for path in sorted(folder.iterdir()):
            if path.name in st.KEEP or path.name == pipeline.ARCHIVED:
                continue
            result.remove.append((path, size_of(path), f"{story}: intermediate"))
        if not (folder / pipeline.ARCHIVED).exists():
            result.archive.append(story)
    if running:
        result.skipped.append("orphans: a Snakemake run is working here")
        return result
    seen = {p for p, _, _ in result.remove}
    if results.is_dir():
        for path in results.rglob(".*"):
            if path.is_file() and PART.match(path.name) and not any(
                    parent in seen for parent in path.parents):
                result.remove.append((path, size_of(path), "orphan: unfinished atomic write"))
    for rel in st.incomplete_outputs(workdir):
        path = workdir / rel
        if path.exists() and not any(p in seen for p in (path, *path.parents)):
            result.remove.append((path, size_of(path), "orphan: output of a killed job"))
    for sub in ("scripts", "shadow"):
        folder = workdir / ".snakemake" / sub
        if folder.is_dir():
            for path in folder.iterdir():
                result.remove.append((path, size_of(path), f"orphan: .snakemake/{sub}"))
    incomplete = workdir / ".snakemake" / "incomplete"
    if incomplete.is_dir():
        for path in incomplete.iterdir():
            if path.name != "migration_underway":
                result.remove.append((path, size_of(path), "orphan: incomplete-job record"))
    tmp = Path(tempfile.gettempdir())
    for prefix in TEMP_PREFIXES:
        for path in tmp.glob(prefix + "*"):
            try:
                if now - path.stat().st_mtime > TEMP_MIN_AGE_S:
                    result.remove.append((path, size_of(path), "orphan: temporary folder"))
            except OSError:
                continue
    return result


def apply(workdir: Path, result: Plan) -> None:
    for path, _, _ in result.remove:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    for story in result.archive:
        (pipeline.story_dir(workdir, story) / pipeline.ARCHIVED).write_text(
            "intermediates removed by `storyreel clean`; the default target skips this story\n",
            encoding="utf-8")


def human(size: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"


def render(workdir: Path, result: Plan, dry_run: bool) -> str:
    verb = "would remove" if dry_run else "removed"
    lines = []
    for path, size, why in result.remove:
        try:
            shown = path.relative_to(workdir)
        except ValueError:
            shown = path
        lines.append(f"{verb} {shown} ({human(size)}) [{why}]")
    for note in result.skipped:
        lines.append(f"kept {note}")
    lines.append(f"{'would free' if dry_run else 'freed'} {human(result.bytes)} "
                 f"in {len(result.remove)} paths")
    return "\n".join(lines)
