"""Keyframe backends (stage ``keyframes``): one picture per shot.

The plan is a vision plan (schema ``plan``) or, with vision disabled, the bare shot (schema
``shot``). The picture is the output preset's size times the ``headroom`` option, so that the
video stage's camera move has room.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from storyreel.core.registry import BackendSpec


@runtime_checkable
class KeyframesBackend(Protocol):
    """A renderer: ``save(plan, path)`` writes a PNG atomically and returns its size."""

    def __init__(self, options: dict[str, Any]) -> None: ...

    def save(self, plan: dict[str, Any], path: str | Path) -> tuple[int, int]: ...

# The built-in backends of this kind (storyreel.core.registry reads them).
SPECS = (
    BackendSpec("keyframes", "animatic", "storyreel.backends.keyframes.animatic:AnimaticRenderer",
                summary="procedural storyboard renderer (Pillow, offline)"),
    BackendSpec("keyframes", "diffusers",
                "storyreel.backends.keyframes.diffusers:DiffusersKeyframes", gpu=True,
                extra="diffusers", uses_model=True,
                summary="diffusers text-to-image (SD 1.5, SDXL, SD3, FLUX), warm worker"),
)
