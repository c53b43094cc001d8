"""OpenAIWriter: expands a premise with any OpenAI-compatible chat-completions server.

Ollama, vLLM, llama.cpp's server and hosted APIs all speak ``POST {base_url}/chat/completions``.
The request uses only the standard library. The API key, when needed, is read from the
environment variable *named* by ``api_key_env``; it is sent as a Bearer header and never logged
or written anywhere. The answer must be JSON with a list of scenes; the script stage repairs it
into the script schema.
"""

from __future__ import annotations

import json
import logging
import os
import re
import urllib.error
import urllib.request
from typing import Any

from storyreel.errors import StoryreelError
from storyreel.types import Budget
from storyreel.vocabulary import BEATS, MOODS, TIMES_OF_DAY

log = logging.getLogger(__name__)

SYSTEM_PROMPT = (
    "You are a screenwriter for short narrated films. Answer with JSON only, no prose, in the "
    f'form {{"scenes": [{{"beat": "{"|".join(BEATS)}", "narration": "...", '
    f'"visual": "...", "setting": "...", "time_of_day": "{"|".join(TIMES_OF_DAY)}", '
    f'"mood": "{"|".join(MOODS)}", "characters": ["..."]}}]}}. '
    "The narration is plain spoken prose: no markup, no lists, no stage directions. The visual "
    "describes one storyboard frame: subject, setting, time of day, mood."
)


def build_messages(idea: dict[str, Any], budget: Budget) -> list[dict[str, str]]:
    """The chat messages asking for a story of the budget's length and scene count."""
    user = (
        f"Premise: {idea['premise']}\n"
        f"Language: {idea.get('language', 'en')}\n"
        f"Write {budget.scenes} scenes following a story arc (setup, turn, climax, "
        f"resolution), about {budget.target_words()} words of narration in total, a few "
        "sentences per scene. Use the premise's own characters and places."
    )
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}]


def parse_scenes(content: str, base_url: str) -> list[dict[str, Any]]:
    """The scenes of a model's answer: JSON, possibly inside a code fence or surrounded by
    prose; a bare list of scenes is accepted too."""
    text = content.strip()
    fenced = re.search(r"```(?:json)?\s*(.*?)```", text, re.S)
    if fenced:
        text = fenced.group(1).strip()
    data: Any = None
    for start, end in (("{", "}"), ("[", "]")):
        first, last = text.find(start), text.rfind(end)
        if first != -1 and last > first:
            try:
                data = json.loads(text[first:last + 1])
                break
            except json.JSONDecodeError:
                continue
    if isinstance(data, dict):
        data = data.get("scenes")
    if not isinstance(data, list) or not any(
            isinstance(s, dict) and (s.get("narration") or s.get("text")) for s in data):
        raise StoryreelError(
            f"openai writer: the answer from {base_url} holds no JSON list of scenes with "
            f"narration (first 200 characters: {content[:200]!r})")
    return [s for s in data if isinstance(s, dict)]


class OpenAIWriter:
    """A writer backed by an OpenAI-compatible server (options: model, base_url,
    api_key_env, temperature, timeout_s)."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.model = str(options.get("model", "llama3.2"))
        self.base_url = str(options.get("base_url", "http://localhost:11434/v1")).rstrip("/")
        self.api_key_env = str(options.get("api_key_env", "OPENAI_API_KEY"))
        self.temperature = float(options.get("temperature", 0.7))
        self.timeout_s = float(options.get("timeout_s", 300))

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        key = os.environ.get(self.api_key_env)
        if key:
            headers["Authorization"] = f"Bearer {key}"
        return headers

    def complete(self, messages: list[dict[str, str]], seed: int) -> str:
        """POST one chat completion and return the assistant's message content."""
        url = f"{self.base_url}/chat/completions"
        body = json.dumps({
            "model": self.model, "messages": messages, "temperature": self.temperature,
            "seed": seed, "response_format": {"type": "json_object"}, "stream": False,
        }).encode("utf-8")
        if not url.startswith(("http://", "https://")):
            raise StoryreelError(f"openai writer: base_url must be http(s), got {self.base_url}")
        request = urllib.request.Request(  # noqa: S310 (scheme checked above)
            url, data=body, headers=self._headers(), method="POST")
        log.info("openai writer: POST %s (model %s)", url, self.model)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:  # noqa: S310
                payload = json.loads(response.read().decode("utf-8"))
        except urllib.error.HTTPError as exc:
            detail = exc.read()[:300].decode("utf-8", "replace")
            raise StoryreelError(
                f"openai writer: {url} answered HTTP {exc.code} {exc.reason}: {detail}"
            ) from None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise StoryreelError(
                f"openai writer: cannot reach {self.base_url}: {reason}") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise StoryreelError(f"openai writer: {url} did not answer JSON: {exc}") from None
        try:
            return str(payload["choices"][0]["message"]["content"])
        except (KeyError, IndexError, TypeError):
            raise StoryreelError(
                f"openai writer: unexpected answer from {url}: no choices[0].message.content"
            ) from None

    def write(self, idea: dict[str, Any], budget: Budget) -> list[dict[str, Any]]:
        """Raw scenes for a premise (the script stage repairs them into the schema)."""
        content = self.complete(build_messages(idea, budget), int(idea.get("seed", 0)))
        return parse_scenes(content, self.base_url)
