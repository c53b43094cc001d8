"""Post backends (stage ``post``): the finished film from the clips, narration and subtitles.

The post stage then measures the file and writes the manifest (storyreel.stages.post); a backend
only makes the film.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from storyreel.core.registry import BackendSpec
from storyreel.core.types import EditJob


@runtime_checkable
class PostBackend(Protocol):
    """An editor of the film: ``run(job)`` writes ``job.out`` and returns the edit's figures
    (at least ``frames``; ``stream_copy`` when the picture was joined without re-encoding)."""

    def __init__(self, options: dict[str, Any]) -> None: ...

    def run(self, job: EditJob) -> dict[str, Any]: ...

# The built-in backends of this kind (storyreel.core.registry reads them).
SPECS = (
    BackendSpec("post", "ffmpeg", "storyreel.backends.post.ffmpeg:FfmpegPost",
                summary="ffmpeg edit, loudness, subtitles and mux"),
)
