"""idea: normalise a story entry into idea.json.

Markup is stripped, whitespace collapsed (paragraph breaks kept for full texts), and the idea
classified: a *premise* (at most ``premise_max_words`` words, one paragraph) is expanded by the
script stage; anything longer is a *full text*, used verbatim. A title is derived when none is
given. The language is the story's, as validation settled it (given, the config's default, or
detected: :mod:`storyreel.core.languages`).
"""

from __future__ import annotations

import logging
import re
from typing import Any

from storyreel import text as tx
from storyreel.core import languages
from storyreel.core.artifacts import write_json
from storyreel.job.context import JobContext
from storyreel.text import locales

log = logging.getLogger(__name__)

TITLE_MAX_WORDS = 6


def classify(text: str, premise_max_words: int) -> str:
    """``premise`` for one short paragraph, else ``text``."""
    return "premise" if languages.is_premise(text, premise_max_words) else "text"


def derive_title(text: str) -> str:
    """A title from the idea: ``<Name> and the <Thing>`` when the protagonist has a name and a
    noun phrase follows it, else ``<Name>``, else the opening noun phrase (``The Shy Robot``),
    else the first words."""
    characters = [name.text for name in tx.find_names(text) if not name.place]
    first_sentence = (tx.split_sentences(text) or [text])[0]
    if characters:
        name = characters[0]
        words = first_sentence[first_sentence.find(name) + len(name):].split()
        for i, word in enumerate(words):
            if word.lower() in tx.ARTICLES:
                phrase = tx.noun_phrase(words, i, max_words=3)
                if len(phrase.split()) > 1:
                    return tx.title_case(f"{name} and {tx.definite(phrase)}")
        return name
    phrase = tx.noun_phrase(first_sentence.split(), 0, max_words=4)
    if len(phrase.split()) > 1:
        return tx.title_case(tx.definite(phrase) if phrase.split()[0].lower() in tx.ARTICLES
                             else phrase)
    words = tx.tokenize(first_sentence)[:TITLE_MAX_WORDS]
    return tx.title_case(" ".join(words)) if words else "Untitled"


def first_words(sentence: str) -> str:
    """A title from a sentence in another language than English: its first words (its first
    characters in a script written without spaces), without the end mark."""
    units = tx.written_units(sentence.rstrip(locales.TERMINATORS))
    return tx.join_units(units[:TITLE_MAX_WORDS * (2 if languages.SPACELESS.search(
        sentence) else 1)]).rstrip(",;:\u3001\uff0c") or "Untitled"


_LEADING_HEADING = re.compile(r"^\s*#{1,6}\s+(.+?)\s*#*\s*(?:\n|$)")


def split_heading(raw: str) -> tuple[str | None, str]:
    """A leading Markdown heading (the title) and the rest of the idea."""
    match = _LEADING_HEADING.match(raw)
    if not match:
        return None, raw
    heading = tx.normalise_whitespace(tx.strip_markup(match.group(1)), keep_paragraphs=False)
    return heading or None, raw[match.end():]


def normalise_idea(entry: dict[str, Any], options: dict[str, Any]) -> dict[str, Any]:
    """The idea.json document of a story entry (see ``rules/text.smk`` for the fields).

    A leading Markdown heading is taken as the title when the entry gives none.
    """
    heading, raw = split_heading(str(entry["idea"]))
    if not raw.strip():
        heading, raw = None, str(entry["idea"])
    clean = tx.normalise_whitespace(tx.strip_markup(raw), keep_paragraphs=True)
    kind = classify(clean, int(options["premise_max_words"]))
    if kind == "premise":
        clean = " ".join(clean.split())
    language = entry.get("language") or "en"
    english = languages.primary(language) == "en"
    first = tx.split_paragraphs(clean)[0] if clean else ""
    sentences = (tx.split_sentences(first) if english
                 else locales.split_local_sentences(first, language)) if clean else []
    title = entry.get("title") or heading or (derive_title(clean) if english else
                                              first_words(sentences[0] if sentences else clean))
    return {
        "story": entry["id"],
        "title": " ".join(str(title).split()),
        "kind": kind,
        "premise": clean if kind == "premise" else (sentences[0] if sentences else clean),
        "text": clean if kind == "text" else None,
        "language": language,
        "detected_language": entry.get("detected_language"),
        "duration_s": float(entry["duration_s"]),
        "aspect": entry.get("aspect") or "16:9",
        "style": entry.get("style") or "storybook",
        "voice": entry.get("voice"),
        "seed": int(entry.get("seed") or 0),
        "words": tx.word_count(clean),
    }


def main(smk: Any, job: JobContext) -> None:
    """Snakemake entry point: the story entry (params) -> idea.json."""
    idea = normalise_idea(dict(smk.params.entry), dict(smk.params.options))
    write_json(smk.output.idea, idea, "idea")
    log.info("%s: %s, %d words, title '%s'", idea["story"], idea["kind"], idea["words"],
             idea["title"])
