"""Keyframe backends (stage ``keyframes``): one picture per shot.

The plan is a vision plan (schema ``plan``) or, with vision disabled, the bare shot (schema
``shot``). The picture is the output preset's size times the ``headroom`` option, so that the
video stage's camera move has room.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class KeyframesBackend(Protocol):
    """A renderer: ``save(plan, path)`` writes a PNG atomically and returns its size."""

    def __init__(self, options: dict[str, Any]) -> None: ...

    def save(self, plan: dict[str, Any], path: str | Path) -> tuple[int, int]: ...
