"""Video backends (stage ``video``): animate a shot's keyframe into a clip.

A clip covers the shot's share of the narration timeline in frames
(:func:`storyreel.media.ffmpeg.shot_frames`) plus the crossfade overlap when the shot crossfades
into the next; it is encoded with the film's settings (:func:`storyreel.media.ffmpeg.x264_args`)
with the subtitles burned in, so post joins the clips without encoding them again (docs/media.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from storyreel.core.registry import BackendSpec


@runtime_checkable
class VideoBackend(Protocol):
    """An animator: ``render(...)`` writes the clip atomically and returns its frame count."""

    def __init__(self, options: dict[str, Any]) -> None: ...

    def render(self, png: str | Path, plan: dict[str, Any], out: str | Path,
               output: dict[str, Any], crossfade_s: float, threads: int = 1,
               subtitles: str | Path | None = None) -> int: ...

# The built-in backends of this kind (storyreel.core.registry reads them).
SPECS = (
    BackendSpec("video", "kenburns", "storyreel.backends.video.kenburns:KenBurns",
                summary="eased camera moves over a still keyframe"),
    BackendSpec("video", "diffusers", "storyreel.backends.video.diffusers:DiffusersVideo",
                gpu=True, extra="diffusers", uses_model=True,
                summary="diffusers image-to-video (SVD, LTX, CogVideoX, Wan), warm worker"),
)
