"""Structured output from language models that cannot break the pipeline.

Shared by every model route (``script/openai``, ``script/transformers``, ``vision/openai``,
``vision/transformers``). A model is anything with ``chat(messages, schema, seed, temperature,
max_tokens) -> str`` (:class:`storyreel.models.chat.ChatModel`). :func:`generate` asks it for
JSON against a JSON schema (a local model generates under the schema, a server is asked for it
in its structured-output form) and then:

1. **parses** the answer (:func:`parse_json`): JSON alone, inside a code fence or surrounded by
   prose; a truncated answer (unbalanced brackets, a cut string) is detected and reported as
   such, never half-read;
2. **validates** it (the schema, then a task-specific check such as the narration's language and
   length, which no schema can say);
3. **repairs** it: up to ``max_repairs`` more turns, each quoting the validation error back to the
   model with the answer it gave, with another seed and another temperature
   (:func:`attempt_temperature`): the same request is never sent twice;
4. raises :class:`StructuredOutputError` (with every rejected answer and its reason) when no
   answer is usable. That error is permanent: a model that answered, but not usably, would answer
   the same again, so the caller falls back at once (the script stage to the template writer, the
   vision stage to the embedded style) instead of having the job retried.

Every rejected answer is recorded (:func:`rejection`: attempt, seed, temperature, reason, the
answer's first characters) in the list the caller passes as ``rejected``, which the stages write
into ``script.json`` and ``style.json``, even when the model gives up or its server stops
answering halfway.
"""

from __future__ import annotations

import json
import logging
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jsonschema

from storyreel.core.errors import PermanentError
from storyreel.models.chat import ChatModel

log = logging.getLogger(__name__)

QUOTE_CHARS = 1500  # how much of a bad answer a repair turn quotes back
KEEP_CHARS = 400  # how much of a rejected answer the artifact keeps


class StructuredOutputError(PermanentError):
    """No usable answer after the repair turns (permanent: asking again gets the same);
    ``rejected`` holds one record per answer (:func:`rejection`)."""

    def __init__(self, message: str, rejected: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.rejected = list(rejected or [])


class AnswerError(ValueError):
    """One answer is not usable; the message is quoted back to the model."""


# --------------------------------------------------------------------------------------------
# Parsing

_FENCE = re.compile(r"```[a-zA-Z0-9_-]*\s*\n?(.*?)(?:```|$)", re.S)


def _balance(text: str) -> tuple[int, bool]:
    """Length of the first balanced JSON value starting at ``text[0]`` (0 when it never
    closes), and whether a string was left open."""
    depth, in_string, escaped = 0, False, False
    for i, ch in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "{[":
            depth += 1
        elif ch in "}]":
            depth -= 1
            if depth == 0:
                return i + 1, False
    return 0, in_string


def parse_json(content: str) -> Any:
    """The JSON value in a model's answer.

    Accepts bare JSON, JSON in a Markdown code fence, and JSON with prose before or after it.
    Raises :class:`AnswerError` with a message fit to quote back to the model: no JSON at all,
    JSON cut off before its end (truncated), or JSON that does not parse.
    """
    text = content.strip()
    fenced = _FENCE.search(text)
    candidates = [fenced.group(1).strip()] if fenced else []
    candidates.append(text)
    last_error = "the answer holds no JSON object"
    for candidate in candidates:
        starts = [i for i in (candidate.find("{"), candidate.find("[")) if i != -1]
        if not starts:
            continue
        start = min(starts)
        length, open_string = _balance(candidate[start:])
        if length == 0:
            where = "inside a string" if open_string else "before its closing brackets"
            last_error = (f"the JSON is truncated: it stops {where} "
                          f"(after {len(candidate) - start} characters); answer again, shorter")
            continue
        try:
            return json.loads(candidate[start:start + length])
        except json.JSONDecodeError as exc:
            last_error = f"the JSON does not parse: {exc.msg} at character {exc.pos}"
    raise AnswerError(last_error)


# --------------------------------------------------------------------------------------------
# Validation


def schema_error(data: Any, schema: dict[str, Any]) -> str | None:
    """The first schema violation as one line with its JSON path, or None."""
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(data), key=lambda e: (-len(e.absolute_path),
                                                                 list(map(str, e.path))))
    if not errors:
        return None
    error = errors[0]
    path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
    message = error.message if len(error.message) <= 200 else error.message[:200] + "…"
    return f"{path.lstrip('.') or 'the answer'}: {message}"


# Scripts within a language this module can check. Others pass.
_SCRIPTS = {"ar": "ARABIC", "fa": "ARABIC", "he": "HEBREW", "ru": "CYRILLIC", "uk": "CYRILLIC",
            "bg": "CYRILLIC", "el": "GREEK", "zh": "CJK", "ja": "CJK", "ko": "HANGUL",
            "hi": "DEVANAGARI", "th": "THAI"}
_LATIN = {"en", "fr", "de", "es", "it", "pt", "nl", "sv", "da", "no", "fi", "pl", "cs", "ro",
          "tr", "hu", "id", "vi", "ca", "hr", "sk", "sl", "et", "lv", "lt", "sw", "ga", "cy"}
_EN_COMMON = frozenset(
    "the a an and of to in on at was is he she it they his her their its with for as from "
    "by but not that this into one all had has have were be when then there who what".split())


def _script_of(ch: str) -> str:
    name = unicodedata.name(ch, "")
    if name.startswith(("CJK", "HIRAGANA", "KATAKANA")):
        return "CJK"
    return name.split(" ")[0] if name else ""


def language_error(text: str, language: str) -> str | None:
    """Why ``text`` does not look written in ``language`` (ISO 639-1), or None.

    Checks the writing system of the letters (Latin for English, French…, Arabic for ``ar``,
    …) and, for English, that common function words occur. Unknown languages pass.
    """
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return "the narration has no words"
    wanted = "LATIN" if language in _LATIN else _SCRIPTS.get(language)
    if wanted is None:
        return None
    share = sum(_script_of(c) == wanted for c in letters) / len(letters)
    if share < 0.85:
        return (f"the narration is not written in the story's language '{language}' "
                f"(only {share:.0%} of its letters are {wanted.title()}); write it in "
                f"'{language}'")
    if language == "en":
        words = re.findall(r"[a-z']+", text.lower())
        common = sum(w in _EN_COMMON for w in words) / max(1, len(words))
        if len(words) >= 12 and common < 0.08:
            return ("the narration does not read as English (almost none of its words are "
                    "common English words); write it in English")
    return None


# --------------------------------------------------------------------------------------------
# The loop


@dataclass
class Generated:
    """A usable answer and how it was obtained."""

    value: Any
    attempts: int
    rejected: list[dict[str, Any]] = field(default_factory=list)  # one per rejected answer


def repair_message(error: str, answer: str) -> list[dict[str, str]]:
    """The turns that quote a rejected answer and its error back to the model."""
    quoted = answer if len(answer) <= QUOTE_CHARS else answer[:QUOTE_CHARS] + " …"
    return [
        {"role": "assistant", "content": quoted},
        {"role": "user", "content": (
            f"That answer cannot be used: {error}. Answer again with the complete JSON object "
            "only (no prose, no code fence), following the schema exactly.")},
    ]


def attempt_temperature(base: float, attempt: int) -> float:
    """The sampling temperature of answer ``attempt`` (1, 2, ...): the configured one first,
    then cooler for each repair (a model that rambled is steadied), or, from greedy decoding,
    warmer (greedy decoding would give the same answer again)."""
    if attempt <= 1:
        return base
    if base >= 0.3:
        return round(base * 0.6 ** (attempt - 1), 3)
    return round(0.3 + 0.2 * (attempt - 2), 3)


def rejection(attempt: int, seed: int, temperature: float, reason: str,
              answer: str) -> dict[str, Any]:
    """The record of one rejected answer (schema: script's and style's ``rejected`` items)."""
    kept = answer.strip()
    return {"attempt": attempt, "seed": seed, "temperature": temperature, "reason": reason,
            "answer": kept if len(kept) <= KEEP_CHARS else kept[:KEEP_CHARS] + "…"}


def reasons(rejected: list[dict[str, Any]]) -> str:
    """``1: reason; 2: reason`` for a one-line message."""
    return "; ".join(f"{r['attempt']}: {r['reason']}" for r in rejected)


def generate(model: ChatModel, messages: list[dict[str, str]], schema: dict[str, Any],
             check: Callable[[Any], Any] | None = None, seed: int = 0,
             max_repairs: int = 2, accept: dict[str, Any] | None = None,
             max_tokens: int | None = None,
             rejected: list[dict[str, Any]] | None = None) -> Generated:
    """Ask ``model`` for JSON following ``schema`` in at most ``max_tokens``; parse, validate
    (against ``accept``, a more lenient schema when given, else ``schema``; then ``check``,
    which raises :class:`AnswerError` or returns the value to keep) and repair, each answer
    with its own seed and temperature. Rejected answers are appended to ``rejected``.

    Raises :class:`StructuredOutputError` after ``1 + max_repairs`` unusable answers.
    Transport errors from the model (a server that cannot be reached, or is still busy with
    the request) propagate unchanged, the answers rejected before them kept in ``rejected``.
    """
    turns = list(messages)
    rejected = [] if rejected is None else rejected
    first = len(rejected)
    for attempt in range(1, max_repairs + 2):
        answer_seed = seed + attempt - 1
        temperature = attempt_temperature(model.temperature, attempt)
        answer = model.chat(turns, schema, answer_seed, temperature=temperature,
                            max_tokens=max_tokens)
        try:
            data = parse_json(answer)
            problem = schema_error(data, accept or schema)
            if problem:
                raise AnswerError(problem)
            value = check(data) if check else data
        except AnswerError as exc:
            rejected.append(rejection(attempt, answer_seed, temperature, str(exc), answer))
            log.warning("%s (%s): answer %d rejected: %s", model.name, model.model, attempt,
                        exc)
            turns += repair_message(str(exc), answer)
            continue
        if attempt > 1:
            log.info("%s: usable answer after %d repair turn(s)", model.name, attempt - 1)
        return Generated(value, attempt, rejected[first:])
    mine = rejected[first:]
    raise StructuredOutputError(
        f"{model.name} ({model.model}) gave no usable answer in {max_repairs + 1} attempts "
        f"(rejected: {reasons(mine)})", mine)
