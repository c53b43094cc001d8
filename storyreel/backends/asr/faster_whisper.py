"""``asr/faster-whisper``: Whisper word timestamps mapped onto the script's words.

faster-whisper (CTranslate2) transcribes each sentence's stretch of the narration with word
timestamps. What Whisper heard is then aligned to the script's words by sequence alignment
(:class:`difflib.SequenceMatcher` over normalised words): a script word that Whisper heard gets
Whisper's start and end; the script words between two matched ones are spread over the time
between them in proportion to their letters. The subtitles therefore show the script's
spelling (names, numbers in words, punctuation) with Whisper's timing, and what Whisper heard
is also what the WER check compares with the script.

The model (any CTranslate2 Whisper model id such as ``base.en`` or a local folder) is loaded once
per process and reused for every sentence; :func:`usage` reports loads, load time and peak
memory for ``words.json`` and the manifest.
"""

from __future__ import annotations

import hashlib
import logging
import time
from typing import Any

import numpy as np
from faster_whisper import WhisperModel

from storyreel.core.errors import StoryreelError
from storyreel.media.audio import resample
from storyreel.models.peaks import LoadStats
from storyreel.text.alignment import map_words, normalise

log = logging.getLogger(__name__)

SAMPLE_RATE = 16000
_CACHE: dict[tuple[str, str, str], WhisperModel] = {}
_STATS = LoadStats()


def load(model: str, device: str = "auto", compute_type: str = "default") -> WhisperModel:
    """The Whisper model, loaded on the first call of a process and reused after."""
    key = (model, device, compute_type)
    if key not in _CACHE:
        started = time.perf_counter()
        log.info("faster-whisper: loading %s (device %s, compute type %s)", model, device,
                 compute_type)
        try:
            _CACHE[key] = WhisperModel(model, device=device, compute_type=compute_type)
        except (OSError, ValueError, RuntimeError) as exc:
            raise StoryreelError(f"faster-whisper: cannot load model '{model}': "
                                 f"{str(exc).splitlines()[0] if str(exc) else exc!r}") from None
        _STATS.add(time.perf_counter() - started)
    return _CACHE[key]


def usage() -> dict[str, Any]:
    """Model loads in this process, their time, and the process's peak RSS."""
    return dict(_STATS.record())


class WhisperAligner:
    """Word timings and recognition with faster-whisper (options: model, device,
    compute_type, beam_size)."""

    name = "faster-whisper"

    def __init__(self, options: dict[str, Any]) -> None:
        self.model_name = str(options["model"])
        self.beam_size = int(options["beam_size"])
        # the story's language (BCP 47, given by the asr stage); Whisper wants its subtag
        language = options.get("language")
        self.language: str | None = str(language).split("-")[0].lower() if language else None
        self.model = load(self.model_name, str(options["device"]),
                          str(options["compute_type"]))
        self._last: tuple[str, list[tuple[str, float, float]]] | None = None

    def transcribe(self, samples: np.ndarray, sample_rate: int
                   ) -> list[tuple[str, float, float]]:
        """The words Whisper hears in a segment, with their times (cached for the last
        segment: the stage aligns and then recognises the same stretch)."""
        audio = resample(np.asarray(samples, dtype=np.float32), sample_rate, SAMPLE_RATE)
        audio = audio.astype(np.float32)
        key = hashlib.sha256(audio.tobytes()).hexdigest()
        if self._last and self._last[0] == key:
            return self._last[1]
        language = self.language
        if language and not self.model.model.is_multilingual and language != "en":
            language = None
        segments, _ = self.model.transcribe(
            audio, language=language, beam_size=self.beam_size, word_timestamps=True,
            condition_on_previous_text=False, vad_filter=False)
        words = [(w.word.strip(), float(w.start), float(w.end))
                 for seg in segments for w in (seg.words or []) if w.word.strip()]
        self._last = (key, words)
        return words

    def align(self, samples: np.ndarray, sample_rate: int, words: list[str],
              sentence: dict[str, Any] | None = None) -> list[tuple[float, float]] | None:
        """Start and end of each of ``words`` (seconds from the segment start), or ``None``
        when Whisper heard none of them."""
        if not words:
            return []
        heard = self.transcribe(samples, sample_rate)
        duration = len(samples) / float(sample_rate)
        spans, matched = map_words(words, heard, 0.0, duration)
        if matched == 0:
            return None
        return spans

    def recognize(self, samples: np.ndarray, sample_rate: int) -> str:
        """What Whisper hears in the audio (lowercase words)."""
        return " ".join(normalise(w) for w, _, _ in self.transcribe(samples, sample_rate)
                        if normalise(w))
