"""Workflow configuration: schema validation with defaults, clear errors, story lookup.

Used by ``rules/common.smk`` before any job runs, and by tests and tools.
"""

from __future__ import annotations

import copy
import functools
import re
import unicodedata
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from storyreel import SCHEMA_DIR
from storyreel.core.artifacts import error_path
from storyreel.core.pipeline import STORY_ID
from storyreel.core.errors import ConfigError

STORY_ID_RE = re.compile(rf"{STORY_ID}\Z")  # with match(): \Z, since $ matches before "\n"

# Languages the whole pipeline handles (text stages, voice, alignment, subtitles).
PIPELINE_LANGUAGES = ("en",)
# Voices each speech backend offers and the languages each speaks ("*": listed at run time).
VOICE_LANGUAGES: dict[str, dict[str, tuple[str, ...]]] = {
    "piper": {"joe": ("en",), "en_us-joe-medium": ("en",)},
    "espeak": {"*": ()},
}
PERIODIC = re.compile(r"((?P<value>.+)(?P=value){19,99})$")  # Snakemake's PeriodicityDetector
# Control characters stripped from ideas and titles: C0/C1 (newline and tab kept in ideas),
# DEL, and the bidirectional overrides and isolates that can disguise text.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?\Z")

CONFIG_SCHEMA = SCHEMA_DIR / "config.schema.yaml"
STORIES_SCHEMA = SCHEMA_DIR / "stories.schema.yaml"


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """libyaml's safe loader when PyYAML has it (about 15x faster than the pure-Python one, which
    matters for a stories file of hundreds of entries: benchmarks/scale.py). YAML 1.1 reads
    ``1e9`` as a string; this one reads any number written in YAML 1.2 style."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:\d+\.?\d*|\.\d+)[eE][-+]?\d+$"), list("-+0123456789."))


def _load_yaml(path: Path) -> Any:
    with path.open(encoding="utf-8") as fh:
        return yaml.load(fh, Loader=_Loader)  # noqa: S506 (a SafeLoader subclass)


def _with_defaults(validator_class: type) -> type:
    """A validator that fills in ``default`` values of absent properties as it validates."""
    validate_properties = validator_class.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):  # type: ignore[no-untyped-def]
        if isinstance(instance, dict):
            for name, sub in properties.items():
                if "default" in sub and name not in instance:
                    instance[name] = copy.deepcopy(sub["default"])
        yield from validate_properties(validator, properties, instance, schema)

    return jsonschema.validators.extend(validator_class, {"properties": set_defaults})


_DefaultsValidator = _with_defaults(jsonschema.Draft202012Validator)


def _message(where: str, error: jsonschema.ValidationError) -> str:
    message = error.message
    if (error.validator == "type" and isinstance(error.instance, str)
            and _NUMBER.match(error.instance.strip())):
        message += (" (a number written in quotes, or in a form YAML 1.1 reads as text such "
                    f"as 1e9: write it as {_as_yaml_number(error.instance)})")
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        message += f" (allowed keys: {', '.join(allowed)})"
    return f"{where}: {error_path(error)}: {message}"


@functools.cache
def _validator(schema_path: Path) -> jsonschema.protocols.Validator:
    """One validator per schema file and process (the schemas are read once)."""
    return _DefaultsValidator(_load_yaml(schema_path))


def _as_yaml_number(text: str) -> str:
    try:
        value = float(text)
    except ValueError:
        return text
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)


def validate_with_defaults(data: Any, schema_path: Path, where: str,
                           schema: dict[str, Any] | None = None) -> Any:
    """Validate ``data`` in place against a schema file (or the ``schema`` given), filling
    defaults.

    Raises :class:`ConfigError` with one line naming the key path of the first error.
    """
    validator = _DefaultsValidator(schema) if schema is not None else _validator(Path(schema_path))
    errors = sorted(validator.iter_errors(data), key=lambda e: (len(e.absolute_path), e.message))
    if errors:
        error = jsonschema.exceptions.best_match(errors)
        raise ConfigError(_message(where, error))
    return data


def config_schema() -> dict[str, Any]:
    """The config schema, each stage's ``backend`` enum listing every registered backend
    (the built-in ones the file lists, plus those of installed packages' entry points)."""
    from storyreel.core import registry

    schema = _load_yaml(CONFIG_SCHEMA)
    stages = schema["properties"]["stages"]["properties"]
    for kind in registry.KINDS:
        enum = stages[kind]["properties"]["backend"]["enum"]
        enum += [name for name in registry.known(kind) if name not in enum]
        fallback = stages[kind]["properties"].get("fallback")
        if fallback:  # a fallback may name any backend of the stage
            fallback["items"]["enum"] = list(enum)
    return schema


def _normalise_fallbacks(config: dict[str, Any]) -> None:
    """``fallback: espeak`` (a name) or ``fallback: null`` (older configs) as a list."""
    for options in (config.get("stages") or {}).values():
        if isinstance(options, dict) and "fallback" in options:
            value = options["fallback"]
            if value is None:
                options["fallback"] = []
            elif isinstance(value, str):
                options["fallback"] = [value]


def load_config(config: dict[str, Any] | None) -> dict[str, Any]:
    """Validate the workflow config in place, with defaults; returns it.

    Beyond the schema: ranges that must be ordered (``min_length_scale`` <=
    ``max_length_scale``).
    """
    config = config if config is not None else {}
    if isinstance(config, dict):
        _normalise_fallbacks(config)
    validate_with_defaults(config, CONFIG_SCHEMA, "config", config_schema())
    revise = config["stages"]["revise"]
    if revise["min_length_scale"] > revise["max_length_scale"]:
        raise ConfigError(
            f"config: stages.revise.min_length_scale: {revise['min_length_scale']} is greater "
            f"than stages.revise.max_length_scale ({revise['max_length_scale']})")
    return config


def strip_controls(text: str, keep_newlines: bool = True) -> str:
    """``text`` without control characters (newlines and tabs kept when ``keep_newlines``;
    else they become spaces)."""
    text = _CONTROL.sub("", text)
    if not keep_newlines:
        text = re.sub(r"[\t\r\n]+", " ", text)
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _scripts(text: str) -> dict[str, int]:
    """Letters of ``text`` counted by writing system (LATIN, ARABIC, CJK, ...)."""
    counts: dict[str, int] = {}
    for char in text:
        if char.isalpha():
            name = unicodedata.name(char, "UNKNOWN").split(" ")[0]
            if name in ("CJK", "HIRAGANA", "KATAKANA", "HANGUL"):
                name = "CJK"
            counts[name] = counts.get(name, 0) + 1
    return counts


def voice_catalogue(backend: str) -> dict[str, tuple[str, ...]]:
    """Voice name -> languages it speaks, for a speech backend."""
    voices = dict(VOICE_LANGUAGES.get(backend, {}))
    if "*" in voices:
        voices.pop("*")
        try:
            from storyreel.backends.voice.espeak import available_voices

            names = available_voices()
        except Exception:  # noqa: BLE001 (listing voices must never break validation)
            names = ["en-us"]
        for name in names:
            voices[name] = (name.split("-")[0].split("+")[0],)
    return voices


def default_voice(backend: str) -> str | None:
    return {"piper": "joe", "espeak": "en-us"}.get(backend)


def _check_voice_and_language(where: str, index: int, entry: dict[str, Any],
                              language: str, config: dict[str, Any]) -> None:
    backend = config["stages"]["voice"]["backend"]
    catalogue = voice_catalogue(backend)
    voice = entry.get("voice")
    key = f"{where}: stories[{index}]"
    if voice is not None:
        base = voice.split("+", 1)[0].lower()
        if base not in {v.lower() for v in catalogue}:
            shown = ", ".join(sorted(catalogue)[:20]) + (" ..." if len(catalogue) > 20 else "")
            raise ConfigError(f"{key}.voice: unknown voice '{voice}' for the {backend} backend "
                              f"(stages.voice.backend); voices: {shown}")
    if language not in PIPELINE_LANGUAGES:
        raise ConfigError(
            f"{key}.language: '{language}' is not supported: storyreel writes, narrates, aligns "
            f"and subtitles {', '.join(PIPELINE_LANGUAGES)} only (voices that speak "
            f"'{language}' for the {backend} backend: "
            + (", ".join(v for v, langs in sorted(catalogue.items()) if language in langs)
               or "none") + ")")
    name = (voice or default_voice(backend) or "").split("+", 1)[0].lower()
    spoken = {v.lower(): langs for v, langs in catalogue.items()}.get(name)
    if spoken is not None and language not in spoken:
        able = [v for v, langs in sorted(catalogue.items()) if language in langs]
        raise ConfigError(
            f"{key}.voice: voice '{name}' speaks {', '.join(spoken) or 'no known language'}, "
            f"not the story's language '{language}'; voices that speak it: "
            f"{', '.join(able[:20]) or 'none'}")


def check_idea(where: str, index: int, idea: str, language: str,
               options: dict[str, Any]) -> None:
    """Refuse an idea without words, one over the documented limits, or one written in
    another script than the story's language."""
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
    longest = max(idea.split(), key=len)
    if len(longest) > int(options["max_word_chars"]):
        raise ConfigError(
            f"{key}: has a {len(longest)}-character word ('{longest[:20]}...'), over the limit "
            f"of {options['max_word_chars']} (stages.idea.max_word_chars)")
    scripts = _scripts(idea)
    letters = sum(scripts.values())
    foreign = {k: v for k, v in scripts.items() if k != "LATIN"}
    if language in PIPELINE_LANGUAGES and letters and sum(foreign.values()) > 0.2 * letters:
        script = max(foreign, key=foreign.__getitem__).title()
        raise ConfigError(
            f"{key}: is written mostly in {script} script, but the story's language is "
            f"'{language}' and storyreel speaks {', '.join(PIPELINE_LANGUAGES)} only")


def load_stories(path: str | Path, config: dict[str, Any]) -> dict[str, dict[str, Any]]:
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
        data = _load_yaml(path)
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
        language = entry.get("language", defaults["language"])
        check_idea(where, index, entry["idea"], language, idea_options)
        title = entry.get("title")
        if title is not None:
            title = " ".join(title.split()) or None
            if title and len(title) > 200:
                raise ConfigError(f"{where}: stories[{index}].title: is {len(title)} characters "
                                  "long, over the limit of 200")
        _check_voice_and_language(where, index, entry, language, config)
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
        }
        stories[story_id] = merged
    for story_id in config.get("shots", {}):
        if story_id not in stories:
            raise ConfigError(f"config: shots.{story_id}: no story with this id in {path}")
    return stories
