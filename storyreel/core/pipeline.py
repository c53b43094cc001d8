"""The stage table: every stage of the workflow, in order, with the artifacts it writes.

This is the one place where stages and output paths are written down. The rules read their
paths from it (``out``, ``log_of``, ``benchmark_of`` in ``rules/common.smk``), and so do the
input checks (:mod:`storyreel.job.integrity`), ``storyreel status``, ``verify`` and ``clean``,
the end-of-run summary, the progress model, the backend registry and the docs generator
(``docs/output.md``). A new stage is a row here plus its rule, its stage module and (when it has
any) its backends.

Paths are relative to a story's folder ``results/{story}/``; a per-shot artifact has ``{shot}``
in its path (``keyframes/{shot}.png``). Story ids match :data:`STORY_ID` and shot ids
:data:`SHOT_ID`, so no wildcard can name a path outside ``results/``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

RESULTS = "results"
STORY_ID = r"[a-z0-9][a-z0-9_-]{0,63}"
SHOT_ID = r"sh[0-9]{3}"
SHOT_GLOB = "sh[0-9][0-9][0-9].*"  # a file named by shot id
CHARACTER_ID = r"[a-z0-9][a-z0-9-]{0,39}"  # a character's file name (core.types.character_ids)
ARCHIVED = ".archived"  # results/{story}/.archived: `storyreel clean` removed its intermediates
LAST_GOOD = ".last-good"  # results/{story}/.last-good/: the film kept while post remakes it
DEGRADATIONS = ".degradations"  # results/{story}/.degradations/: fallback records for post
# storyreel's own run state: validated stories, progress for the web monitor, cost history
RUN_STATE = Path(".snakemake") / "storyreel"


@dataclass(frozen=True)
class Artifact:
    """One output of a stage."""

    key: str  # the rule's name for it (``output.<key>``)
    path: str  # relative to results/{story}/; may hold {shot}
    kind: str  # json, folder (of JSON files), wav, png, jpg, mp4, srt, vtt or html
    what: str  # what it holds (docs/output.md)
    schema: str | None = None  # schemas/artifacts/<schema>.schema.yaml (JSON and folders)
    inside: bool = False  # written inside another artifact's folder, not an output of its own

    @property
    def per_shot(self) -> bool:
        return "{shot}" in self.path

    @property
    def per_character(self) -> bool:
        return "{character}" in self.path

    @property
    def folder(self) -> str | None:
        """The folder a per-shot or per-character artifact lives in (``keyframes``,
        ``characters``), else None."""
        return self.path.split("/", 1)[0] if self.per_shot or self.per_character else None


@dataclass(frozen=True)
class Stage:
    """One rule of the workflow and what it writes."""

    name: str
    artifacts: tuple[Artifact, ...]
    made_from: str | None = None  # the stage whose outputs it is made from (staleness)
    backends: bool = False  # whether stages.<name>.backend chooses a backend (its kind)
    checkpoint: bool = False  # a Snakemake checkpoint (the DAG grows after it)
    optional: bool = False  # runs only when its settings ask for it (:func:`runs`)
    report: bool = False  # a piece of the report, not a stage of the film
    # Seconds of job time per second of narration (per-shot stages: per second of shot; a
    # portrait: per second of a shot of storyreel.ops.costs.SHOT_S) at 1280x720 past a job's
    # start-up (storyreel.ops.costs scales the picture stages with the frame), measured with
    # the embedded backends on the 2-core development machine when quiet (medians of the
    # example stories' benchmark files, `python benchmarks/progress.py --only eta`): the
    # progress model's first guess, before a run leaves benchmark files. The ETA calibrates on
    # the run itself within its first jobs (a busier or slower machine, a model backend).
    rate: float = 0.0

    @property
    def per_shot(self) -> bool:
        """One job per shot (keyframes, video) rather than one per story."""
        return any(a.per_shot for a in self.artifacts)

    @property
    def per_character(self) -> bool:
        """One job per character of the story's character sheet (portraits)."""
        return any(a.per_character for a in self.artifacts)

    @property
    def item(self) -> str | None:
        """The wildcard naming one job's item besides the story: ``shot``, ``character`` or
        None."""
        return "shot" if self.per_shot else "character" if self.per_character else None

    def artifact(self, key: str | None = None) -> Artifact:
        """The artifact named ``key`` (the first one when None)."""
        if key is None:
            return self.artifacts[0]
        for artifact in self.artifacts:
            if artifact.key == key:
                return artifact
        raise KeyError(f"stage {self.name} has no artifact {key!r}")

    @property
    def mark(self) -> str:
        """The story-relative file or folder whose existence shows the stage has run."""
        first = self.artifacts[0]
        return first.folder or first.path


_J, _F = "json", "folder"
STAGES: tuple[Stage, ...] = (
    Stage("idea", (Artifact("idea", "idea.json", _J, "the story entry normalised: premise or "
                            "full text, title, language, target length, aspect, style, voice, "
                            "seed", "idea"),), rate=0.002),
    Stage("script", (Artifact("script", "script.json", _J, "scenes with narration, a visual "
                              "description, setting, time of day, mood, characters; the writer "
                              "and model", "script"),), "idea", backends=True, rate=0.004),
    Stage("revise", (Artifact("revised", "revised.json", _J, "speakable sentences (ids "
                              "`scNN_MM`), the pace asked of the voice, estimated length, and "
                              "every change made", "revised"),), "script", backends=True,
          rate=0.002),
    Stage("voice", (
        Artifact("wav", "narration.wav", "wav", "the whole narration, mono 16-bit PCM"),
        Artifact("meta", "voice.json", _J, "backend actually used, voice, model sha256, sample "
                 "rate, duration, each sentence's start and end", "voice"),
    ), "revise", backends=True, rate=0.074),
    Stage("asr", (
        Artifact("words", "words.json", _J, "each word's aligned start and end, sentence spans, "
                 "and the WER of free recognition against the script", "words"),
        Artifact("srt", "subtitles.srt", "srt", "subtitles built from the word timings"),
        Artifact("vtt", "subtitles.vtt", "vtt", "the same subtitles as WebVTT"),
    ), "voice", backends=True, rate=0.108),
    Stage("shotlist", (
        Artifact("shotlist", "shotlist.json", _J, "every shot: start and end on the narration "
                 "timeline, narration, prompt, camera move, transition, seed", "shotlist"),
        Artifact("shots", "shots", _F, "one file per shot, `shots/{shot}.json` (what keyframes "
                 "and video read when vision is off)", "shot"),
    ), "asr", checkpoint=True, rate=0.002),
    Stage("vision", (
        Artifact("plans", "vision", _F, "one plan per shot, `vision/{shot}.json`: the shot with "
                 "its enriched prompt and the part of the style it needs", "plan"),
        Artifact("style", "vision/style.json", _J, "the story's style: palette, light, cast and "
                 "places, what must not drift between shots", "style", inside=True),
        Artifact("sheets", "vision/characters", _F, "one sheet per character of the cast, "
                 "`vision/characters/{character}.json`: its look (with the config's "
                 "`characters` edits) and what its portrait is drawn with", "sheet", inside=True),
    ), "shotlist", backends=True, checkpoint=True, optional=True, rate=0.003),
    Stage("portraits", (Artifact("portrait", "characters/{character}.png", "png", "one "
                                 "reference portrait per character, drawn by the keyframes "
                                 "backend from its sheet before the shots that show it"),),
          "vision", optional=True, rate=0.094),
    Stage("keyframes", (Artifact("png", "keyframes/{shot}.png", "png", "one picture per shot, "
                                 "larger than the frame to leave room for the camera"),),
          "vision", backends=True, rate=0.094),
    Stage("video", (Artifact("clip", "video/{shot}.mp4", "mp4", "the shot's clip with its "
                             "camera move and burned subtitles, exactly the shot's length (plus "
                             "the crossfade into the next scene), encoded with the film's "
                             "settings: post joins the clips by stream copy"),),
          "keyframes", backends=True, rate=0.435),
    Stage("score", (Artifact("scores", "scores.json", _J, "each keyframe's CLIP score against its "
                             "prompt, each clip's steadiness, each character's consistency across "
                             "its shots, and the flags of what fell below the thresholds",
                             "scores"),), "video", backends=True, optional=True, rate=0.05),
    Stage("post", (
        Artifact("mp4", "final.mp4", "mp4", "the finished film: H.264 High, yuv420p, AAC 48 kHz, "
                 "faststart, burned and soft subtitles"),
        Artifact("srt", "final.srt", "srt", "the film's subtitles"),
        Artifact("vtt", "final.vtt", "vtt", "the film's subtitles as WebVTT"),
        Artifact("poster", "poster.jpg", "jpg", "a poster: the keyframe of the longest shot in "
                 "the middle half, at the film's size, without subtitles"),
        Artifact("manifest", "manifest.json", _J, "every artifact's path and sha256, each "
                 "stage's backend, model, seed and settings, tool versions, time and memory per "
                 "stage, quality figures, degradations", "manifest"),
    ), "video", backends=True, rate=0.187),
)
REPORTS: tuple[Stage, ...] = (
    Stage("contactsheet", (Artifact("sheet", "contactsheet.jpg", "jpg", "every keyframe in shot "
                                    "order on one page, labelled with shot id, start and camera "
                                    "move, and its scores (a flagged shot framed red) when a "
                                    "scorer runs"),), "keyframes", report=True, rate=0.017),
    Stage("stagetable", (Artifact("html", "stages.html", "html", "time and memory per stage, "
                                  "the manifest's provenance, tools and quality figures, and "
                                  "with a scorer every shot's and character's scores"),),
          "post", report=True, rate=0.002),
)
NAMES: tuple[str, ...] = tuple(s.name for s in STAGES)
RULES: tuple[Stage, ...] = STAGES + REPORTS
BACKEND_KINDS: tuple[str, ...] = tuple(s.name for s in STAGES if s.backends)
PER_SHOT: frozenset[str] = frozenset(s.name for s in STAGES if s.per_shot)
PER_CHARACTER: frozenset[str] = frozenset(s.name for s in STAGES if s.per_character)
CHECKPOINTS: tuple[str, ...] = tuple(s.name for s in STAGES if s.checkpoint)
FINAL = STAGES[-1]  # post: the film
_BY_NAME = {s.name: s for s in RULES}


def stage(name: str) -> Stage:
    """The stage (or report rule) called ``name``."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"no stage {name!r}; stages: {', '.join(_BY_NAME)}") from None


def order(name: str | None) -> int:
    """A stage's place in the pipeline (report rules after post; unknown names last)."""
    return next((i for i, s in enumerate(RULES) if s.name == name), len(RULES))


def runs(st: Stage, settings: Mapping[str, Any]) -> bool:
    """Whether a stage runs with these stage settings (the config's ``stages`` block): an
    optional stage runs when it is ``enabled`` (vision, portraits) and has a backend other than
    ``none`` (score), and the optional stage it is made from runs (portraits need vision)."""
    if not st.optional:
        return True
    block = settings.get(st.name) or {}
    source = stage(st.made_from) if st.made_from else None
    return bool(block.get("enabled", True)) and block.get("backend") != "none" and (
        source is None or runs(source, settings))


def upstream_of(name: str, settings: Mapping[str, Any]) -> str | None:
    """The stage a stage is made from, skipping optional stages that do not run."""
    source = stage(name).made_from
    while source and not runs(stage(source), settings):
        source = stage(source).made_from
    return source


# -- paths -------------------------------------------------------------------------------------

def out(name: str, key: str | None = None) -> str:
    """A rule's output path pattern: ``results/{story}/<artifact path>``."""
    return f"{RESULTS}/{{story}}/{stage(name).artifact(key).path}"


def _job_path(name: str) -> str:
    item = stage(name).item
    return f"{name}/{{story}}" + (f"/{{{item}}}" if item else "")


def log_of(name: str) -> str:
    """A job's log: ``logs/<stage>/{story}.log`` (per shot: ``logs/<stage>/{story}/{shot}.log``,
    per character ``.../{character}.log``)."""
    return f"logs/{_job_path(name)}.log"


def benchmark_of(name: str) -> str:
    """A job's Snakemake benchmark file, laid out like its log."""
    return f"benchmarks/{_job_path(name)}.tsv"


def job_files(pattern: Callable[[str], str], story: str, shots: list[str],
              settings: Mapping[str, Any], final: bool = False,
              characters: list[str] | None = None) -> dict[str, str | list[str]]:
    """``pattern`` (:func:`log_of` or :func:`benchmark_of`) filled in for every job of a story,
    by stage: one path per story stage, a list per per-shot stage (and per-character stage, of
    ``characters``); only stages that run with these ``settings`` (the config's ``stages``),
    the final stage (post) only with ``final``."""
    files: dict[str, str | list[str]] = {}
    for st in STAGES:
        if not runs(st, settings) or (st is FINAL and not final):
            continue
        if st.per_shot:
            files[st.name] = [pattern(st.name).format(story=story, shot=s) for s in shots]
        elif st.per_character:
            files[st.name] = [pattern(st.name).format(story=story, character=c)
                              for c in characters or []]
        else:
            files[st.name] = pattern(st.name).format(story=story)
    return files


def story_dir(workdir: str | Path, story: str) -> Path:
    return Path(workdir) / RESULTS / story


def path(story_folder: str | Path, name: str, key: str | None = None,
         shot: str | None = None, character: str | None = None) -> Path:
    """One artifact's path in a story's folder (``shot`` for per-shot artifacts,
    ``character`` for per-character ones)."""
    pattern = stage(name).artifact(key).path
    if shot or character:
        pattern = pattern.format(shot=shot, character=character)
    return Path(story_folder) / pattern


def plan_path(story_folder: str | Path, shot: str, vision: bool = True) -> Path:
    """The file keyframes and video read for a shot: its vision plan, or the bare shot."""
    return path(story_folder, "vision" if vision else "shotlist",
                None if vision else "shots") / f"{shot}.json"


def inside(name: str, key: str) -> str:
    """The path of an artifact written inside its stage's folder, relative to that folder
    (``style.json`` for the vision stage's style)."""
    artifact = stage(name).artifact(key)
    return artifact.path.split("/", 1)[1] if artifact.inside else artifact.path


def shot_ids_in(folder: str | Path) -> list[str]:
    """The shot ids of the files in a folder (``shots/``, ``keyframes/`` ...), sorted."""
    return sorted({f.stem for f in Path(folder).glob(SHOT_GLOB)})


def portraits_of(story_folder: str | Path, plan: Mapping[str, Any]) -> list[Path]:
    """The portraits of the characters a shot's plan shows, in the order the shot names them
    (a character without an id, as in a bare shot's plan, has none)."""
    ids = {c["name"]: c.get("id") for c in plan["cast"]}
    return [path(story_folder, "portraits", character=ids[name])
            for name in plan["characters"] if ids.get(name)]


def character_ids_in(story_folder: str | Path) -> list[str]:
    """The character ids of a story whose vision stage has written its sheets, sorted."""
    sheets = path(story_folder, "vision", "sheets")
    return sorted(f.stem for f in sheets.glob("*.json") if re.fullmatch(CHARACTER_ID, f.stem))


def shot_folders() -> tuple[str, ...]:
    """Folders whose files are named by shot id (``shots``, ``vision``, ``keyframes``, ...)."""
    folders = [a.path for s in STAGES for a in s.artifacts if a.kind == _F and not a.inside]
    return tuple(folders + [a.folder for s in STAGES for a in s.artifacts if a.per_shot])


def files(story_folder: str | Path, stages: tuple[Stage, ...] = RULES,
          shots: list[str] | None = None) -> list[tuple[Path, Stage, str | None]]:
    """Every artifact path of ``stages`` in a story's folder, in pipeline order, as
    (path, stage, shot); per-shot artifacts once per shot of ``shots``, per-character ones once
    per character sheet the story has (with the character id in place of the shot)."""
    found = []
    for st in stages:
        for artifact in st.artifacts:
            if artifact.inside:
                continue
            if artifact.per_shot:
                found += [(Path(story_folder) / artifact.path.format(shot=s), st, s)
                          for s in shots or []]
            elif artifact.per_character:
                found += [(Path(story_folder) / artifact.path.format(character=c), st, c)
                          for c in character_ids_in(story_folder)]
            else:
                found.append((Path(story_folder) / artifact.path, st, None))
    return found


@cache
def _patterns() -> tuple[tuple[re.Pattern[str], Stage, Artifact], ...]:
    patterns = []
    for st in RULES:
        for artifact in st.artifacts:
            text = re.escape(artifact.path).replace(re.escape("{shot}"), SHOT_ID).replace(
                re.escape("{character}"), CHARACTER_ID)
            if artifact.kind == _F:  # the folder, or a JSON file in it
                text += r"(?:/[^/]+\.json)?"
            patterns.append((re.compile(text), st, artifact))
    # files first, so that a file inside a folder artifact (vision/style.json) is itself
    return tuple(sorted(patterns, key=lambda p: p[2].kind == _F))


_STORY_PATH = re.compile(r"(?:^|.*/)" + RESULTS + r"/(?P<story>[^/]+)/(?P<rel>.+)$")


def split_path(file: str | Path) -> tuple[str | None, str]:
    """(story, story-relative path) of a results file; (None, path) for anything else."""
    match = _STORY_PATH.match(Path(file).as_posix())
    return (match["story"], match["rel"]) if match else (None, Path(file).as_posix())


def producer(file: str | Path) -> tuple[Stage, Artifact] | None:
    """The stage that writes a results file and which of its artifacts it is (None when no
    stage writes it)."""
    _, rel = split_path(file)
    for pattern, st, artifact in _patterns():
        if pattern.fullmatch(rel):
            return st, artifact
    return None
