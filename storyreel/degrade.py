"""Per-shot degradation: out of GPU memory -> the stage's fallback backend, flagged.

A stand-in for ``storyreel.fallback.with_fallback`` (helper `reliability`), with the same call
shape, so the keyframes and video stages switch to it by changing one import. A degraded shot is
written beside its output as ``{shot}.degraded.json`` (removed again when the shot renders
normally); post gathers these into ``manifest.json["degradations"]``.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from storyreel.diffusion import ModelOutOfMemory

log = logging.getLogger(__name__)


def with_fallback(stage: str, options: dict[str, Any], call: Callable[[str], Any],
                  shot: str | None = None) -> tuple[Any, list[dict[str, Any]]]:
    """``call(backend)`` with the configured backend, then each of ``options["fallback"]`` while
    the previous one runs out of GPU memory; returns (result, degradation records)."""
    names = [options["backend"], *[n for n in options["fallback"] if n != options["backend"]]]
    records: list[dict[str, Any]] = []
    for i, name in enumerate(names):
        try:
            return call(name), records
        except ModelOutOfMemory as exc:
            if i == len(names) - 1:
                raise
            reason = f"{name}: {exc}"
            log.warning("%s %s degraded to %s: %s", stage, shot, names[i + 1], reason)
            records.append({"stage": stage, "shot": shot, "backend": names[i + 1],
                            "reason": reason})
    raise AssertionError("unreachable")  # pragma: no cover


def sidecar(out: str | Path) -> Path:
    path = Path(out)
    return path.with_name(path.stem + ".degraded.json")


def write_records(out: str | Path, records: list[dict[str, Any]]) -> None:
    """Flag a shot's output as degraded (or clear an old flag when ``records`` is empty)."""
    path = sidecar(out)
    if not records:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        return
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(records, indent=1), encoding="utf-8")
    tmp.replace(path)


def gather(outputs: list[str]) -> list[dict[str, Any]]:
    """The degradation records of some shot outputs, in order."""
    records: list[dict[str, Any]] = []
    for out in outputs:
        path = sidecar(out)
        if path.exists():
            records += json.loads(path.read_text(encoding="utf-8"))
    return records
