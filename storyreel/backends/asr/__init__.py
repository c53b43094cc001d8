"""ASR backends (stage ``asr``): word timings by forced alignment, and free recognition."""

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

    def align(self, samples: np.ndarray, sample_rate: int, words: list[str]
              ) -> list[tuple[float, float]] | None:
        """(start, end) in seconds from the segment's start of each of ``words`` (lowercase
        dictionary words), or ``None`` when the alignment fails."""
        ...

    def recognize(self, samples: np.ndarray, sample_rate: int) -> str:
        """What free recognition hears in the audio (lowercase words)."""
        ...

# The built-in backends of this kind (storyreel.core.registry reads them).
SPECS = (
    BackendSpec("asr", "pocketsphinx", "storyreel.backends.asr.sphinx:SphinxAligner",
                summary="pocketsphinx forced alignment and free recognition (offline)"),
    BackendSpec("asr", "faster-whisper", "storyreel.backends.asr.faster_whisper:WhisperAligner",
                gpu=True, extra="whisper", uses_model=True,
                summary="faster-whisper word timestamps mapped onto the script's words"),
)
