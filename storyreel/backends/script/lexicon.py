"""The template writer's word tables (``data/lexicon.yaml``, validated with the rest of
the story data by template.py's loader) and the hero's pronoun they decide."""

from __future__ import annotations

import functools
from importlib import resources

import yaml

from storyreel import text as tx

LEXICON = yaml.safe_load(
    (resources.files("storyreel.backends.script") / "data/lexicon.yaml").read_text())
SHE_WORDS, HE_WORDS, IT_WORDS = (set(LEXICON[k]) for k in ("she_words", "he_words", "it_words"))
SHE_ENDINGS = tuple(LEXICON["she_endings"])
PRONOUNS = {
    "she": {"she": "she", "her": "her", "her_obj": "her", "herself": "herself"},
    "he": {"she": "he", "her": "his", "her_obj": "him", "herself": "himself"},
    "it": {"she": "it", "her": "its", "her_obj": "it", "herself": "itself"},
}


def hero_pronoun(premise: str, name: str | None, descriptor: str, titled: bool) -> str:
    """she, he or it: from the premise's gendered words, else "it" for an unnamed thing ("a
    small robot"), else from the hero's name (``titled``: it starts with a title such as
    "Dr."), else she."""
    words = {w.lower() for w in tx.tokenize(premise)}
    desc = {w.lower() for w in tx.tokenize(descriptor)}
    if words & SHE_WORDS:
        return "she"
    if words & HE_WORDS:
        return "he"
    if not name and desc & IT_WORDS:
        return "it"
    if name:
        return _name_pronoun(name, titled)
    return "she"


@functools.cache
def _names():  # noqa: ANN202 - gender_guesser's Detector (40 000 first names, loaded once)
    import gender_guesser.detector

    return gender_guesser.detector.Detector(case_sensitive=False)


def _name_pronoun(name: str, titled: bool) -> str:
    """The pronoun a first name usually takes (gender-guesser's name dictionary); for names it
    does not know or counts as unisex, the name's ending."""
    words = [w.strip(".'’") for w in name.split()]
    words = [w for w in words if w.replace("-", "").isalpha()] or ["?"]
    for word in words:  # "Dr. Aiko Tanaka": the title is unknown, the first name is not
        guess = _names().get_gender(word.split("-")[0])
        if guess in ("female", "mostly_female"):
            return "she"
        if guess in ("male", "mostly_male"):
            return "he"
    first = words[1] if len(words) > 1 and titled else words[0]
    return "she" if first.lower().endswith(SHE_ENDINGS) else "he"
