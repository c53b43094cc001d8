"""The espeak-ng library through ``espeakng-loader`` (the library and its data ship as wheels):
speech for the ``voice/espeak`` backend, and phonemes (IPA) for words the aligner's dictionary
does not know (:func:`ipa_phonemes`, ``asr/pocketsphinx``).

The shared library is driven with ctypes: synchronous synthesis into memory through a callback,
so no audio device, subprocess or system package is needed.

espeak-ng keeps global state, so the library is initialised once per process and calls are
serialised with a lock.
"""

from __future__ import annotations

import ctypes
import logging
import threading
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from storyreel.core.errors import StoryreelError
from storyreel.media.audio import TTSLoadError

log = logging.getLogger(__name__)

DEFAULT_VOICE = "en-us"

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INIT_DONT_EXIT = 0x8000
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_PARAM_RATE = 1
_PHONEMES_IPA = 0x02
_SEPARATOR = "_"

_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int,
                             ctypes.c_void_p)
_LOCK = threading.Lock()


class _Engine:
    """The process-wide espeak-ng library, initialised for synchronous synthesis."""

    def __init__(self) -> None:
        try:
            import espeakng_loader
        except ImportError as exc:
            raise TTSLoadError(f"espeak: the Python package espeakng-loader is missing: {exc}") \
                from exc
        try:
            self.data_path = Path(espeakng_loader.get_data_path())
            self.lib = ctypes.CDLL(espeakng_loader.get_library_path())
        except (OSError, RuntimeError) as exc:
            raise TTSLoadError(f"espeak: cannot load libespeak-ng: {exc}") from exc
        self.lib.espeak_Initialize.restype = ctypes.c_int
        self.lib.espeak_TextToPhonemes.restype = ctypes.c_char_p
        self.sample_rate = int(self.lib.espeak_Initialize(
            _AUDIO_OUTPUT_SYNCHRONOUS, 0, str(self.data_path).encode(), _INIT_DONT_EXIT))
        if self.sample_rate <= 0:
            raise TTSLoadError(f"espeak: espeak_Initialize failed with data at {self.data_path}")
        self._chunks: list[np.ndarray] = []
        self._callback = _CALLBACK(self._collect)  # kept alive as long as the engine
        self.lib.espeak_SetSynthCallback(self._callback)
        self._voice: str | None = None

    def _collect(self, wav: Any, count: int, _events: Any) -> int:
        if count > 0 and wav:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(count,)).copy())
        return 0

    def set_voice(self, voice: str) -> None:
        if voice != self._voice:
            if self.lib.espeak_SetVoiceByName(voice.encode()) != 0:
                raise StoryreelError(f"espeak: cannot select voice '{voice}'")
            self._voice = voice

    def synthesize(self, text: str, voice: str, rate: int) -> np.ndarray:
        """Speak ``text`` into int16 samples."""
        with _LOCK:
            self.set_voice(voice)
            self.lib.espeak_SetParameter(_PARAM_RATE, int(rate), 0)
            self._chunks = []
            data = text.encode("utf-8")
            status = self.lib.espeak_Synth(ctypes.c_char_p(data), len(data) + 1, 0,
                                           _POS_CHARACTER, 0, _CHARS_UTF8, None, None)
            self.lib.espeak_Synchronize()
            if status != 0:
                raise StoryreelError(f"espeak: synthesis failed (status {status}) for '{text}'")
            chunks, self._chunks = self._chunks, []
        return np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int16)

    def phonemes(self, text: str, voice: str) -> list[list[str]]:
        """IPA phonemes of ``text``, one list per word espeak-ng reports."""
        with _LOCK:
            self.set_voice(voice)
            buffer = ctypes.c_char_p(text.encode("utf-8"))
            pointer = ctypes.pointer(buffer)
            mode = _PHONEMES_IPA | (ord(_SEPARATOR) << 8)
            pieces: list[str] = []
            while pointer.contents.value:
                out = self.lib.espeak_TextToPhonemes(pointer, _CHARS_UTF8, mode)
                if not out:
                    break
                pieces.append(out.decode("utf-8"))
        return [word.split(_SEPARATOR) for piece in pieces for word in piece.split()]


@cache
def engine() -> _Engine:
    """The shared espeak-ng engine (loaded on first use)."""
    return _Engine()


def available_voices() -> list[str]:
    """Voice (language) names espeak-ng's data provides, e.g. ``en-us``, ``en-gb-x-rp``."""
    try:
        import espeakng_loader

        lang_dir = Path(espeakng_loader.get_data_path()) / "lang"
    except (ImportError, RuntimeError):
        return [DEFAULT_VOICE]
    return sorted({p.name.lower() for p in lang_dir.rglob("*") if p.is_file()})


def ipa_phonemes(text: str, voice: str = DEFAULT_VOICE) -> list[list[str]]:
    """IPA phonemes per word of ``text`` (stress marks kept), from espeak-ng."""
    return engine().phonemes(text, voice)


def voice_languages() -> dict[str, tuple[str, ...]]:
    """Each voice espeak-ng's data provides and the language it speaks (``en-gb-x-rp``: en)."""
    return {name: (name.split("-")[0].split("+")[0],) for name in available_voices()}
