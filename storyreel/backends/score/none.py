"""``score/none``: no scorer. The score stage does not run and best-of-N is refused."""

from __future__ import annotations

from typing import Any


class NoScorer:
    """Embeds nothing; the workflow runs as if no scorer existed."""

    name = "none"
    model: str | None = None

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options

    def embed_images(self, paths: list[str]) -> list[list[float]]:
        return []

    def embed_texts(self, texts: list[str]) -> list[list[float]]:
        return []
