"""Chat models that backends share: a language model behind an OpenAI-compatible server
(:mod:`.server`) or loaded locally with transformers (:mod:`.local`), and structured output
that cannot break the pipeline (:mod:`.structured`). The script and vision backends both use
them; neither imports the other."""

from __future__ import annotations

from typing import Any, Protocol


class ChatModel(Protocol):
    """A chat model: the messages, an optional JSON schema the answer must follow, a seed."""

    name: str
    model: str

    def chat(self, messages: list[dict[str, str]], schema: dict[str, Any] | None,
             seed: int) -> str: ...
