"""Language guessing: en/fr/de/es/it from stop-word counts."""

from __future__ import annotations

from storyreel.text.words import tokenize

STOPWORDS = {
    "en": {"the", "and", "of", "to", "a", "in", "is", "it", "that", "was", "he", "she", "for",
           "on", "with", "as", "his", "her", "they", "at", "be", "this", "from", "but", "not"},
    "fr": {"le", "la", "les", "et", "de", "des", "un", "une", "est", "dans", "que", "qui", "il",
           "elle", "pour", "pas", "sur", "au", "du", "avec", "ne", "se", "son", "sa"},
    "de": {"der", "die", "das", "und", "ist", "nicht", "ein", "eine", "zu", "den", "mit", "sich",
           "des", "auf", "dem", "im", "er", "sie", "es", "war", "auch", "nach", "wie"},
    "es": {"el", "la", "los", "las", "y", "de", "que", "en", "un", "una", "es", "por", "con",
           "para", "su", "se", "del", "al", "lo", "como", "pero", "sus", "le"},
    "it": {"il", "la", "che", "e", "di", "un", "una", "per", "non", "sono", "della", "con",
           "del", "gli", "le", "si", "lo", "nel", "ma", "anche", "come", "era", "alla"},
}


def detect_language(text: str, min_hits: int = 3) -> str | None:
    """Guess en/fr/de/es/it from stop-word counts; ``None`` when too little evidence.

    The winner needs ``min_hits`` stop words and a clear lead (at least 1.5 times the
    runner-up).
    """
    words = [w.lower() for w in tokenize(text)]
    scores = sorted(
        ((sum(1 for w in words if w in stops), lang) for lang, stops in STOPWORDS.items()),
        reverse=True,
    )
    (best, lang), (second, _) = scores[0], scores[1]
    if best < min_hits or best < 1.5 * second:
        return None
    return lang
