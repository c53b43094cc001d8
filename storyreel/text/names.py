"""Proper names: runs of capitalised words, and whether a name is a place."""

from __future__ import annotations

import re
from dataclasses import dataclass

from storyreel.text.sentences import split_sentences

NOT_NAMES = {
    "a", "an", "the", "one", "every", "each", "on", "in", "at", "but", "and", "so", "then",
    "when", "after", "before", "as", "if", "by", "from", "with", "without", "this", "that",
    "there", "here", "his", "her", "their", "its", "he", "she", "they", "it", "we", "i", "you",
    "once", "now", "until", "while", "some", "all", "no", "not", "what", "who", "where", "why",
    "how", "only", "just", "even", "still", "yet", "for", "of", "to", "or", "nor", "my", "our",
    "your", "long", "late", "early", "soon", "later", "meanwhile", "suddenly", "finally",
    "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december", "monday", "tuesday", "wednesday", "thursday", "friday",
    "saturday", "sunday", "mister", "missus", "doctor", "professor", "captain", "saint",
    "dr", "mr", "mrs", "ms", "prof", "capt", "st", "lt", "sgt", "col", "gen", "rev", "jr", "sr",
}
_CAP_RUN = re.compile(r"\b([A-Z][a-z'\u2019]+(?:[ -][A-Z][a-z'\u2019]+)*)\b")
_PLACE_PREPS = {"in", "at", "to", "from", "near", "across", "into", "through", "toward",
                "towards", "of", "over", "beyond"}


@dataclass(frozen=True)
class Name:
    """A proper name found in a text and whether it looks like a place."""

    text: str
    place: bool


def find_names(text: str) -> list[Name]:
    """Proper names in order of first appearance: runs of capitalised words.

    Words that are capitalised only because they start a sentence are ignored unless they
    appear capitalised elsewhere too; a name right after ``in``/``at``/``to``… is a place,
    a name after ``named``/``called`` is always a character.
    """
    names: dict[str, Name] = {}
    for sentence in split_sentences(text):
        for match in _CAP_RUN.finditer(sentence):
            candidate = _trim_name(match.group(1))
            if not candidate:
                continue
            before = sentence[:match.start()].split()
            prev = before[-1].lower().strip(",;:") if before else ""
            sentence_start = not before or before[-1][-1:] in "\"'\u201c:"
            if sentence_start and not _capitalised_elsewhere(text, candidate):
                continue
            is_place = prev in _PLACE_PREPS and prev not in {"named", "called"}
            if candidate not in names:
                names[candidate] = Name(candidate, is_place)
    return list(names.values())


def _trim_name(run: str) -> str:
    """Drop leading words that are not names (``On Tuesday Mara`` -> ``Mara``)."""
    words = run.replace("-", " - ").split()
    while words and (words[0].lower() in NOT_NAMES or words[0] == "-"):
        words.pop(0)
    while words and (words[-1].lower() in NOT_NAMES or words[-1] == "-"):
        words.pop()
    return " ".join(words).replace(" - ", "-")


def _capitalised_elsewhere(text: str, word: str) -> bool:
    """Whether ``word`` appears capitalised somewhere that is not a sentence start."""
    for sentence in split_sentences(text):
        for match in re.finditer(rf"\b{re.escape(word)}\b", sentence):
            if match.start() > 0 and sentence[:match.start()].strip()[-1:] not in "\"'\u201c:":
                return True
    return False
