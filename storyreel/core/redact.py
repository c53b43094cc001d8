"""Secret redaction for everything that reaches a log, the console, a manifest or a report.

Two things are scrubbed:

- the *values* of secret environment variables: those named by the config (every stage's
  ``api_key_env`` and the top-level ``secret_env`` list, registered with :func:`register_env`)
  and any variable whose name looks secret (``*KEY*``, ``*TOKEN*``, ``*SECRET*``,
  ``*PASSWORD*``, ``*CREDENTIAL*``) with a value of at least 8 characters;
- ``Authorization`` / ``Proxy-Authorization`` header values and ``Bearer``/``Basic`` tokens,
  wherever they appear (a server that echoes the request's headers in an error body, say).

``redact(text)`` is cheap enough to run on every log record: :func:`install` adds a
:class:`logging.Filter` to the root logger's handlers, and the runner passes every message it
prints through it.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable
from typing import Any

MASK = "[REDACTED]"
MIN_SECRET_CHARS = 8
SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL", re.I)
_HEADER = re.compile(
    r"""(?P<name>(?:proxy-)?authorization)(?P<sep>["']?\s*[:=]\s*["']?)"""
    r"""(?P<value>[^"'\r\n,}]*)""", re.I)
_TOKEN = re.compile(r"\b(?P<scheme>Bearer|Basic|Token)\s+(?P<value>[A-Za-z0-9._~+/=-]{4,})",
                    re.I)
# secret-looking assignments in URLs or text: ?api_key=..., token=...
_ASSIGN = re.compile(r"(?P<name>\b[\w-]*(?:api[_-]?key|token|secret|password)[\w-]*)"
                     r"(?P<sep>=)(?P<value>[^\s&\"',;]+)", re.I)

_ENV_NAMES: set[str] = set()


def register_env(names: Iterable[str]) -> None:
    """Add environment variable names whose values are secrets (e.g. ``OPENAI_API_KEY``)."""
    _ENV_NAMES.update(n for n in names if n)


def config_env_names(config: dict[str, Any]) -> list[str]:
    """The secret variable names a workflow config names: ``secret_env`` and every stage's
    ``api_key_env``."""
    names = list(config.get("secret_env") or [])
    for options in (config.get("stages") or {}).values():
        if isinstance(options, dict) and options.get("api_key_env"):
            names.append(str(options["api_key_env"]))
    return names


def secret_values() -> list[str]:
    """The secret values to scrub, longest first (so a value containing another wins)."""
    values = set()
    for name, value in os.environ.items():
        if not value:
            continue
        if name in _ENV_NAMES or (SECRET_NAME.search(name) and len(value) >= MIN_SECRET_CHARS):
            values.add(value)
    return sorted(values, key=len, reverse=True)


def redact(text: str) -> str:
    """``text`` with secret values and authorization headers replaced by ``[REDACTED]``."""
    if not text:
        return text
    for value in secret_values():
        if value in text:
            text = text.replace(value, MASK)
    text = _HEADER.sub(lambda m: m["name"] + m["sep"] + MASK
                       if m["value"].strip() else m[0], text)
    text = _TOKEN.sub(lambda m: f"{m['scheme']} {MASK}", text)
    return _ASSIGN.sub(lambda m: m["name"] + m["sep"] + MASK, text)


def redact_data(value: Any) -> Any:
    """A copy of a JSON-like value with every string redacted (manifests, reports)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: redact_data(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_data(v) for v in value]
    return value


class RedactingFilter(logging.Filter):
    """Rewrites each record's message (with its arguments) through :func:`redact`."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 (a bad format string must not hide the record)
            message = str(record.msg)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        record.msg, record.args = redact(message), None
        return True


def install(logger: logging.Logger | None = None) -> None:
    """Add a :class:`RedactingFilter` to every handler of ``logger`` (default: the root)."""
    for handler in (logger or logging.getLogger()).handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
