"""Scorer backends (stage ``score``): pictures and texts embedded in one space.

A scorer turns pictures and texts into unit vectors of one embedding space (CLIP and its family:
a picture and the text that describes it lie close). Every score storyreel reports is built on
those vectors in :mod:`storyreel.stages.score`: how well a keyframe shows its shot's prompt (CLIP
score), how alike a character looks across shots and against its portrait, and how steady a clip
stays from frame to frame. The ``none`` scorer embeds nothing and loads nothing: with it the
workflow runs as if no scorer existed.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from storyreel.core.registry import BackendSpec


@runtime_checkable
class ScoreBackend(Protocol):
    """An embedder: unit-length vectors of pictures (files) and of texts."""

    model: str | None  # the model named in the manifest (None when the scorer loads none)

    def __init__(self, options: dict[str, Any]) -> None: ...

    def embed_images(self, paths: list[str]) -> list[list[float]]:
        """One unit vector per picture file (a video's frames are passed as picture files)."""
        ...

    def embed_texts(self, texts: list[str]) -> list[list[float]]:
        """One unit vector per text (cut to the model's token budget)."""
        ...


# The built-in backends of this kind (storyreel.core.registry reads them).
SPECS = (
    BackendSpec("score", "none", "storyreel.backends.score.none:NoScorer",
                summary="scores nothing and loads nothing (no quality gate)"),
    BackendSpec("score", "clip", "storyreel.backends.score.clip:ClipScorer", gpu=True,
                extra="llm", uses_model=True,
                summary="a CLIP-family model (CLIP, SigLIP) through transformers, warm worker"),
)
