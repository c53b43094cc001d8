"""Words: the one word tokeniser of storyreel, and the word lists alignment and WER compare.

:func:`tokenize` is what every stage counts and matches as a word (runs of letters and digits,
keeping inner apostrophes, hyphens and decimal points). :func:`written_words` and
:func:`normalised_words` are the same words as a subtitle shows them and as alignment and WER
compare them.
"""

from __future__ import annotations

import re

_WORD = re.compile(r"[^\W_]+(?:['\u2019\-.][^\W_]+)*", re.UNICODE)


def tokenize(text: str) -> list[str]:
    """Words of a text: runs of letters/digits, keeping inner apostrophes, hyphens, decimals."""
    return _WORD.findall(text)


def word_count(text: str) -> int:
    """Number of words as :func:`tokenize` sees them."""
    return len(tokenize(text))


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


def normalised_words(text: str) -> list[str]:
    """Lower-case words without punctuation (hyphens split words), for alignment and WER."""
    flat = _NOT_WORD.sub(" ", text.lower().replace("\u2019", "'").replace("-", " "))
    return [w.strip("'") for w in flat.split() if w.strip("'")]
