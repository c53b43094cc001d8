"""Workflow configuration: schema validation with defaults and one clear line per error.

Used by ``rules/common.smk`` before any job runs, and by tests and tools. The stories file is
validated by :mod:`storyreel.core.stories`. Each stage's block is completed with the settings
its registered backends declare (:attr:`storyreel.core.registry.BackendSpec.options`), so a
backend installed from another package has its settings validated and documented like the
built-ins.
"""

from __future__ import annotations

import copy
import functools
import re
import sys
from pathlib import Path
from typing import Any, NoReturn

import jsonschema
import yaml

from storyreel import SCHEMA_DIR
from storyreel.core import bounds
from storyreel.core.artifacts import error_path
from storyreel.core.errors import ConfigError

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


def load_yaml(path: Path) -> Any:
    """A YAML file of our own (a schema): trusted, read as it is."""
    with path.open(encoding="utf-8") as fh:
        return yaml.load(fh, Loader=_Loader)  # noqa: S506 (a SafeLoader subclass)


def load_user_yaml(path: Path, where: str, kind: str) -> Any:
    """A user's YAML file (``kind`` ``config`` or ``stories``), read within the limits of
    :mod:`storyreel.core.bounds`: its size, nesting, alias expansion and values. Raises
    :class:`ConfigError` (one line, the key path named), or the reader's own ``OSError``,
    ``UnicodeDecodeError`` or ``yaml.YAMLError``."""
    bounds.check_size(path, where, kind)
    text = path.read_text(encoding="utf-8")
    bounds.check_depth(text, where, _Loader)
    try:
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 (a SafeLoader subclass)
    except (ValueError, TypeError, OverflowError) as exc:  # a date such as 2024-13-45
        raise yaml.YAMLError(" ".join(str(exc).split())) from None
    bounds.check_values(data, where)
    return data


def refuse(message: str) -> NoReturn:
    """End the workflow's start with one line on the console and exit status 1 (a refusal
    raised as an exception would be wrapped by Snakemake in a three-line WorkflowError)."""
    print(f"storyreel: {' '.join(message.split())}", file=sys.stderr)
    sys.exit(1)


def refuse_lines(message: str) -> NoReturn:
    """:func:`refuse` for a message of several lines (one per failed check), kept as written."""
    print(message, file=sys.stderr)
    sys.exit(1)


def check_config_file(path: str | Path, where: str = "config") -> None:
    """Refuse (one line, exit 1) a config file Snakemake is about to read, or has read, that is
    over the size limit, not YAML, nested too deep, or full of aliases or non-finite numbers."""
    path = Path(path)
    if not path.is_file():
        return  # Snakemake says it is missing
    try:
        load_user_yaml(path, f"{where} {path}", "config")
    except ConfigError as exc:
        refuse(str(exc))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        refuse(f"{where} {path}: cannot be read as UTF-8 YAML: {exc}")


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
    return _DefaultsValidator(load_yaml(schema_path))


def _as_yaml_number(text: str) -> str:
    try:
        value = float(text)
    except ValueError:
        return text
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)


def validate_with_defaults(data: Any, schema_path: Path, where: str,
                           validator: jsonschema.protocols.Validator | None = None) -> Any:
    """Validate ``data`` in place against a schema file (or with the ``validator`` given),
    filling defaults.

    Raises :class:`ConfigError` with one line naming the key path of the first error.
    """
    validator = validator or _validator(Path(schema_path))
    errors = sorted(validator.iter_errors(data), key=lambda e: (len(e.absolute_path), e.message))
    if errors:
        error = jsonschema.exceptions.best_match(errors)
        raise ConfigError(_message(where, error))
    return data


@functools.cache
def config_schema() -> dict[str, Any]:
    """The config schema, completed by the backend registry: each stage's ``backend`` (and
    ``fallback``) enum lists every registered backend, and the settings a backend declares
    (:attr:`~storyreel.core.registry.BackendSpec.options`) join its stage's block. Read once per
    process; do not change the result."""
    from storyreel.core import registry

    schema = load_yaml(CONFIG_SCHEMA)
    stages = schema["properties"]["stages"]["properties"]
    for kind in registry.kinds():
        block = stages[kind]["properties"]
        enum = block["backend"]["enum"]
        enum += [name for name in registry.known(kind) if name not in enum]
        if "fallback" in block:  # a fallback may name any backend of the stage
            block["fallback"]["items"]["enum"] = list(enum)
        for name in registry.known(kind):
            for key, setting in registry.spec(kind, name).options.items():
                if key in block:
                    raise ConfigError(f"backend {kind}/{name} declares the setting '{key}', "
                                      f"which stages.{kind} already has")
                block[key] = {**setting, "description": f"{kind}/{name}: "
                              f"{setting.get('description', '')}".strip()}
    return schema


@functools.cache
def _config_validator() -> jsonschema.protocols.Validator:
    return _DefaultsValidator(config_schema())


def _normalise_fallbacks(config: dict[str, Any]) -> None:
    """``fallback: espeak`` (a name) or ``fallback: null`` (older configs) as a list."""
    stages = config.get("stages")
    for options in (stages.values() if isinstance(stages, dict) else ()):
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
    bounds.check_values(config, "config")
    if isinstance(config, dict):
        _normalise_fallbacks(config)
    validate_with_defaults(config, CONFIG_SCHEMA, "config", validator=_config_validator())
    stages = config["stages"]
    if stages["score"]["backend"] == "none":
        for key, value, asks in (("keyframes.candidates", stages["keyframes"]["candidates"],
                                  stages["keyframes"]["candidates"] > 1),
                                 ("score.min_clip_score", stages["score"]["min_clip_score"],
                                  stages["score"]["min_clip_score"] is not None)):
            if asks:
                raise ConfigError(f"config: stages.{key}: {value} needs a scorer to rank the "
                                  "pictures: set stages.score.backend (e.g. clip)")
    revise = config["stages"]["revise"]
    if revise["min_length_scale"] > revise["max_length_scale"]:
        raise ConfigError(
            f"config: stages.revise.min_length_scale: {revise['min_length_scale']} is greater "
            f"than stages.revise.max_length_scale ({revise['max_length_scale']})")
    return config


@functools.cache
def _defaults() -> dict[str, Any]:
    return load_config({})


def options_for(stage: str, **overrides: Any) -> dict[str, Any]:
    """A stage's config block as the workflow hands it to a backend: the schema's defaults with
    ``overrides`` on top (for tests, notebooks and third-party backends)."""
    if overrides:
        return load_config({"stages": {stage: dict(overrides)}})["stages"][stage]
    return copy.deepcopy(_defaults()["stages"][stage])
