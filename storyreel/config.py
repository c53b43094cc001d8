"""Workflow configuration: schema validation with defaults, clear errors, story lookup.

Used by ``rules/common.smk`` before any job runs, and by tests and tools.
"""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from storyreel import SCHEMA_DIR
from storyreel.artifacts import error_path
from storyreel.errors import ConfigError

STORY_ID = r"[a-z0-9][a-z0-9_-]{0,63}"
SHOT_ID = r"sh[0-9]{3}"

CONFIG_SCHEMA = SCHEMA_DIR / "config.schema.yaml"
STORIES_SCHEMA = SCHEMA_DIR / "stories.schema.yaml"


# libyaml's safe loader when PyYAML has it: same results, about 15x faster than the pure-Python
# one, which matters for a stories file of hundreds of entries (benchmarks/scale.py).
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _load_yaml(path: Path) -> Any:
    with path.open(encoding="utf-8") as fh:
        return yaml.load(fh, Loader=_SafeLoader)  # noqa: S506 (a safe loader)


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
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        message += f" (allowed keys: {', '.join(allowed)})"
    return f"{where}: {error_path(error)}: {message}"


@functools.cache
def _validator(schema_path: Path) -> jsonschema.protocols.Validator:
    """One validator per schema file and process (the schemas are read once)."""
    return _DefaultsValidator(_load_yaml(schema_path))


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
    from storyreel import registry

    schema = _load_yaml(CONFIG_SCHEMA)
    stages = schema["properties"]["stages"]["properties"]
    for kind in registry.KINDS:
        enum = stages[kind]["properties"]["backend"]["enum"]
        enum += [name for name in registry.known(kind) if name not in enum]
    return schema


def load_config(config: dict[str, Any] | None) -> dict[str, Any]:
    """Validate the workflow config in place, with defaults; returns it."""
    return validate_with_defaults(config if config is not None else {}, CONFIG_SCHEMA, "config",
                                  config_schema())


def load_stories(path: str | Path, config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Read and validate the stories file; return ``{id: entry}`` with defaults applied.

    The story id pattern is enforced here (and again by Snakemake's wildcard constraints), so
    a hostile id such as ``../x`` can never name a path outside ``results/``.
    """
    path = Path(path)
    try:
        data = _load_yaml(path)
    except FileNotFoundError:
        raise ConfigError(f"stories: file not found: {path}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"stories: {path} is not valid YAML: {exc}") from None
    validate_with_defaults(data, STORIES_SCHEMA, f"stories file {path}")
    stories: dict[str, dict[str, Any]] = {}
    defaults = config["defaults"]
    for index, entry in enumerate(data["stories"]):
        story_id = entry["id"]
        if story_id in stories:
            raise ConfigError(
                f"stories file {path}: stories[{index}].id: duplicate id '{story_id}'"
            )
        merged = {
            "id": story_id,
            "idea": entry["idea"],
            "title": entry.get("title"),
            "duration_s": entry.get("duration_s", defaults["duration_s"]),
            "aspect": entry.get("aspect", defaults["aspect"]),
            "voice": entry.get("voice"),
            "style": entry.get("style", defaults["style"]),
            "seed": entry.get("seed", config["seed"]),
            "language": entry.get("language", defaults["language"]),
        }
        stories[story_id] = merged
    for story_id in config.get("shots", {}):
        if story_id not in stories:
            raise ConfigError(f"config: shots.{story_id}: no story with this id in {path}")
    return stories
