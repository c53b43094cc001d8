"""``asr/voice``: word timings from the voice itself, for languages no recogniser here knows.

A voice that reports word timings (espeak-ng: where each word begins, as it speaks) has them
recorded with each sentence in voice.json. This aligner maps them onto the sentence's written
units (:func:`storyreel.text.alignment.spread_over_pieces`): a unit takes the time of the piece
it falls in, shared among a piece's units by their characters. It hears nothing, so the WER is
not measured.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from storyreel.core import registry
from storyreel.text.alignment import spread_over_pieces


def languages() -> tuple[str, ...]:
    """The languages of the voice backends that report word timings."""
    found: set[str] = set()
    for name in registry.known("voice"):
        if registry.spec("voice", name).word_timings:
            found |= set(registry.languages("voice", name) or ())
    return tuple(sorted(found))


class VoiceTimings:
    """Aligns from the voice's word timings (``sentence["words"]``)."""

    name = "voice"

    def __init__(self, options: dict[str, Any]) -> None:
        del options  # nothing to configure

    def align(self, samples: np.ndarray, sample_rate: int, words: list[str],
              sentence: dict[str, Any]) -> list[tuple[float, float]] | None:
        """The times of ``words`` (the sentence's written units) from the voice's pieces;
        None when the voice reported none."""
        pieces = [(w["text"], float(w["start"]), float(w["end"]))
                  for w in sentence.get("words") or []]
        if not pieces or not words:
            return None if words else []
        return spread_over_pieces(str(sentence["text"]), words, pieces)

    def recognize(self, samples: np.ndarray, sample_rate: int) -> str | None:
        """Nothing: the voice's timings say when, not what a listener hears."""
        return None
