"""Voice backends (stage ``voice``): speak one sentence at a time.

The voice stage builds a backend from its options plus three keys of the story: ``voice`` (the
voice chosen for the story's language), ``seed`` and ``language`` (BCP 47). A backend whose
spec says ``word_timings`` also offers ``synthesize_words(text, length_scale)``: the samples and
each word it spoke as (written text, start s, end s), pieces that tile the sentence in order.
A backend that cannot load (missing or corrupt model) raises
:class:`storyreel.media.audio.TTSLoadError`, which lets the stage fall back; an unknown voice
name is a user error (:func:`storyreel.media.audio.check_voice`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from storyreel.core.registry import BackendSpec

if TYPE_CHECKING:
    import numpy as np


@runtime_checkable
class VoiceBackend(Protocol):
    """A speaker: float32 mono samples of one sentence at ``sample_rate``."""

    name: str
    voice: str  # the voice actually used
    sample_rate: int
    model_sha256: str | None  # of the model file, when the backend has one

    def __init__(self, options: dict[str, Any]) -> None: ...

    def synthesize(self, text: str, length_scale: float = 1.0) -> np.ndarray:
        """One sentence's speech; ``length_scale`` > 1 is slower."""
        ...

# The built-in backends of this kind (storyreel.core.registry reads them).
SPECS = (
    BackendSpec("voice", "piper", "storyreel.backends.voice.piper:PiperTTS",
                summary="Piper neural TTS with a voice shipped as a Python package",
                words_per_minute=210.3, default_voice="joe",
                voices="storyreel.backends.voice.piper:VOICES"),
    BackendSpec("voice", "espeak", "storyreel.backends.voice.espeak:EspeakTTS",
                summary="espeak-ng through espeakng-loader: 100+ languages, word timings",
                words_per_minute=207.2, default_voice="en-us",
                voices="storyreel.models.espeak:voice_languages", word_timings=True,
                rates="storyreel.backends.voice.espeak:RATES"),
)
