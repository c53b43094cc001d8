"""The config and stories a run would use, read as Snakemake reads them, for the commands that
run nothing (``storyreel status``, ``storyreel doctor``): the workflow's ``config/config.yaml``,
then each ``--configfile``, then ``--config KEY=VALUE`` (parsed by Snakemake's own parser)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from storyreel.core import config as srconfig
from storyreel.core import pipeline, stories
from storyreel.core.errors import ConfigError

CONFIG_FILE = Path("config") / "config.yaml"  # the Snakefile's `configfile:`


def _merge(base: dict[str, Any], update: dict[str, Any]) -> None:
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = value


def _yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not YAML ({str(exc).splitlines()[0]})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a config file must hold a mapping of keys")
    return data


def overrides(entries: Sequence[str]) -> dict[str, Any]:
    """``--config`` entries as Snakemake parses them."""
    if not entries:
        return {}
    from snakemake.cli import parse_config  # Snakemake's own parser (imported when needed)

    try:
        return parse_config(list(entries))
    except (ValueError, AssertionError) as exc:
        raise ConfigError(f"--config: {exc}") from None


def raw(workdir: Path, configfiles: Sequence[str | Path] = (),
        config: Sequence[str] = ()) -> dict[str, Any]:
    """The merged config, not validated: what Snakemake's ``config`` holds at the start."""
    merged: dict[str, Any] = {}
    base = workdir / CONFIG_FILE
    if base.exists():
        merged = _yaml(base)
    for path in configfiles:
        path = Path(path)
        _merge(merged, _yaml(path if path.is_absolute() else workdir / path))
    _merge(merged, overrides(config))
    return merged


def load(workdir: Path, configfiles: Sequence[str | Path] = (),
         config: Sequence[str] = ()) -> dict[str, Any]:
    """The validated config, defaults filled in (:class:`ConfigError` with the key path)."""
    return srconfig.load_config(raw(workdir, configfiles, config))


def load_stories(workdir: Path, config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The run's validated stories (``config`` validated)."""
    path = Path(config["stories"])
    return stories.load_stories(path if path.is_absolute() else workdir / path, config,
                                cache_dir=workdir / pipeline.RUN_STATE)


def story_ids(workdir: Path, configfiles: Sequence[str | Path] = (),
              config: Sequence[str] = ()) -> list[str]:
    """The ids in the run's stories file, in file order, without validating anything (a broken
    file lists none)."""
    try:
        merged = raw(workdir, configfiles, config)
        path = Path(merged.get("stories") or srconfig.load_config({})["stories"])
        data = _yaml(path if path.is_absolute() else workdir / path)
    except ConfigError:
        return []
    entries = data.get("stories") if isinstance(data, dict) else None
    return [e["id"] for e in entries or [] if isinstance(e, dict) and isinstance(e.get("id"), str)]
