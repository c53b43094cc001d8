"""OpenAI-compatible chat client and the ``script/openai`` writer.

Ollama, vLLM, llama.cpp's server and hosted APIs all speak ``POST {base_url}/chat/completions``.
The request uses only the standard library. The API key, when needed, is read from the
environment variable *named* by ``api_key_env``; it is sent as a Bearer header and never logged,
written or put into an error message: messages carry the status and a redacted, shortened body,
never the request's headers.

The client retries what can go away by itself — HTTP 429, 5xx, time-outs and refused or reset
connections — with exponential backoff and jitter (``max_retries``, ``backoff_s``), honouring
``Retry-After``; other HTTP errors fail at once. ``response_format`` asks for the JSON schema
(``json_schema``), for any JSON (``json_object``) or for nothing (``none``, a JSON-only prompt);
``auto`` starts with the schema and steps down when the server answers 400 to it.
"""

from __future__ import annotations

import json
import logging
import os
import random
import re
import time
import urllib.error
import urllib.request
from typing import Any

from storyreel.core.errors import StoryreelError
from storyreel.models import structured

log = logging.getLogger(__name__)

RETRY_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}
FORMATS = ("json_schema", "json_object", "none")
MAX_DETAIL = 200


def redact_text(text: str, secrets: list[str]) -> str:
    """``text`` without the secrets' values and without any Authorization header value."""
    try:  # the project-wide redaction (helper `reliability`), when present
        from storyreel.core.redact import redact  # type: ignore[import-not-found]

        text = redact(text)
    except ImportError:
        pass
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[redacted]")
    text = re.sub(r"(?i)(authorization\W{0,3}\s*)(bearer\s+)?[^\s\"',}]+", r"\1[redacted]",
                  text)
    return re.sub(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]{8,}", "Bearer [redacted]", text)


class OpenAIClient:
    """A chat model behind an OpenAI-compatible server
    (:class:`storyreel.models.structured.ChatModel`).

    Options: model, base_url, api_key_env, temperature, timeout_s, max_tokens, max_retries,
    backoff_s, response_format.
    """

    name = "openai"

    def __init__(self, options: dict[str, Any], role: str = "writer") -> None:
        self.role = role
        self.model = str(options["model"])
        self.base_url = str(options["base_url"]).rstrip("/")
        self.api_key_env = str(options["api_key_env"])
        self.temperature = float(options["temperature"])
        self.timeout_s = float(options["timeout_s"])
        self.max_tokens = int(options["max_tokens"])
        self.max_retries = int(options["max_retries"])
        self.backoff_s = float(options["backoff_s"])
        mode = str(options["response_format"])
        self.formats = list(FORMATS) if mode == "auto" else [mode]
        self.requests = 0
        if not self.base_url.startswith(("http://", "https://")):
            raise StoryreelError(
                f"openai {role}: base_url must be http(s), got {self.base_url}")

    # -- transport

    def _key(self) -> str:
        return os.environ.get(self.api_key_env, "")

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self._key():
            headers["Authorization"] = f"Bearer {self._key()}"
        return headers

    def _clean(self, text: str) -> str:
        text = redact_text(text, [self._key()])
        text = " ".join(text.split())
        return text if len(text) <= MAX_DETAIL else text[:MAX_DETAIL] + "…"

    def _delay(self, attempt: int, retry_after: str | None) -> float:
        if retry_after:
            try:
                return min(60.0, max(0.0, float(retry_after)))
            except ValueError:
                pass
        base = self.backoff_s * (4 ** (attempt - 1))
        return base * (0.5 + random.random())  # noqa: S311 (jitter, not cryptography)

    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """POST one request; retries 429/5xx/time-outs; returns the decoded JSON answer."""
        url = f"{self.base_url}/chat/completions"
        data = json.dumps(body).encode("utf-8")
        for attempt in range(1, self.max_retries + 2):
            self.requests += 1
            request = urllib.request.Request(  # noqa: S310 (scheme checked in __init__)
                url, data=data, headers=self._headers(), method="POST")
            retry_after = None
            try:
                with urllib.request.urlopen(request, timeout=self.timeout_s) as response:  # noqa: S310
                    raw = response.read()
                try:
                    return json.loads(raw.decode("utf-8"))
                except (json.JSONDecodeError, UnicodeDecodeError):
                    raise StoryreelError(
                        f"openai {self.role}: {url} did not answer JSON (first characters: "
                        f"{self._clean(raw[:MAX_DETAIL].decode('utf-8', 'replace'))!r})"
                    ) from None
            except urllib.error.HTTPError as exc:
                detail = self._clean(exc.read()[:2000].decode("utf-8", "replace"))
                error = f"{url} answered HTTP {exc.code} {exc.reason}: {detail}"
                if exc.code not in RETRY_STATUS:
                    raise HTTPStatusError(f"openai {self.role}: {error}", exc.code) from None
                retry_after = exc.headers.get("Retry-After") if exc.headers else None
            except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as exc:
                reason = getattr(exc, "reason", exc)
                error = f"cannot reach {self.base_url}: {self._clean(str(reason))}"
            if attempt > self.max_retries:
                raise StoryreelError(
                    f"openai {self.role}: {error} (gave up after {attempt} attempts)")
            delay = self._delay(attempt, retry_after)
            log.warning("openai %s: %s; retry %d/%d in %.1f s", self.role, error, attempt,
                        self.max_retries, delay)
            time.sleep(delay)
        raise AssertionError("unreachable")

    # -- chat

    def _format(self, kind: str, schema: dict[str, Any] | None) -> dict[str, Any] | None:
        if kind == "json_schema" and schema is not None:
            return {"type": "json_schema",
                    "json_schema": {"name": "answer", "strict": True, "schema": schema}}
        if kind == "json_object":
            return {"type": "json_object"}
        return None

    def chat(self, messages: list[dict[str, str]], schema: dict[str, Any] | None,
             seed: int) -> str:
        """One chat completion: the assistant's message content."""
        while True:
            body: dict[str, Any] = {
                "model": self.model, "messages": messages, "temperature": self.temperature,
                "seed": seed, "max_tokens": self.max_tokens, "stream": False}
            response_format = self._format(self.formats[0], schema)
            if response_format:
                body["response_format"] = response_format
            log.info("openai %s: POST %s/chat/completions (model %s, response_format %s)",
                     self.role, self.base_url, self.model, self.formats[0])
            try:
                payload = self.post(body)
            except HTTPStatusError as exc:
                if exc.status == 400 and response_format and len(self.formats) > 1:
                    log.warning("openai %s: the server refused response_format %s; trying %s",
                                self.role, self.formats[0], self.formats[1])
                    self.formats.pop(0)
                    continue
                raise
            break
        try:
            choice = payload["choices"][0]
            content = choice["message"]["content"]
        except (KeyError, IndexError, TypeError):
            raise StoryreelError(
                f"openai {self.role}: unexpected answer from {self.base_url}: no "
                "choices[0].message.content") from None
        if choice.get("finish_reason") == "length":
            log.warning("openai %s: the answer was cut at max_tokens=%d", self.role,
                        self.max_tokens)
        return str(content or "")


class HTTPStatusError(StoryreelError):
    """An HTTP error that retrying cannot fix."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class OpenAIWriter:
    """``script/openai``: a writer backed by an OpenAI-compatible server."""

    name = "openai"

    def __init__(self, options: dict[str, Any]) -> None:
        self.client = OpenAIClient(options, "writer")
        self.model = self.client.model
        self.max_repairs = int(options["max_repairs"])
        self.generation: dict[str, Any] = {}

    def write(self, idea: dict[str, Any], budget: Any) -> list[dict[str, Any]]:
        """Raw scenes for a premise (the script stage maps them onto the script schema)."""
        scenes, self.generation = structured.write_scenes(self.client, idea, budget.scenes,
                                               budget.target_words(), self.max_repairs)
        self.generation["requests"] = self.client.requests
        return scenes
