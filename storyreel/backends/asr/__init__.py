"""ASR backends (stage ``asr``): word timings by forced alignment, and free recognition.

The asr stage builds a backend from its options plus ``language`` (the story's, BCP 47), and
calls it sentence by sentence. A backend whose spec says ``word_timings`` aligns from the
timings the voice reported (``asr/voice``) rather than from the audio.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from storyreel.core.registry import BackendSpec

if TYPE_CHECKING:
    import numpy as np


@runtime_checkable
class AsrBackend(Protocol):
    """An aligner: where known words lie in a stretch of audio, and what a listener hears."""

    name: str

    def __init__(self, options: dict[str, Any]) -> None: ...

    def align(self, samples: np.ndarray, sample_rate: int, words: list[str],
              sentence: dict[str, Any]) -> list[tuple[float, float]] | None:
        """(start, end) in seconds from the segment's start of each of ``words`` (the
        sentence's words as dictionary words, lowercase, for audio aligners; as written, one
        per subtitle unit, for ``word_timings`` aligners), or ``None`` when the alignment
        fails. ``sentence`` is the voice's record of the sentence: its ``text`` and, when the
        voice reported them, its ``words`` with times from the segment's start."""
        ...

    def recognize(self, samples: np.ndarray, sample_rate: int) -> str | None:
        """What free recognition hears in the audio (lowercase words); None when the backend
        recognises nothing (the WER is then not measured)."""
        ...

# The built-in backends of this kind (storyreel.core.registry reads them).
SPECS = (
    BackendSpec("asr", "pocketsphinx", "storyreel.backends.asr.sphinx:SphinxAligner",
                summary="pocketsphinx forced alignment and free recognition (offline)",
                languages=("en",)),
    BackendSpec("asr", "faster-whisper", "storyreel.backends.asr.faster_whisper:WhisperAligner",
                gpu=True, extra="whisper", uses_model=True,
                summary="faster-whisper word timestamps mapped onto the script's words",
                languages="faster_whisper.tokenizer:_LANGUAGE_CODES"),
    BackendSpec("asr", "voice", "storyreel.backends.asr.voice:VoiceTimings",
                summary="the word timings the voice reported (offline, any language it speaks)",
                languages="storyreel.backends.asr.voice:languages", word_timings=True),
)
