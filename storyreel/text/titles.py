"""Title and noun phrases: Title Case, the noun phrase a premise opens with, articles."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from storyreel.text.names import NOT_NAMES
from storyreel.text.sentences import sentence_case

_SMALL_WORDS = {"a", "an", "and", "as", "at", "but", "by", "for", "in", "of", "on", "or",
                "the", "to", "with", "from"}


def title_case(text: str) -> str:
    """Title Case with small words kept lower-case (except the first and last)."""
    words = text.split()
    out = []
    for i, word in enumerate(words):
        keep_small = 0 < i < len(words) - 1 and word.lower() in _SMALL_WORDS
        if keep_small:
            out.append(word.lower())
        else:
            out.append("-".join(sentence_case(part) for part in word.split("-")))
    return " ".join(out)


ARTICLES = {"a", "an", "the"}
# Words that end a noun phrase: function words and the verbs premises tend to use.
PHRASE_STOP = _SMALL_WORDS | NOT_NAMES | {
    "must", "will", "can", "could", "should", "would", "is", "are", "was", "were", "has", "have",
    "had", "be", "named", "called", "wants", "tries", "learns", "needs", "finds", "discovers",
    "sets", "decides", "dreams", "hopes", "meets", "loses", "goes", "comes", "gets", "makes",
    "takes", "becomes", "lives", "works", "fails", "falls", "breaks", "begins", "starts",
    "into", "onto", "upon", "under", "over", "above", "below", "behind", "beneath", "near",
    "across", "through", "inside", "outside", "toward", "towards", "between", "among",
    "beyond", "along", "around", "during", "about", "against", "aboard", "which", "whose",
}


def noun_phrase(words: list[str], start: int = 0, max_words: int = 4) -> str:
    """The phrase from ``words[start]`` (an article or not) up to the next stop word or
    punctuation, at most ``max_words`` words after the article; ``""`` when none."""
    out: list[str] = []
    i = start
    if i < len(words) and words[i].lower() in ARTICLES | {"one"}:
        out.append(words[i])
        i += 1
    taken = 0
    while i < len(words) and taken < max_words:
        word = words[i]
        bare = word.strip(",.;:!?\"'")
        if not bare or bare.lower() in PHRASE_STOP or _looks_like_verb(words, i, taken):
            break
        out.append(bare)
        taken += 1
        if bare != word:  # punctuation ends the phrase
            break
        i += 1
    return " ".join(out) if taken else ""


_VERB_FOLLOWERS = {"a", "an", "the", "to", "for", "her", "his", "their", "its", "my", "our",
                   "that", "how", "what", "out", "up", "off", "back", "away", "home"}


def _looks_like_verb(words: list[str], i: int, taken: int) -> bool:
    """A word ending in -s right after a noun and before an article or ``to``/``for`` is
    most likely a verb (``a girl searches for``, ``a robot learns to``)."""
    word = words[i].lower()
    nxt = words[i + 1].lower().strip(",.;:") if i + 1 < len(words) else ""
    if taken >= 1 and len(word) > 4 and word.endswith("ly") and nxt.endswith(("s", "ed")) \
            and not nxt.endswith("ss"):
        return True  # an adverb before a verb: "a station secretly grows"
    return taken >= 1 and word.endswith("s") and not word.endswith("ss") and \
        nxt in _VERB_FOLLOWERS


def definite(phrase: str) -> str:
    """``a lost boat`` -> ``the lost boat``; other phrases unchanged."""
    return re.sub(r"^(?:a|an|one)\s+", "the ", phrase, flags=re.I)


@cache
def _inflect() -> Any:
    """inflect's engine, imported without typeguard's run-time checks: inflect 7 wraps its
    methods in ``@typechecked``, which re-compiles each from source on every import (2.5 s of
    CPU per job that reads text, 0.16 s without; we only ever pass it strings)."""
    import typeguard

    checked = typeguard.typechecked
    typeguard.typechecked = lambda target=None, **_: target if target else (lambda t: t)
    try:
        import inflect
    finally:
        typeguard.typechecked = checked
    return inflect.engine()


def indefinite_article(word: str) -> str:
    """``a`` or ``an`` for a word, by its sound (``an hour``, ``a unicorn``; from inflect)."""
    word = word.strip()
    if not word or not word[0].isalpha():
        return "a"
    return _inflect().a(word).split(" ", 1)[0].lower()
