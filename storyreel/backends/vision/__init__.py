"""Vision backends (stage ``vision``): a story's style and each shot's render plan.

A plan's ``elements`` name only words of :data:`storyreel.core.vocabulary.DRAWABLE`, which the
keyframe renderers draw.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from storyreel.core.registry import BackendSpec


@runtime_checkable
class VisionBackend(Protocol):
    """A vision backend: the story's style (schema ``style``) and per-shot plans (schema
    ``plan``)."""

    def __init__(self, options: dict[str, Any]) -> None: ...

    def style(self, idea: dict[str, Any], shots: list[dict[str, Any]]) -> dict[str, Any]:
        """What must not drift between shots, built only from inputs that per-shot overrides
        cannot change."""
        ...

    def plan_shot(self, shot: dict[str, Any], style: dict[str, Any],
                  crossfade_s: float) -> dict[str, Any]:
        """One shot's render plan: the shot, an enriched prompt and the style it needs."""
        ...

# The built-in backends of this kind (storyreel.core.registry reads them).
SPECS = (
    BackendSpec("vision", "embedded", "storyreel.backends.vision.embedded:EmbeddedVision",
                summary="deterministic style and prompt enrichment (offline)"),
    BackendSpec("vision", "openai", "storyreel.backends.vision.llm:OpenAIVision",
                uses_model=True,
                summary="character sheet, shot prompts: OpenAI-compatible server"),
    BackendSpec("vision", "transformers", "storyreel.backends.vision.llm:TransformersVision",
                gpu=True, extra="llm", uses_model=True,
                summary="character sheet and per-shot prompts from a local causal LM"),
)
