"""Sentences: splitting a paragraph into sentences (abbreviations, initials and decimals do
not end one), capitalising, and splitting an over-long sentence at clause boundaries."""

from __future__ import annotations

import re

ABBREVIATIONS = {
    "dr.": "Doctor", "mr.": "Mister", "mrs.": "Missus", "ms.": "Miz", "prof.": "Professor",
    "capt.": "Captain", "lt.": "Lieutenant", "sgt.": "Sergeant", "col.": "Colonel",
    "gen.": "General", "rev.": "Reverend", "jr.": "Junior", "sr.": "Senior",
    "mt.": "Mount", "ft.": "Fort", "ave.": "Avenue", "rd.": "Road", "no.": "number",
    "etc.": "et cetera", "e.g.": "for example", "i.e.": "that is", "vs.": "versus",
    "approx.": "approximately", "st.": "Saint",
}
# Abbreviations that may end a sentence (so their full stop can also be the sentence's).
_CAN_END = {"etc.", "jr.", "sr.", "rd.", "ave."}
_ABBREV_RE = re.compile(
    r"(?<![\w.])("
    + "|".join(re.escape(a) for a in sorted(ABBREVIATIONS, key=len, reverse=True))
    + r")(?=\s|$|[,;:)])",
    re.I,
)
_SENTENCE_END = re.compile(
    r"([.!?]+|\u2026)([\"'\u201d\u2019)\]]*)(\s+)(?=[\"'\u201c\u2018(\[]?[A-Z0-9])"
)


def split_sentences(text: str) -> list[str]:
    """Split a paragraph into sentences.

    A sentence ends at ``.``, ``!``, ``?`` or an ellipsis followed by a capital letter or a
    digit; known abbreviations (``Dr.``, ``e.g.``, …), initials and decimals do not end one.
    """
    flat = " ".join(text.split())
    if not flat:
        return []
    protected = _ABBREV_RE.sub(lambda m: m.group(1).replace(".", "\x00"), flat)
    protected = re.sub(r"\b([A-Z])\.(?=\s[A-Z])", "\\1\x00", protected)
    pieces = _SENTENCE_END.sub(lambda m: m.group(1) + m.group(2) + "\n", protected).split("\n")
    return [p.replace("\x00", ".").strip() for p in pieces if p.strip()]


def sentence_case(text: str) -> str:
    """Upper-case the first letter of a text, leaving the rest alone."""
    for i, char in enumerate(text):
        if char.isalpha():
            return text[:i] + char.upper() + text[i + 1:]
    return text


_CONJUNCTIONS = {"and", "but", "so", "yet", "or", "then"}


def _boundaries(words: list[str]) -> list[tuple[int, int]]:
    """Candidate cuts ``(index of the first word of the second part, strength)``."""
    cuts = []
    for i in range(1, len(words)):
        prev, word = words[i - 1], words[i].lower().strip(",;:")
        if prev.endswith((";", ":")):
            cuts.append((i, 3))
        elif prev.endswith(",") and word in _CONJUNCTIONS:
            cuts.append((i, 3))
        elif prev.endswith(","):
            cuts.append((i, 2))
        elif word in {"and", "but"}:
            cuts.append((i, 1))
    return cuts


def split_long_sentence(sentence: str, max_words: int) -> list[str]:
    """Split a sentence longer than ``max_words`` at clause boundaries (``;``, ``:``, a comma
    before a conjunction, a comma, a bare conjunction), recursively, preferring strong
    boundaries near the middle. Parts shorter than three words are never made. A sentence
    with no boundary is returned whole."""
    words = sentence.split()
    if len(words) <= max_words:
        return [sentence]
    cuts = [(i, s) for i, s in _boundaries(words) if 3 <= i <= len(words) - 3]
    if not cuts:
        return [sentence]
    middle = len(words) / 2
    index, _ = max(cuts, key=lambda c: (c[1] * len(words) / 4 - abs(c[0] - middle), -c[0]))
    first = " ".join(words[:index]).rstrip(",;:") + "."
    end = sentence.rstrip()[-1] if sentence.rstrip()[-1:] in ".!?" else "."
    rest = words[index:]
    if rest[0].lower() == "and" and len(rest) > 3:
        rest = rest[1:]  # "..., and she ran" -> "She ran"
    second = sentence_case(" ".join(rest))
    if second[-1:] not in ".!?":
        second += end
    return split_long_sentence(first, max_words) + split_long_sentence(second, max_words)
