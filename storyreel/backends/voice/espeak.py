"""``voice/espeak``: espeak-ng speaks the narration (the fallback voice; 100+ languages).

The library is shared with the aligner (:mod:`storyreel.models.espeak`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from storyreel.core import registry
from storyreel.media.audio import check_voice
from storyreel.models.espeak import available_voices, engine

BASE_RATE_WPM = 175  # espeak-ng's rate parameter at length_scale 1
MIN_RATE, MAX_RATE = 80, 450


class EspeakTTS:
    """espeak-ng voice: ``synthesize(text, length_scale)`` gives float32 mono samples."""

    name = "espeak"
    model_sha256: str | None = None

    def __init__(self, options: dict[str, Any]) -> None:
        # the seed is unused: espeak-ng is deterministic
        self.voice = options["voice"] or registry.spec("voice", self.name).default_voice
        check_voice(self.voice, self.voices())
        self._engine = engine()
        self.sample_rate = self._engine.sample_rate

    @staticmethod
    def voices() -> list[str]:
        """Voice names this backend accepts (a ``+variant`` suffix is allowed too)."""
        return available_voices()

    def synthesize(self, text: str, length_scale: float = 1.0) -> np.ndarray:
        """Speak one sentence; ``length_scale`` > 1 is slower."""
        rate = int(round(BASE_RATE_WPM / max(length_scale, 1e-3)))
        rate = min(MAX_RATE, max(MIN_RATE, rate))
        pcm = self._engine.synthesize(text, self.voice, rate)
        return (pcm.astype(np.float32) / 32767.0).astype(np.float32)

