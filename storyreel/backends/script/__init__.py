"""Script backends (stage ``script``): expand a premise into scenes of narration.

The stage repairs whatever a backend returns into the script schema (ids, beats, enums, missing
fields), so a backend may return loose scene dicts.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from storyreel.core.registry import BackendSpec
from storyreel.core.types import Budget


@runtime_checkable
class ScriptBackend(Protocol):
    """A writer: ``write(idea, budget)`` gives raw scenes for ``idea["premise"]``."""

    model: str | None  # the model named in the manifest (None for embedded writers)

    def __init__(self, options: dict[str, Any]) -> None: ...

    def write(self, idea: dict[str, Any], budget: Budget) -> list[dict[str, Any]]:
        """Scenes (dicts with at least ``narration``; ``beat``, ``visual``, ``setting``,
        ``time_of_day``, ``mood`` and ``characters`` when the writer knows them)."""
        ...

# The built-in backends of this kind (storyreel.core.registry reads them).
SPECS = (
    BackendSpec("script", "template", "storyreel.backends.script.template:TemplateWriter",
                summary="deterministic embedded story writer (offline); writes premises in "
                "English (full texts in any language are narrated verbatim)",
                languages=("en",)),
    BackendSpec("script", "openai", "storyreel.backends.script.llm:OpenAIWriter",
                summary="any OpenAI-compatible server: Ollama, vLLM, llama.cpp",
                uses_model=True),
    BackendSpec("script", "transformers", "storyreel.backends.script.llm:TransformersWriter",
                gpu=True, extra="llm", uses_model=True,
                summary="local Hugging Face causal LM (model id or folder)"),
)
