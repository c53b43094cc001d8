"""The stories file: validated once, with defaults, and cached for the workflow's many parses.

:func:`validate_stories` makes every check before any job runs, each failing with one line that
names the key path: the schema (story ids match ``[a-z0-9][a-z0-9_-]{0,63}`` to the very end, so
a hostile id such as ``../x`` or ``x\\n`` never names a path), duplicate and periodic ids, ideas
without words or over the limits, unknown voices (as the voice backends' specs list them), and
the story's language (given, the config's default, or detected) against what the configured
backend of every stage handles (:mod:`storyreel.core.languages`). Control characters are
stripped from ideas and titles.

Snakemake parses the workflow once per run on the machine that drives it, and again inside
every job on a cluster (twice per SLURM job: the batch step and the job step). Reading and
validating a 1 000-story YAML file takes about 0.4 s, so a batch would pay it thousands of
times. :func:`load_stories` validates once and keeps the result as JSON under
``.snakemake/storyreel/``, keyed by everything the result depends on: the stories file's bytes,
the stories schema, the config keys that fill its defaults and the validating code itself. Any
change to one of them is a cache miss, which validates again (and reports errors as before).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import tempfile
from pathlib import Path
from typing import Any

import yaml

from storyreel.core import bounds, languages
from storyreel.core import config as srconfig
from storyreel.core.config import STORIES_SCHEMA, load_user_yaml, validate_with_defaults
from storyreel.core.errors import ConfigError
from storyreel.core.pipeline import RUN_STATE, STORY_ID

log = logging.getLogger(__name__)

CACHE_DIR = RUN_STATE
STORY_ID_RE = re.compile(rf"{STORY_ID}\Z")  # with match(): \Z, since $ matches before "\n"
PERIODIC = re.compile(r"((?P<value>.+)(?P=value){19,99})$")  # Snakemake's PeriodicityDetector
# Control characters stripped from ideas and titles: C0/C1 (newline and tab kept in ideas),
# DEL, and the bidirectional overrides and isolates that can disguise text.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def strip_controls(text: str, keep_newlines: bool = True) -> str:
    """``text`` without control characters (newlines and tabs kept when ``keep_newlines``;
    else they become spaces)."""
    text = _CONTROL.sub("", text)
    if not keep_newlines:
        text = re.sub(r"[\t\r\n]+", " ", text)
    return text.replace("\r\n", "\n").replace("\r", "\n")


def check_idea(where: str, index: int, idea: str, language: str,
               options: dict[str, Any]) -> None:
    """Refuse an idea without words, one over the documented limits, or an English story
    written mostly in another script."""
    key = f"{where}: stories[{index}].idea"
    if not idea.strip():
        raise ConfigError(f"{key}: is empty (or only whitespace and control characters)")
    if not any(ch.isalnum() for ch in idea):
        raise ConfigError(f"{key}: has no words (only punctuation, symbols or emoji)")
    limit = int(options["max_chars"])
    if len(idea) > limit:
        raise ConfigError(
            f"{key}: is {len(idea)} characters long, over the limit of {limit} "
            "(stages.idea.max_chars); shorten it or raise the limit (nothing is cut silently)")
    # words of spaceless scripts (Chinese, Japanese) are not runs between spaces
    longest = max(languages.SPACELESS.sub(" ", idea).split() or [""], key=len)
    if len(longest) > int(options["max_word_chars"]):
        raise ConfigError(
            f"{key}: has a {len(longest)}-character word ('{longest[:20]}...'), over the limit "
            f"of {options['max_word_chars']} (stages.idea.max_word_chars)")
    scripts = languages.scripts(idea)
    letters = sum(scripts.values())
    foreign = {k: v for k, v in scripts.items() if k != "LATIN"}
    if languages.primary(language) == "en" and letters and sum(foreign.values()) > 0.2 * letters:
        script = max(foreign, key=foreign.__getitem__).title()
        raise ConfigError(
            f"{key}: is written mostly in {script} script, but the story's language is "
            f"'{language}' (give the story's own `language`, or leave it out to detect it)")


def validate_stories(path: str | Path, config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Read and validate the stories file; return ``{id: entry}`` with defaults applied.

    Every check happens here, before any job runs, each failing with one line that names the
    key path: the schema (story ids match ``[a-z0-9][a-z0-9_-]{0,63}`` to the very end, so a
    hostile id such as ``../x`` or ``x\\n`` never names a path), duplicate and periodic ids,
    ideas without words or over the limits, unknown voices, languages no voice speaks.
    Control characters are stripped from ideas and titles.
    """
    path = Path(path)
    where = f"stories file {path}"
    try:
        data = load_user_yaml(path, where, "stories")
    except FileNotFoundError:
        raise ConfigError(f"stories: file not found: {path}") from None
    except IsADirectoryError:
        raise ConfigError(f"stories: {path} is a directory, not a YAML file") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"stories: {path} is not UTF-8 text (byte {exc.start}: "
                          f"{exc.reason})") from None
    except OSError as exc:
        raise ConfigError(f"stories: cannot read {path}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        first = " ".join(str(exc).split())
        raise ConfigError(f"stories: {path} is not valid YAML: {first}") from None
    if isinstance(data, dict):
        for entry in data.get("stories") or []:
            if isinstance(entry, dict):
                for name in ("idea", "title"):
                    if isinstance(entry.get(name), str):
                        entry[name] = strip_controls(entry[name], keep_newlines=name == "idea")
    validate_with_defaults(data, STORIES_SCHEMA, where)
    stories: dict[str, dict[str, Any]] = {}
    defaults = config["defaults"]
    among = languages.detectable(config) if defaults["language"] == languages.AUTO else []
    idea_options = config["stages"]["idea"]
    for index, entry in enumerate(data["stories"]):
        story_id = entry["id"]
        if story_id in stories:
            raise ConfigError(f"{where}: stories[{index}].id: duplicate id '{story_id}'")
        periodic = PERIODIC.search(story_id)
        if periodic:
            raise ConfigError(
                f"{where}: stories[{index}].id: '{story_id}' repeats '{periodic['value']}' 20 "
                "times or more, which Snakemake takes for a cyclic rule (PeriodicWildcardError);"
                " choose another id")
        language, detected = entry.get("language", defaults["language"]), None
        if language == languages.AUTO:
            language = detected = languages.detect(entry["idea"], among)[0]
        check_idea(where, index, entry["idea"], language, idea_options)
        title = entry.get("title")
        if title is not None:
            title = " ".join(title.split()) or None
            if title and len(title) > 200:
                raise ConfigError(f"{where}: stories[{index}].title: is {len(title)} characters "
                                  "long, over the limit of 200")
        premise = languages.is_premise(entry["idea"], int(idea_options["premise_max_words"]))
        languages.check_story(f"{where}: stories[{index}]", language, premise,
                              entry.get("voice"), config)
        merged = {
            "id": story_id,
            "idea": entry["idea"],
            "title": title,
            "duration_s": entry.get("duration_s", defaults["duration_s"]),
            "aspect": entry.get("aspect", defaults["aspect"]),
            "voice": entry.get("voice"),
            "style": entry.get("style", defaults["style"]),
            "seed": entry.get("seed", config["seed"]),
            "language": language,
            "detected_language": detected,
        }
        stories[story_id] = merged
    for story_id in config.get("shots", {}):
        if story_id not in stories:
            raise ConfigError(f"config: shots.{story_id}: no story with this id in {path}")
    return stories


def _key(raw: bytes, config: dict[str, Any]) -> str:
    digest = hashlib.sha256()
    for part in (raw, STORIES_SCHEMA.read_bytes(), Path(srconfig.__file__).read_bytes(),
                 Path(bounds.__file__).read_bytes(), Path(__file__).read_bytes(),
                 Path(languages.__file__).read_bytes()):
        digest.update(hashlib.sha256(part).digest())
    # the config keys load_stories reads (defaults, seed, the ids under `shots`, the stages
    # whose backends the story's language is checked against)
    used = {"defaults": config.get("defaults"), "seed": config.get("seed"),
            "shots": sorted(config.get("shots", {})),
            "stages": config.get("stages")}
    digest.update(json.dumps(used, sort_keys=True, default=str).encode())
    return digest.hexdigest()[:32]


def load_stories(path: str | Path, config: dict[str, Any],
                 cache_dir: Path = CACHE_DIR) -> dict[str, dict[str, Any]]:
    """:func:`validate_stories`, answered from the cache when nothing changed.

    ``config`` must already be validated (defaults filled in).
    """
    try:
        raw = Path(path).read_bytes()
    except OSError:
        return validate_stories(path, config)  # its own clear error
    cached = cache_dir / f"stories-{_key(raw, config)}.json"
    try:
        with cached.open(encoding="utf-8") as fh:
            return json.load(fh)
    except (OSError, ValueError):
        pass
    stories = validate_stories(path, config)
    _write(cached, stories)
    return stories


def _write(target: Path, stories: dict[str, dict[str, Any]]) -> None:
    """Write atomically (jobs may read it at the same moment); a read-only place is no error."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".stories-", suffix=".tmp")
    except OSError:
        return
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(stories, fh, ensure_ascii=False)
        os.replace(tmp, target)
        for old in target.parent.glob("stories-*.json"):
            if old != target:
                old.unlink(missing_ok=True)
    except OSError:
        Path(tmp).unlink(missing_ok=True)
