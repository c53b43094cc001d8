"""Markup and whitespace: Markdown and HTML stripped to plain words, paragraphs kept."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Change:
    """One edit made to a text: its kind (see revised.schema.yaml) and the fragments."""

    kind: str
    before: str
    after: str


_MD_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_MD_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_MD_REF_LINK = re.compile(r"\[([^\]]+)\]\[[^\]]*\]")
_MD_LINK_DEF = re.compile(r"^\s*\[[^\]]+\]:\s*\S+.*$", re.M)
_HTML_BREAK = re.compile(r"<\s*(br|/p|p|/div|div|/li|/h[1-6])\b[^>]*>", re.I)
_HTML_TAG = re.compile(r"<!--.*?-->|<[^>]{1,200}>", re.S)
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s*(.*?)\s*#*\s*$", re.M)
_SETEXT = re.compile(r"^\s*(=+|-+)\s*$", re.M)
_BULLET = re.compile(r"^\s*(?:[-*+\u2022]|\d{1,3}[.)])\s+", re.M)
_QUOTE = re.compile(r"^\s*>+\s?", re.M)
_FENCE = re.compile(r"^\s*(```|~~~).*$", re.M)
_EMPHASIS = (
    re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1"),
    re.compile(r"(?<![\w*])\*(?=\S)(.+?)(?<=\S)\*(?!\w)"),
    re.compile(r"(?<![\w_])_(?=\S)(.+?)(?<=\S)_(?!\w)"),
    re.compile(r"~~(?=\S)(.+?)(?<=\S)~~"),
    re.compile(r"`([^`]+)`"),
)


def strip_markup(text: str) -> str:
    """Remove Markdown and HTML markup, keeping the words and the paragraph breaks.

    Headings, bullets, block quotes, emphasis, code spans, links and images become plain
    text; HTML tags are dropped (block tags become line breaks) and entities decoded.
    """
    out = text.replace("\r\n", "\n").replace("\r", "\n")
    out = _FENCE.sub("", out)
    out = _HTML_BREAK.sub("\n", out)
    out = _HTML_TAG.sub("", out)
    out = html.unescape(out)
    out = _MD_IMAGE.sub(r"\1", out)
    out = _MD_LINK.sub(r"\1", out)
    out = _MD_REF_LINK.sub(r"\1", out)
    out = _MD_LINK_DEF.sub("", out)
    out = _HEADING.sub(lambda m: _end_heading(m.group(1)), out)
    out = _SETEXT.sub("", out)
    out = _QUOTE.sub("", out)
    out = _BULLET.sub("", out)
    for pattern in _EMPHASIS:
        out = pattern.sub(lambda m: m.group(m.lastindex or 1), out)
    return out


def _end_heading(title: str) -> str:
    """A heading becomes its own paragraph, ending with a full stop."""
    title = title.strip()
    if title and title[-1] not in ".!?:":
        title += "."
    return f"\n{title}\n"


def normalise_whitespace(text: str, keep_paragraphs: bool = True) -> str:
    """Collapse runs of spaces; keep blank-line paragraph breaks when asked.

    Single line breaks inside a paragraph become spaces; two or more become one blank line.
    """
    paragraphs = split_paragraphs(text) if keep_paragraphs else [text]
    cleaned = [" ".join(p.split()) for p in paragraphs]
    return "\n\n".join(p for p in cleaned if p)


def split_paragraphs(text: str) -> list[str]:
    """Paragraphs separated by one or more blank lines, stripped, empty ones dropped."""
    parts = re.split(r"\n[ \t]*\n", text.replace("\r\n", "\n"))
    return [" ".join(p.split()) for p in parts if p.strip()]


# --------------------------------------------------------------------------------------------
