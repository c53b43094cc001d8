"""Limits on what a config or stories file may hold, checked before any schema sees it.

A hostile or mistaken file must be refused in one line, quickly, never hang or crash the
validator: a file over :data:`MAX_FILE_BYTES`; YAML nested deeper than :data:`MAX_DEPTH`
(libyaml's composer recurses in C and crashes the interpreter on a file of ``[[[[…``); YAML
aliases that expand to more than :data:`MAX_VALUES` values (the "billion laughs" shape: PyYAML
builds it quickly with shared objects, but every later walk, the schema validator's included,
sees it expanded) or that refer to themselves; and, anywhere in the data, a number that is NaN,
infinite or beyond :data:`MAX_NUMBER`, a string over :data:`MAX_STRING` characters or a list or
mapping over :data:`MAX_ITEMS` entries. Each refusal names the key path. The schemas then set
the ranges that make sense for each key.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import yaml

from storyreel.core.errors import ConfigError

MAX_FILE_BYTES = {"config": 1 << 20, "stories": 16 << 20}  # 1 MiB, 16 MiB
MAX_DEPTH = 32  # nesting of mappings and lists
MAX_VALUES = 1_000_000  # values, once every alias is expanded
MAX_NUMBER = 1e15  # beyond this a number is a mistake (and loses precision as a float)
MAX_STRING = 1_000_000  # characters (an idea has its own, lower limit)
MAX_ITEMS = 100_000  # entries of one list or mapping
_OPEN = (yaml.SequenceStartEvent, yaml.MappingStartEvent)
_CLOSE = (yaml.SequenceEndEvent, yaml.MappingEndEvent)


def check_size(path: Path, where: str, kind: str) -> None:
    """Refuse a file over the size limit of its kind (``config`` or ``stories``)."""
    limit = MAX_FILE_BYTES[kind]
    try:
        size = path.stat().st_size
    except OSError:
        return  # the reader says why it cannot read it
    if size > limit:
        raise ConfigError(f"{where}: the file is {size / 2**20:.1f} MiB, over the limit of "
                          f"{limit / 2**20:.0f} MiB for a {kind} file")


def check_depth(text: str, where: str, loader: type) -> None:
    """Refuse YAML nested deeper than :data:`MAX_DEPTH`, reading its events (libyaml's parser
    keeps its own stack; only the composer recurses) and stopping at the first level too deep."""
    depth = 0
    for event in yaml.parse(text, Loader=loader):
        if isinstance(event, _OPEN):
            depth += 1
            if depth > MAX_DEPTH:
                line = event.start_mark.line + 1 if event.start_mark else "?"
                raise ConfigError(f"{where}: line {line}: nested more than {MAX_DEPTH} levels "
                                  "deep")
        elif isinstance(event, _CLOSE):
            depth -= 1


def _key(path: str, key: Any) -> str:
    if isinstance(key, int) and not isinstance(key, bool):
        return f"{path}[{key}]"
    text = str(key)
    text = text if len(text) <= 40 and text.isprintable() else repr(text[:40]) + "…"
    return f"{path}.{text}" if path else text


def _scalar(value: Any, path: str, where: str) -> None:
    shown = path or "(top level)"
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{where}: {shown}: {value} is not a finite number (NaN and infinity "
                          "are refused)")
    if isinstance(value, int | float) and not isinstance(value, bool) and \
            abs(value) > MAX_NUMBER:
        raise ConfigError(f"{where}: {shown}: {float(value):.3g} is too large (the limit is "
                          f"{MAX_NUMBER:.0e})")
    if isinstance(value, str | bytes) and len(value) > MAX_STRING:
        raise ConfigError(f"{where}: {shown}: {len(value):,} characters, over the limit of "
                          f"{MAX_STRING:,}")


def check_values(data: Any, where: str) -> None:
    """Refuse non-finite or huge numbers, over-long strings and lists, aliases that expand too
    far or refer to themselves (see the module doc). Linear in the file's size: a shared
    (aliased) value is measured once and counted each time it is used."""
    sizes: dict[int, int] = {}
    active: set[int] = set()

    def measure(value: Any, path: str, depth: int) -> int:
        if not isinstance(value, dict | list):
            _scalar(value, path, where)
            return 1
        ident = id(value)
        if ident in sizes:
            return sizes[ident]
        shown = path or "(top level)"
        if ident in active:
            raise ConfigError(f"{where}: {shown}: a YAML alias refers to itself (a recursive "
                              "structure)")
        if depth > MAX_DEPTH:
            raise ConfigError(f"{where}: {shown}: nested more than {MAX_DEPTH} levels deep")
        if len(value) > MAX_ITEMS:
            raise ConfigError(f"{where}: {shown}: {len(value):,} entries, over the limit of "
                              f"{MAX_ITEMS:,}")
        active.add(ident)
        total = 1
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, child in items:
            if isinstance(value, dict):
                _scalar(key, path, where)
            total += measure(child, _key(path, key), depth + 1)
            if total > MAX_VALUES:
                raise ConfigError(
                    f"{where}: {shown}: expands to more than {MAX_VALUES:,} values through "
                    "YAML aliases (an alias bomb?); write the values out or use fewer aliases")
        active.discard(ident)
        sizes[ident] = total
        return total

    measure(data, "", 0)
