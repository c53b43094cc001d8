"""Revise backends (stage ``revise``): make one scene's narration speakable."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from storyreel.core.registry import BackendSpec

if TYPE_CHECKING:
    from storyreel.text import Change


@runtime_checkable
class ReviseBackend(Protocol):
    """A reviser: ``edit(narration)`` gives speakable sentences and the changes made."""

    def __init__(self, options: dict[str, Any]) -> None: ...

    def edit(self, narration: str) -> tuple[list[str], list[Change]]: ...

# The built-in backends of this kind (storyreel.core.registry reads them).
SPECS = (
    BackendSpec("revise", "rules", "storyreel.backends.revise.rules:RulesReviser",
                summary="embedded rule-based text normaliser (offline): English rules; numbers, "
                "dates and money of other languages with num2words and Babel (digits left to "
                "the voice where num2words has no words)"),
)
