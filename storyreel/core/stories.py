"""The validated stories file, cached as JSON for the workflow's many parses.

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
import os
import tempfile
from pathlib import Path
from typing import Any

from storyreel.core import config as srconfig

CACHE_DIR = Path(".snakemake") / "storyreel"


def _key(raw: bytes, config: dict[str, Any]) -> str:
    digest = hashlib.sha256()
    for part in (raw, srconfig.STORIES_SCHEMA.read_bytes(), Path(srconfig.__file__).read_bytes(),
                 Path(__file__).read_bytes()):
        digest.update(hashlib.sha256(part).digest())
    # the config keys load_stories reads (defaults, seed, the ids under `shots`)
    used = {"defaults": config.get("defaults"), "seed": config.get("seed"),
            "shots": sorted(config.get("shots", {}))}
    digest.update(json.dumps(used, sort_keys=True, default=str).encode())
    return digest.hexdigest()[:32]


def load_stories(path: str | Path, config: dict[str, Any],
                 cache_dir: Path = CACHE_DIR) -> dict[str, dict[str, Any]]:
    """:func:`storyreel.core.config.load_stories`, answered from the cache when nothing changed.

    ``config`` must already be validated (defaults filled in).
    """
    try:
        raw = Path(path).read_bytes()
    except OSError:
        return srconfig.load_stories(path, config)  # its own clear error
    cached = cache_dir / f"stories-{_key(raw, config)}.json"
    try:
        with cached.open(encoding="utf-8") as fh:
            return json.load(fh)
    except (OSError, ValueError):
        pass
    stories = srconfig.load_stories(path, config)
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
