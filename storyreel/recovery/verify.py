"""``storyreel verify``: check every artifact of every story and remove what is corrupt.

:func:`verify` checks every artifact of every story, the report's included, by its kind
(:func:`storyreel.job.integrity.check_file`: JSON schemas and per-shot folders, WAV/PNG/JPEG/MP4
decoding, clip frame counts, subtitles, HTML, sha256 against the manifest) and removes what is
corrupt together with what depends on it, so that the next run regenerates exactly that. An
intermediate that is *missing* while something made from it exists (a deleted ``words.json``
under a finished film) is reported the same way: Snakemake would skip it, since the film looks
up to date. A story that ``storyreel clean`` archived is a different, recorded state
(``results/{story}/.archived``): its intermediates are gone on purpose and nothing is removed.
It also removes outputs that Snakemake cannot vouch for: those with a stale *incomplete* marker
(a job that was running, or finished after Snakemake itself was killed) and, once the workflow
has metadata, those without a metadata record (a later parameter change could not be detected
for them). The film itself (``final.mp4`` and its companions) is only removed when it is itself
corrupt: it is the last good film until ``post`` makes a new one (see ``rules/shots.smk``).
"""

from __future__ import annotations

import os
import shutil
from base64 import urlsafe_b64decode, urlsafe_b64encode
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from storyreel.core import pipeline
from storyreel.core.errors import StoryreelError
from storyreel.job import integrity

FILM = tuple(a.path for a in pipeline.FINAL.artifacts)  # the film and its companions


@dataclass
class VerifyReport:
    """What :func:`verify` found and did."""

    checked: int = 0
    corrupt: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    missing: list[tuple[str, str]] = field(default_factory=list)  # (path, why it is needed)
    untrusted: list[tuple[str, str]] = field(default_factory=list)  # (path, why)
    archived: list[str] = field(default_factory=list)  # stories `storyreel clean` archived
    removed: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)  # films moved to .last-good/: remade next
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return not self.corrupt and not self.untrusted and not self.missing

    def lines(self) -> list[str]:
        out = [f"corrupt: {p}: {r}" for p, r in self.corrupt]
        out += [f"missing: {p}: {r}" for p, r in self.missing]
        out += [f"untrusted: {p}: {r}" for p, r in self.untrusted]
        out += [f"archived: {p}: `storyreel clean` removed its intermediates on purpose (ask "
                f"for {p}/{pipeline.FINAL.artifact().path} to make them again)"
                for p in self.archived]
        verb = "would remove" if self.dry_run else "removed"
        out += [f"{verb}: {p}" for p in self.removed]
        out += [f"moved to .last-good/ until post remakes it: {p}" for p in self.stale]
        out.append(f"verify: {self.checked} artifacts checked, {len(self.corrupt)} corrupt, "
                   f"{len(self.missing)} missing, {len(self.untrusted)} untrusted, "
                   f"{len(self.removed)} {verb}")
        return out


# -- Snakemake's bookkeeping -----------------------------------------------------------------

def _record_key(path: Path) -> str:
    """The name Snakemake files a record for ``path`` under (single-level paths only)."""
    return urlsafe_b64encode(str(path).encode()).decode()


def _records(folder: Path) -> set[str]:
    """Output paths (relative to the workdir) that have a record in a Snakemake folder."""
    keys = set()
    if not folder.is_dir():
        return keys
    for root, _, files in os.walk(folder):
        rel = Path(root).relative_to(folder)
        for name in files:
            parts = [p.lstrip("@") for p in rel.parts] + [name]
            try:
                keys.add(urlsafe_b64decode("".join(parts).encode()).decode())
            except (ValueError, UnicodeDecodeError):
                continue
    return keys


def _remove_record(folder: Path, key: str) -> None:
    path = folder / _record_key(Path(key))
    if path.is_file():
        path.unlink(missing_ok=True)


# -- verify ----------------------------------------------------------------------------------

def _settings(workdir: Path) -> tuple[int, dict[str, Any] | None]:
    """(fps, the stage settings) from the project's config (25 and None when it is
    unreadable)."""
    try:
        from storyreel.core.config import load_config, load_user_yaml

        path = workdir / "config" / "config.yaml"
        config = load_config(load_user_yaml(path, f"config {path}", "config") or {})
        return int(config["output"]["fps"]), dict(config["stages"])
    except Exception:  # noqa: BLE001 (verify works without a readable config)
        return 25, None


def _shots(story_dir: Path) -> list[str]:
    """Every shot id any per-shot file of the story is named by."""
    return sorted({s for folder in pipeline.shot_folders()
                   for s in pipeline.shot_ids_in(story_dir / folder)})


def _story_outputs(story_dir: Path, present: bool = True) -> list[tuple[Path, str, str | None]]:
    """Every output file of a story, the report's included: (path, stage, shot), in pipeline
    order; only those that exist unless ``present`` is False."""
    return [(path, stage.name, shot)
            for path, stage, shot in pipeline.files(story_dir, pipeline.RULES, _shots(story_dir))
            if path.exists() or not present]


def _missing(story_dir: Path, settings: dict[str, Any] | None
             ) -> list[tuple[Path, str, str | None, str]]:
    """Intermediates that are missing while something made from them exists: (path, stage,
    shot, what exists). The film and the report are not intermediates (a run remakes them)."""
    outputs = _story_outputs(story_dir, present=False)
    found = []
    for path, stage, shot in outputs:
        st = pipeline.stage(stage)
        if path.exists() or st is pipeline.FINAL or st.report or (
                st.optional and (settings is None or not pipeline.runs(st, settings))):
            continue
        later = next((p for p, other, other_shot in outputs if p.exists()
                      and pipeline.order(other) > pipeline.order(stage)
                      and (shot is None or other_shot in (None, shot))), None)
        if later is not None:
            found.append((path, stage, shot, later.relative_to(story_dir).as_posix()))
    return found


def dependents(story_dir: Path, stage: str, shot: str | None) -> list[Path]:
    """Files made from a stage's output (its own outputs included), the film excepted."""
    found = []
    for path, other, other_shot in _story_outputs(story_dir):
        if other == pipeline.FINAL.name or pipeline.order(other) < pipeline.order(stage):
            continue
        if shot is None or other_shot == shot:  # a per-shot file: only that shot's later files
            found.append(path)
    return found


def _problem(exc: StoryreelError, default: Path) -> tuple[Path, str]:
    """(file, reason) of a failed check."""
    path = Path(getattr(exc, "path", default))
    return path, getattr(exc, "reason", str(exc))


def _check_film(story_dir: Path) -> tuple[Path, str] | None:
    """(file, why) when the finished film is corrupt, else None: the manifest's own schema,
    then the film's files against the manifest's sha256 (decoding only without a manifest)."""
    from storyreel.core.artifacts import sha256_file

    manifest_path = pipeline.path(story_dir, pipeline.FINAL.name, "manifest")
    final = pipeline.path(story_dir, pipeline.FINAL.name)
    if manifest_path.exists():
        try:
            manifest = integrity.check_json(manifest_path, "manifest")
        except StoryreelError as exc:
            return _problem(exc, manifest_path)
        listed = {a["path"]: a["sha256"] for a in manifest["artifacts"]}
        for name in FILM:
            if name == manifest_path.name:
                continue
            path = story_dir / name
            if name in listed and path.exists() and sha256_file(path) != listed[name]:
                return path, "sha256 differs from manifest.json (corrupt or replaced)"
            if name in listed and not path.exists():
                return path, "missing, though manifest.json lists it"
        return None
    if final.exists():
        try:
            integrity.check_mp4(final)
        except StoryreelError as exc:
            return _problem(exc, final)
    return None


def _rel(path: Path, workdir: Path) -> str:
    path = Path(path)
    try:
        return (path if path.is_absolute() else workdir / path).resolve().relative_to(
            workdir).as_posix()
    except ValueError:
        return str(path)


def _verify_story(workdir: Path, story_dir: Path, report: VerifyReport, fps: int,
                  settings: dict[str, Any] | None, records: tuple[set[str], set[str]]
                  ) -> dict[Path, None]:
    """Check one story's artifacts into ``report``; the files to remove (the film's only when
    it is itself corrupt), and its film moved to .last-good/ when it must be remade."""
    metadata, incomplete = records
    to_remove: dict[Path, None] = {}
    outputs = _story_outputs(story_dir)
    keys = {o[0]: o[0].relative_to(workdir).as_posix() for o in outputs}
    story_has_metadata = any(k in metadata for k in keys.values())
    film_problem = _check_film(story_dir)
    if film_problem:
        bad, why = film_problem
        report.corrupt.append((_rel(bad, workdir), why))
        to_remove.update((story_dir / name, None) for name in FILM if (story_dir / name).exists())
    remake = False
    for path, stage, shot in outputs:
        if stage == pipeline.FINAL.name:
            continue
        report.checked += 1
        key = keys[path]
        why = None
        if key in incomplete:
            why = "marked incomplete by Snakemake (its job never finished for Snakemake)"
        elif story_has_metadata and path.is_file() and key not in metadata:
            why = "no Snakemake metadata (a parameter change could not be detected)"
        if why:
            report.untrusted.append((key, why))
        else:
            try:
                integrity.check_file(path, fps)
                continue
            except StoryreelError as exc:
                bad, reason = _problem(exc, path)
                report.corrupt.append((_rel(bad, workdir), reason))
        to_remove.update((dep, None) for dep in dependents(story_dir, stage, shot))
        remake = remake or not pipeline.stage(stage).report
    if (story_dir / pipeline.ARCHIVED).exists():
        report.archived.append(story_dir.relative_to(workdir).as_posix())
    else:
        for path, stage, shot, later in _missing(story_dir, settings):
            report.missing.append((path.relative_to(workdir).as_posix(),
                                   f"missing, though {later} (made from it) exists"))
            to_remove.update((dep, None) for dep in dependents(story_dir, stage, shot))
            remake = True
    report.checked += sum(1 for n in FILM if (story_dir / n).exists())
    if remake:  # the film must be remade: Snakemake skips missing intermediates of a film
        for name in FILM:  # that looks up to date. The last good film is kept in
            path = story_dir / name  # .last-good/ (summary.finish puts it back if post fails)
            if path.exists() and path not in to_remove:
                report.stale.append(path.relative_to(workdir).as_posix())
                if not report.dry_run:
                    keep = story_dir / pipeline.LAST_GOOD / name
                    keep.parent.mkdir(exist_ok=True)
                    os.replace(path, keep)
    return to_remove


def verify(workdir: Path, stories: list[str] | None = None, dry_run: bool = False
           ) -> VerifyReport:
    """Check every artifact of every story (or of ``stories``) and remove what is corrupt
    or missing with what depends on it (nothing is removed with ``dry_run``)."""
    workdir = Path(workdir).resolve()
    report = VerifyReport(dry_run=dry_run)
    results = workdir / pipeline.RESULTS
    if not results.is_dir():
        return report
    names = stories if stories is not None else sorted(
        p.name for p in results.iterdir() if p.is_dir() and not p.name.startswith("."))
    fps, settings = _settings(workdir)
    records = (_records(workdir / ".snakemake" / "metadata"),
               _records(workdir / ".snakemake" / "incomplete"))
    to_remove: dict[Path, None] = {}
    for story in names:
        story_dir = results / story
        if story_dir.is_dir():
            to_remove.update(_verify_story(workdir, story_dir, report, fps, settings,
                                                     records))
    for path in to_remove:
        report.removed.append(path.relative_to(workdir).as_posix())
        if dry_run:
            continue
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        key = path.relative_to(workdir).as_posix()
        _remove_record(workdir / ".snakemake" / "incomplete", key)
    return report
