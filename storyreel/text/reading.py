"""What a voice reads: the text in the form a voice of its language speaks, with each spoken
character traced back to the written text (so that the voice's word timings land on the
written words).

Japanese is written with kanji that espeak-ng's ``ja`` voice cannot read (it names each one a
"Chinese letter" in English): the sentence is read as kana first, word by word, with pykakasi
(its dictionary in a pure-Python wheel; pyopenjtalk reads better but builds with a C++
compiler, and cutlet needs MeCab and a 50 MB dictionary). The words are separated by spaces,
so that espeak-ng reports each one's time. Every other language is read as written.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any


@dataclass(frozen=True)
class Reading:
    """The spoken form of a text and, for each of its characters, the index of the written
    character it comes from."""

    spoken: str
    source: tuple[int, ...]

    def written_index(self, spoken_index: int) -> int:
        """The written character a spoken character stands for (the end for the end)."""
        if not self.source:
            return 0
        return self.source[min(max(spoken_index, 0), len(self.source) - 1)]


@cache
def _kakasi() -> Any:
    import pykakasi

    return pykakasi.kakasi()


def kana_reading(text: str) -> Reading:
    """Japanese as hiragana, one word (pykakasi's segmentation) per space-separated piece."""
    spoken: list[str] = []
    source: list[int] = []
    cursor = 0
    for token in _kakasi().convert(text):
        written, kana = token["orig"], token["hira"] or token["orig"]
        at = text.find(written, cursor) if written else -1
        at = cursor if at < 0 else at
        if spoken:
            spoken.append(" ")
            source.append(at)
        spoken.append(kana)
        # the spoken characters spread over the written ones in proportion
        source += [at + (k * len(written)) // max(1, len(kana)) for k in range(len(kana))]
        cursor = at + len(written)
    return Reading("".join(spoken), tuple(source))


def reading(text: str, language: str) -> Reading:
    """The form a voice speaks ``text`` in, for a story in ``language`` (BCP 47)."""
    if language.split("-", 1)[0].lower() == "ja":
        return kana_reading(text)
    return Reading(text, tuple(range(len(text))))
