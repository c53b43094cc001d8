"""A chat model behind an OpenAI-compatible server: Ollama, vLLM, llama.cpp's server, hosted APIs.

They all speak ``POST {base_url}/chat/completions``. The request goes through httpx rather than
the official ``openai`` client: we send the structured-output fields each server takes as plain
JSON, keep error messages short and redacted, and retry with the project's one policy
(:mod:`storyreel.core.retry`), where the client would add its own loop and half a second of
import to every job.

The API key, when needed, is read from the environment variable *named* by ``api_key_env``; it
is sent as a Bearer header and never logged, written or put into an error message: messages
carry the status and a redacted, shortened body, never the request's headers.

Honest retries. Each failure says what it is, and only what cannot have left work running on
the server is asked again:

- a refused connection, or one not opened within :data:`CONNECT_S`: "cannot reach", retried
  (``max_retries``, waits from ``backoff_s`` growing fourfold);
- HTTP 408, 409, 425, 429, 500, 502, 503: retried the same way, a server's ``Retry-After``
  first; a connection broken before the answer began: retried too (the server dropped it);
- a request the server took but did not answer within ``timeout_s`` (a read time-out), or a
  gateway's 504: a **time-out**, with its own message, never sent again, neither here nor by a
  later attempt of the job (:class:`AnswerTimeoutError` is permanent): the server is probably
  still generating it, and a second copy would only queue behind the first;
- any other HTTP error: not retried (401 and 403 are configuration errors).

Structured output (``response_format``): ``json_schema`` sends the OpenAI form
(``response_format: {type: json_schema, json_schema: {name, strict, schema}}``), which OpenAI,
vLLM, llama.cpp's server, LM Studio and Ollama (0.5 and later) accept; ``guided`` sends the same
schema in each server's own field instead, for servers that refuse the OpenAI form: vLLM's
``structured_outputs: {json}`` (0.10 and later) and ``guided_json`` (before 0.12), llama.cpp's
``json_schema``, and Ollama's ``format`` (its native API's field; Ollama's OpenAI route reads
only ``response_format``); ``json_object`` asks for any JSON; ``none`` for nothing (a JSON-only
prompt). ``auto`` starts with ``json_schema`` and steps down the list when a server answers 400
or 422 to a form.
"""

from __future__ import annotations

import logging
import os
import re
from typing import Any

import httpx

from storyreel.core import retry
from storyreel.core.errors import PermanentError, StoryreelError, TransientError
from storyreel.core.redact import redact

log = logging.getLogger(__name__)

RETRY_STATUS = {408, 409, 425, 429, 500, 502, 503}
GATEWAY_TIMEOUT = 504  # a proxy gave up waiting; the server behind it may still be generating
REFUSED_FORM = {400, 422}  # what a server answers to a structured-output form it does not know
FORMATS = ("json_schema", "guided", "json_object", "none")
MAX_DETAIL = 200
CONNECT_S = 10.0  # opening a connection; the answer itself may take timeout_s


def redact_text(text: str, secrets: list[str]) -> str:
    """``text`` without the secrets' values and without any Authorization header value."""
    text = redact(text)
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[redacted]")
    text = re.sub(r"(?i)(authorization\W{0,3}\s*)(bearer\s+)?[^\s\"',}]+", r"\1[redacted]",
                  text)
    return re.sub(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]{8,}", "Bearer [redacted]", text)


class ServerError(TransientError):
    """The server could not be reached, dropped the connection, or answered with a status
    worth asking again."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class HTTPStatusError(StoryreelError):
    """An HTTP error that retrying cannot fix (a bad request, a model the server lacks)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class RefusedError(HTTPStatusError, PermanentError):
    """401 or 403: the key is missing or wrong; no retry and no later attempt can help."""


class AnswerTimeoutError(PermanentError):
    """The server took the request but gave no answer within ``timeout_s``: it may still be
    generating, so the request is not sent again (by this job or a later attempt of it)."""


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return float(response.headers.get("Retry-After", ""))
    except ValueError:
        return None


class ServerChat:
    """A chat model behind an OpenAI-compatible server
    (:class:`storyreel.models.chat.ChatModel`).

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
        self.backoff = retry.Backoff(retry.exponential(float(options["backoff_s"]),
                                                       self.max_retries))
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

    def _timeout_error(self, url: str, why: str) -> AnswerTimeoutError:
        return AnswerTimeoutError(
            f"openai {self.role}: time-out: {url} {why}; not sent again, so that the same "
            "generation does not pile up on a busy server (raise timeout_s for a slow model)")

    def _post_once(self, url: str, body: dict[str, Any]) -> dict[str, Any]:
        self.requests += 1
        timeout = httpx.Timeout(self.timeout_s, connect=min(CONNECT_S, self.timeout_s))
        try:
            response = httpx.post(url, json=body, headers=self._headers(), timeout=timeout)
        except httpx.ReadTimeout:
            raise self._timeout_error(
                url, f"took the request but gave no answer within timeout_s="
                     f"{self.timeout_s:g} s") from None
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise ServerError(f"cannot reach {self.base_url}: "
                              f"{self._clean(str(exc) or type(exc).__name__)}") from None
        except httpx.TransportError as exc:  # dropped or reset before the answer began
            raise ServerError(f"the connection to {self.base_url} broke before an answer: "
                              f"{self._clean(str(exc) or type(exc).__name__)}") from None
        if response.status_code >= 400:
            detail = self._clean(response.text[:2000])
            error = (f"{url} answered HTTP {response.status_code} {response.reason_phrase}: "
                     f"{detail}")
            if response.status_code == GATEWAY_TIMEOUT:
                raise self._timeout_error(url, f"answered HTTP 504 (a gateway gave up "
                                               f"waiting): {detail}")
            if response.status_code in RETRY_STATUS:
                raise ServerError(error, _retry_after(response))
            kind = RefusedError if response.status_code in (401, 403) else HTTPStatusError
            raise kind(f"openai {self.role}: {error}", response.status_code)
        try:
            return response.json()
        except ValueError:
            raise StoryreelError(
                f"openai {self.role}: {url} did not answer JSON (first characters: "
                f"{self._clean(response.text[:MAX_DETAIL])!r})") from None

    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """POST one request, retried by the project's policy; the decoded JSON answer."""
        url = f"{self.base_url}/chat/completions"

        def warn(state: Any) -> None:
            log.warning("openai %s: %s; retry %d/%d in %.1f s", self.role,
                        state.outcome.exception(), state.attempt_number, self.max_retries,
                        state.next_action.sleep)

        try:
            for attempt in retry.retrying(self.max_retries, self.backoff,
                                          lambda e: isinstance(e, ServerError), warn):
                with attempt:
                    return self._post_once(url, body)
        except ServerError as exc:
            raise TransientError(f"openai {self.role}: {exc} (gave up after "
                                 f"{self.max_retries + 1} attempts)") from None
        raise AssertionError("unreachable")  # pragma: no cover

    # -- chat

    def _format(self, kind: str, schema: dict[str, Any] | None) -> dict[str, Any]:
        """The body fields that ask for the answer's form ``kind`` (see the module doc)."""
        if schema is not None and kind == "json_schema":
            return {"response_format": {"type": "json_schema", "json_schema": {
                "name": "answer", "strict": True, "schema": schema}}}
        if schema is not None and kind == "guided":
            return {"structured_outputs": {"json": schema}, "guided_json": schema,
                    "json_schema": schema, "format": schema}
        if kind in ("json_object", "json_schema", "guided"):
            return {"response_format": {"type": "json_object"}}
        return {}

    def stats(self) -> dict[str, Any]:
        return {"requests": self.requests, "response_format": self.formats[0]}

    def chat(self, messages: list[dict[str, str]], schema: dict[str, Any] | None, seed: int,
             temperature: float | None = None, max_tokens: int | None = None) -> str:
        """One chat completion: the assistant's message content."""
        budget = min(self.max_tokens, max_tokens or self.max_tokens)
        while True:
            body: dict[str, Any] = {
                "model": self.model, "messages": messages,
                "temperature": self.temperature if temperature is None else temperature,
                "seed": seed, "max_tokens": budget, "stream": False}
            form = self._format(self.formats[0], schema)
            body.update(form)
            log.info("openai %s: POST %s/chat/completions (model %s, response_format %s)",
                     self.role, self.base_url, self.model, self.formats[0])
            try:
                payload = self.post(body)
            except HTTPStatusError as exc:
                if exc.status in REFUSED_FORM and form and len(self.formats) > 1:
                    log.warning("openai %s: the server refused response_format %s (HTTP %d); "
                                "trying %s", self.role, self.formats[0], exc.status,
                                self.formats[1])
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
            log.warning("openai %s: the answer was cut at max_tokens=%d", self.role, budget)
        return str(content or "")
