"""pocketsphinx (5.x) forced alignment and free recognition, fully offline.

* :meth:`SphinxAligner.align` aligns a known word sequence to a short audio segment (one
  sentence) and returns each word's start and end. Words the CMU dictionary lacks (names such
  as "Mara" or "Tilly", hyphenated compounds, possessives) get a pronunciation from espeak-ng's
  IPA phonemes mapped to ARPAbet, or from a crude letter-to-sound rule when espeak-ng is not
  available, and are added to the decoder's dictionary.
* :meth:`SphinxAligner.recognize` transcribes audio with the bundled US-English language model.

The acoustic model wants 16 kHz audio; other rates are resampled first.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import numpy as np

from storyreel.core.errors import StoryreelError
from storyreel.media.audio import resample, to_int16

log = logging.getLogger(__name__)

SAMPLE_RATE = 16000
FRAME_S = 0.01  # pocketsphinx's frame rate is 100 per second
ALIGN_BEAMS = {"beam": 1e-80, "wbeam": 1e-60, "pbeam": 1e-80}

# espeak-ng IPA (stress, length and syllable marks removed first) to CMU ARPAbet, matched
# longest first.
IPA_TO_ARPABET: dict[str, str] = {
    "aɪə": "AY ER", "aʊə": "AW ER", "aɪ": "AY", "aʊ": "AW", "eɪ": "EY", "oʊ": "OW", "əʊ": "OW",
    "ɔɪ": "OY", "tʃ": "CH", "dʒ": "JH", "eə": "EH R", "ɛə": "EH R", "ɪə": "IH R", "ʊə": "UH R",
    "ɑ": "AA", "ɒ": "AA", "æ": "AE", "a": "AE", "ʌ": "AH", "ə": "AH", "ɐ": "AH", "ɔ": "AO",
    "ɛ": "EH", "e": "EH", "ɚ": "ER", "ɜ": "ER", "ɝ": "ER", "ɪ": "IH", "ᵻ": "IH", "i": "IY",
    "ʊ": "UH", "u": "UW", "o": "OW", "b": "B", "d": "D", "ð": "DH", "f": "F", "ɡ": "G",
    "g": "G", "h": "HH", "j": "Y", "k": "K", "l": "L", "m": "M", "n": "N", "ŋ": "NG", "p": "P",
    "ɹ": "R", "r": "R", "s": "S", "ʃ": "SH", "t": "T", "θ": "TH", "v": "V", "w": "W", "z": "Z",
    "ʒ": "ZH", "ɾ": "T", "ʔ": "T", "x": "K", "ç": "HH", "ɬ": "L", "ʍ": "W", "ɫ": "L",
}
_IPA_KEYS = sorted(IPA_TO_ARPABET, key=len, reverse=True)
_IPA_IGNORED = re.compile("[ˈˌː\u0329\u032f'-]")

LETTER_TO_ARPABET: dict[str, str] = {
    "ch": "CH", "sh": "SH", "th": "TH", "ph": "F", "ng": "NG", "ck": "K", "ee": "IY",
    "oo": "UW", "ai": "EY", "ay": "EY", "ou": "AW", "ow": "OW", "oa": "OW", "ea": "IY",
    "a": "AE", "b": "B", "c": "K", "d": "D", "e": "EH", "f": "F", "g": "G", "h": "HH",
    "i": "IH", "j": "JH", "k": "K", "l": "L", "m": "M", "n": "N", "o": "AA", "p": "P",
    "q": "K", "r": "R", "s": "S", "t": "T", "u": "AH", "v": "V", "w": "W", "x": "K S",
    "y": "IY", "z": "Z",
}
_LETTER_KEYS = sorted(LETTER_TO_ARPABET, key=len, reverse=True)


def _greedy(text: str, table: dict[str, str], keys: list[str]) -> list[str]:
    """Longest-match transcription of ``text`` with ``table``; unknown characters skipped."""
    phones: list[str] = []
    i = 0
    while i < len(text):
        for key in keys:
            if text.startswith(key, i):
                phones.extend(table[key].split())
                i += len(key)
                break
        else:
            i += 1
    return _dedupe(phones)


def _dedupe(phones: list[str]) -> list[str]:
    """Drop a phone repeated back to back (espeak writes linking r as ``ɑːɹ_ɹ``)."""
    return [p for i, p in enumerate(phones) if i == 0 or p != phones[i - 1]]


def ipa_to_arpabet(phonemes: list[str]) -> list[str]:
    """ARPAbet phones of espeak-ng IPA phonemes (stress and syllable marks dropped)."""
    text = "".join(_IPA_IGNORED.sub("", p) for p in phonemes)
    return _greedy(text, IPA_TO_ARPABET, _IPA_KEYS)


def letters_to_arpabet(word: str) -> list[str]:
    """A crude letter-to-sound pronunciation, used when espeak-ng is not available."""
    return _greedy(re.sub("[^a-z]", "", word.lower()), LETTER_TO_ARPABET, _LETTER_KEYS)


def pronounce(word: str) -> list[str]:
    """ARPAbet pronunciation of an out-of-dictionary word (espeak-ng, else letter rules)."""
    try:
        from storyreel.models.espeak import ipa_phonemes

        phones = ipa_to_arpabet([p for w in ipa_phonemes(word) for p in w])
    except StoryreelError as exc:  # espeak-ng missing or broken: letters will do
        log.debug("espeak-ng phonemes unavailable (%s); letter rules for '%s'", exc, word)
        phones = []
    return phones or letters_to_arpabet(word) or ["AH"]


def _pcm(samples: np.ndarray, sample_rate: int) -> bytes:
    return to_int16(resample(samples, sample_rate, SAMPLE_RATE)).tobytes()


def _base_word(word: str) -> str:
    """``word(2)`` (a pronunciation variant) to ``word``."""
    return word.split("(", 1)[0]


class SphinxAligner:
    """Forced alignment and free recognition with pocketsphinx's bundled en-US model."""

    name = "pocketsphinx"

    def __init__(self, options: dict[str, Any]) -> None:
        del options  # nothing to configure
        try:
            from pocketsphinx import Decoder
        except ImportError as exc:
            raise StoryreelError(f"pocketsphinx is not installed: {exc}") from exc
        self._aligner: Any = Decoder(loglevel="FATAL", lm=None, **ALIGN_BEAMS)
        self._recognizer: Any = None  # loaded on first use (the language model)
        self._added: set[str] = set()

    def ensure_words(self, words: list[str]) -> None:
        """Add pronunciations for the dictionary-normalised ``words`` the dictionary lacks."""
        for word in words:
            if word in self._added or self._aligner.lookup_word(word) is not None:
                continue
            phones = " ".join(pronounce(word))
            log.info("pronunciation for '%s': %s", word, phones)
            self._aligner.add_word(word, phones, True)
            self._added.add(word)

    def align(self, samples: np.ndarray, sample_rate: int, words: list[str],
              sentence: dict[str, Any] | None = None) -> list[tuple[float, float]] | None:
        """Start and end (seconds from the segment start) of each of ``words``, or ``None``.

        ``words`` are lowercase dictionary words (letters and apostrophes). ``None`` means the
        alignment failed (no path through the audio, or a word sequence that does not match).
        """
        if not words:
            return []
        self.ensure_words(words)
        try:
            self._aligner.set_align_text(" ".join(words))
            self._aligner.start_utt()
            self._aligner.process_raw(_pcm(samples, sample_rate), full_utt=True)
            self._aligner.end_utt()
            segments = [(_base_word(s.word), s.start_frame, s.end_frame)
                        for s in self._aligner.seg() or ()]
        except RuntimeError as exc:
            log.warning("alignment failed: %s", exc)
            return None
        spans = [(a * FRAME_S, (b + 1) * FRAME_S) for w, a, b in segments if w in set(words)]
        if [w for w, _, _ in segments if w in set(words)] != words:
            return None
        return spans

    def recognize(self, samples: np.ndarray, sample_rate: int) -> str:
        """What the language-model decoder hears in the audio (lowercase words)."""
        if self._recognizer is None:
            from pocketsphinx import Decoder

            self._recognizer = Decoder(loglevel="FATAL")
        self._recognizer.start_utt()
        self._recognizer.process_raw(_pcm(samples, sample_rate), full_utt=True)
        self._recognizer.end_utt()
        hyp = self._recognizer.hyp()
        return hyp.hypstr if hyp is not None else ""
