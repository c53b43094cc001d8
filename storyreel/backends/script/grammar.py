"""English verbs for the template writer: the third person and the base form of a verb, and
whether a word of a premise looks like a finite verb (with the lexicon's irregular forms)."""

from __future__ import annotations

import re

from storyreel import text as tx
from storyreel.backends.script.lexicon import LEXICON

IRREGULAR_S = {"have": "has", "be": "is", "do": "does", "go": "goes"}
BASE_OF: dict[str, str] = LEXICON["base_forms"]  # irregular and past forms -> base
# Words that are not a finite verb even when they end in -s or -ed.
_STOP_VERBS = set(LEXICON["phrase_stop_verbs"])  # verbs in tx.PHRASE_STOP
NOT_VERBS = (tx.PHRASE_STOP - _STOP_VERBS) | {
    "always", "perhaps", "sometimes", "unless", "thus", "yes", "bus", "news", "glass", "across",
    "towards", "afterwards", "gas", "lens", "series", "species", "chaos", "canvas", "needed",
    "named", "called", "beloved", "wicked", "naked", "sacred", "aged"}
# A word right after one of these is a noun or an adjective, not a verb.
DETERMINERS = tx.ARTICLES | {"of", "in", "on", "at", "to", "for", "with", "from", "by", "into",
                             "onto", "my", "your", "our", "their", "his", "her", "its", "this",
                             "that", "these", "those", "every", "each", "some", "no", "and", "or"}


def third_person(goal: str) -> str:
    """``guide the boat home`` -> ``guides the boat home``."""
    verb, _, rest = goal.partition(" ")
    lower = verb.lower()
    if lower in IRREGULAR_S:
        spoken = IRREGULAR_S[lower]
    elif re.search(r"(s|sh|ch|x|z|o)$", lower):
        spoken = verb + "es"
    elif re.search(r"[^aeiou]y$", lower):
        spoken = verb[:-1] + "ies"
    else:
        spoken = verb + "s"
    return f"{spoken} {rest}".strip()


def base_form(verb: str) -> str:
    """``guides`` -> ``guide``, ``fixes`` -> ``fix``, ``carries`` -> ``carry``, ``lit`` ->
    ``light``; a word that is not a finite verb comes back unchanged."""
    lower = verb.lower()
    if lower in BASE_OF:
        return BASE_OF[lower]
    if lower.endswith("ies") and len(lower) > 4:
        return verb[:-3] + "y"
    if re.search(r"(ss|sh|ch|x|zz|o)es$", lower):
        return verb[:-2]
    if lower.endswith("s") and not lower.endswith(("ss", "us", "is")):
        return verb[:-1]
    if lower.endswith("ied"):
        return verb[:-3] + "y"
    if re.search(r"([bdgkmnprt])\1ed$", lower):
        return verb[:-3]
    if lower.endswith("ed"):
        stem = verb[:-2]
        return stem + "e" if re.search(r"(v|u|c|z|dg|iz|bl|pl|tl|gl|id|ud|ur|ar)$", stem) \
            else stem
    return verb


def looks_finite(word: str, before: str = "", after: str = "", copula: bool = False) -> bool:
    """Whether ``word`` looks like a finite verb (``befriends``, ``lit``, ``rescued``) between
    the words ``before`` and ``after`` (a word after an article or a preposition is not one;
    an ``-ed`` word must be followed by an object or a particle)."""
    lower = word.lower().strip(",.;:!?")
    prev = before.lower().strip(",.;:!?")
    if copula and lower in {"is", "are", "was", "were", "has", "have"}:
        return True
    if not lower.isalpha() or word[:1].isupper() or lower in NOT_VERBS or prev in DETERMINERS:
        return False
    if lower in BASE_OF:
        return True
    if lower.endswith("ed") and len(lower) > 4:
        nxt = after.lower().strip(",.;:!?")
        return nxt in tx.ARTICLES | {"her", "his", "its", "their", "it", "him", "them", "up",
                                     "out", "off", "down", "away", "back", "home", "to", "into"}
    return lower.endswith("s") and not lower.endswith(("ss", "us", "is", "ous")) and \
        len(lower) > 3


def finite_at(words: list[str], limit: int = 12, copula: bool = False) -> int | None:
    """Index of the first finite-looking verb among the first ``limit`` words (``is``, ``has``
    too when ``copula``)."""
    for i, word in enumerate(words[:limit]):
        before = words[i - 1] if i else ""
        after = words[i + 1] if i + 1 < len(words) else ""
        if looks_finite(word, before, after, copula):
            return i
    return None
