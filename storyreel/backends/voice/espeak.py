"""``voice/espeak``: espeak-ng speaks the narration (the fallback voice; 100+ languages).

The library is shared with the aligner (:mod:`storyreel.models.espeak`). espeak-ng reports where
each word begins as it speaks: :meth:`EspeakTTS.synthesize_words` returns those timings with the
samples (the voice stage records them in voice.json, and ``asr/voice`` aligns from them). A
Japanese sentence is read as kana (:mod:`storyreel.text.reading`); the timings still point at
the written words.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from storyreel.core import registry
from storyreel.media.audio import check_voice
from storyreel.models.espeak import available_voices, engine
from storyreel.text.reading import reading

BASE_RATE_WPM = 175  # espeak-ng's rate parameter at length_scale 1
MIN_RATE, MAX_RATE = 80, 450
# Words per minute at length_scale 1 per language (words as storyreel.core.languages counts
# them: 1.25 characters of Chinese or Japanese make one), measured on the speech of the
# benchmark's texts (python benchmarks/languages.py --rates); others speak at 207.2.
RATES = {"en": 207.2, "es": 250.9, "de": 217.2, "fr": 284.4, "pt": 240.2, "ru": 224.5,
         "hi": 325.0, "ar": 132.1, "ja": 314.1, "zh": 230.7, "cmn": 230.7}


class EspeakTTS:
    """espeak-ng voice: ``synthesize(text, length_scale)`` gives float32 mono samples."""

    name = "espeak"
    model_sha256: str | None = None

    def __init__(self, options: dict[str, Any]) -> None:
        # the seed is unused: espeak-ng is deterministic
        self.voice = options["voice"] or registry.spec("voice", self.name).default_voice
        check_voice(self.voice, self.voices())
        self.language = str(options.get("language") or "")
        self._engine = engine()
        self.sample_rate = self._engine.sample_rate

    @staticmethod
    def voices() -> list[str]:
        """Voice names this backend accepts (a ``+variant`` suffix is allowed too)."""
        return available_voices()

    def _rate(self, length_scale: float) -> int:
        rate = int(round(BASE_RATE_WPM / max(length_scale, 1e-3)))
        return min(MAX_RATE, max(MIN_RATE, rate))

    def synthesize(self, text: str, length_scale: float = 1.0) -> np.ndarray:
        """Speak one sentence; ``length_scale`` > 1 is slower."""
        return self.synthesize_words(text, length_scale)[0]

    def synthesize_words(self, text: str, length_scale: float = 1.0
                         ) -> tuple[np.ndarray, list[tuple[str, float, float]]]:
        """Speak one sentence; with each word espeak-ng spoke: (the written text it covers,
        start and end in seconds from the first sample). A word ends where the next begins
        (the last where the audio ends); the pieces tile the sentence."""
        read = reading(text, self.language)
        pcm, events = self._engine.synthesize(read.spoken, self.voice, self._rate(length_scale))
        audio = (pcm.astype(np.float32) / 32767.0).astype(np.float32)
        starts: list[tuple[int, int]] = []
        for position, sample in events:  # numbers are spoken in parts: keep their first
            written = read.written_index(position)
            if not starts or written > starts[-1][0]:
                starts.append((written, sample))
        words = []
        for k, (at, sample) in enumerate(starts):
            end_at, end_sample = starts[k + 1] if k + 1 < len(starts) else (len(text), len(pcm))
            piece = text[0 if k == 0 else at:end_at].strip()
            if piece:
                words.append((piece, sample / self.sample_rate,
                              max(sample, end_sample) / self.sample_rate))
        return audio, words
