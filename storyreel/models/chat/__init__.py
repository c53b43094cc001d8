"""Chat models that backends share: a language model behind an OpenAI-compatible server
(:mod:`.server`) or loaded locally with transformers (:mod:`.local`, generating under a JSON
schema with :mod:`.constrained`), and structured output that cannot break the pipeline
(:mod:`.structured`). The script and vision backends both use them; neither imports the
other."""

from __future__ import annotations

from typing import Any, Protocol


class ChatModel(Protocol):
    """A chat model: the messages, an optional JSON schema the answer must follow, a seed, and
    optionally a temperature (else its configured one) and a token budget for the answer (at
    most its configured one)."""

    name: str
    model: str
    temperature: float

    def chat(self, messages: list[dict[str, str]], schema: dict[str, Any] | None, seed: int,
             temperature: float | None = None, max_tokens: int | None = None) -> str: ...

    def stats(self) -> dict[str, Any]:
        """What the chat did so far (requests or answers, tokens, seconds)."""
        ...
