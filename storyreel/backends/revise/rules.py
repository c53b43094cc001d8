"""RulesReviser: the embedded, rule-based reviser that makes a narration speakable.

Every transform lives in :mod:`storyreel.text`; this class applies them to one scene's
narration in the story's language (``language`` among its options, given by the revise stage:
English rules in English, :mod:`storyreel.text.locales` otherwise), splits it into sentences,
splits over-long English sentences at clause boundaries (other languages' sentences stay
whole: the shot list splits long ones at word boundaries), and reports every change.
"""

from __future__ import annotations

from typing import Any

from storyreel import text as tx
from storyreel.text import locales


class RulesReviser:
    """Markup, symbols, numbers, dates, times, money and abbreviations to plain words."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.max_sentence_words = int(options["max_sentence_words"])
        # the story's language (BCP 47, given by the revise stage)
        self.language = str(options.get("language") or "en")
        self.english = locales.base(self.language) == "en"

    def edit(self, narration: str) -> tuple[list[str], list[tx.Change]]:
        """Speakable sentences of a narration, and the changes made to get them."""
        spoken, changes = tx.speakable(narration, self.language)
        sentences: list[str] = []
        found = (tx.split_sentences(spoken) if self.english
                 else locales.split_local_sentences(spoken, self.language))
        for sentence in found:
            if not any(char.isalpha() for char in sentence):
                changes.append(tx.Change("symbol", sentence, "(removed)"))
                continue
            if not self.english:
                sentences.append(tx.sentence_case(locales.end_sentence(sentence,
                                                                       self.language)))
                continue
            if sentence[-1] not in ".!?":
                sentence += "."
            parts = tx.split_long_sentence(sentence, self.max_sentence_words)
            if len(parts) > 1:
                changes.append(tx.Change("split", sentence, " / ".join(parts)))
            sentences += [tx.sentence_case(part) for part in parts]
        return sentences, changes
