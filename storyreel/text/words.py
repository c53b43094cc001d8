"""Words: the one word tokeniser of storyreel, and the word lists alignment and WER compare.

:func:`tokenize` is what every stage counts and matches as a word (runs of letters and digits,
keeping inner apostrophes, hyphens and decimal points). :func:`written_words` and
:func:`normalised_words` are the same words as a subtitle shows them and as alignment and WER
compare them. In scripts written without spaces (Chinese, Japanese) a character is the unit a
subtitle shows and times (:func:`written_units`), and :func:`join_units` puts units back
together with a space only where the text had one.
"""

from __future__ import annotations

import re

from storyreel.core.languages import SPACELESS, WORD, count_words

_WORD = WORD


def tokenize(text: str) -> list[str]:
    """Words of a text: runs of letters/digits, keeping inner apostrophes, hyphens, decimals."""
    return _WORD.findall(text)


def word_count(text: str) -> int:
    """Number of words: as :func:`tokenize` sees them, with characters of spaceless scripts
    counted as :data:`storyreel.core.languages.CHARS_PER_WORD` a word."""
    return count_words(text)


_LETTER = re.compile(r"[^\W\d_]")
_NOT_WORD = re.compile(r"[^a-z' ]+")


def written_words(text: str) -> list[str]:
    """The words as written (punctuation attached), one per spoken word: tokens without
    letters join the previous word (or the next one at the start)."""
    words: list[str] = []
    pending = ""
    for token in text.split():
        if _LETTER.search(token):
            words.append(pending + token)
            pending = ""
        elif words:
            words[-1] += " " + token
        else:
            pending += token + " "
    return words


def normalised_words(text: str, language: str = "en") -> list[str]:
    """Lower-case words without punctuation (hyphens split words), for alignment and WER: the
    English dictionary's letters for ``en``; any letters (a spaceless script's characters one
    by one) for other languages."""
    lowered = text.lower().replace("\u2019", "'").replace("-", " ")
    if language.split("-", 1)[0] != "en":
        return [w for w in (t.strip("'") for t in _UNIT.findall(lowered)) if _LETTER.search(w)]
    flat = _NOT_WORD.sub(" ", lowered)
    return [w.strip("'") for w in flat.split() if w.strip("'")]


_UNIT = re.compile(rf"{SPACELESS.pattern}|[^\W_]+(?:'[^\W_]+)*")
_SPACED_UNIT = re.compile(rf"{SPACELESS.pattern}|[^\s{SPACELESS.pattern[1:-1]}]+")


def written_units(text: str) -> list[str]:
    """The units a subtitle shows and times, as written: :func:`written_words`, except that in
    spaceless scripts every character is one (punctuation joins the unit before it)."""
    if not SPACELESS.search(text):
        return written_words(text)
    units: list[str] = []
    for token in _SPACED_UNIT.findall(text):
        if units and not _LETTER.search(token) and not token.isdigit():
            units[-1] += token
        else:
            units.append(token)
    return units


def join_units(units: list[str]) -> str:
    """Units back into text: a space between two, unless one side is a spaceless script's
    character (``猫`` ``が`` -> ``猫が``, ``New`` ``York`` -> ``New York``)."""
    out = ""
    for unit in units:
        if out and not (SPACELESS.match(out[-1]) or SPACELESS.match(unit[0])):
            out += " "
        out += unit
    return out
