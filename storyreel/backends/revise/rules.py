"""RulesReviser: the embedded, rule-based reviser that makes a narration speakable.

Every transform lives in :mod:`storyreel.text`; this class applies them to one scene's
narration, splits it into sentences, splits over-long sentences at clause boundaries, and
reports every change.
"""

from __future__ import annotations

from typing import Any

from storyreel import text as tx


class RulesReviser:
    """Markup, symbols, numbers, dates, times, money and abbreviations to plain words."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.max_sentence_words = int(options["max_sentence_words"])

    def edit(self, narration: str) -> tuple[list[str], list[tx.Change]]:
        """Speakable sentences of a narration, and the changes made to get them."""
        spoken, changes = tx.speakable(narration)
        sentences: list[str] = []
        for sentence in tx.split_sentences(spoken):
            if not any(char.isalpha() for char in sentence):
                changes.append(tx.Change("symbol", sentence, "(removed)"))
                continue
            if sentence[-1] not in ".!?":
                sentence += "."
            parts = tx.split_long_sentence(sentence, self.max_sentence_words)
            if len(parts) > 1:
                changes.append(tx.Change("split", sentence, " / ".join(parts)))
            sentences += [tx.sentence_case(part) for part in parts]
        return sentences, changes
