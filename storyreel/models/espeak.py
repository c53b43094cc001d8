"""The espeak-ng library through ``espeakng-loader`` (the library and its data ship as wheels):
speech for the ``voice/espeak`` backend, and phonemes (IPA) for words the aligner's dictionary
does not know (:func:`ipa_phonemes`, ``asr/pocketsphinx``).

The shared library is driven with ctypes: synchronous synthesis into memory through a callback,
so no audio device, subprocess or system package is needed. The callback also receives
espeak-ng's events: each word's position in the text and the sample where its speech begins,
the voice's own word timings (:meth:`_Engine.synthesize`). The voices and the languages each
speaks come from ``espeak_ListVoices`` (:func:`voice_languages`).

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

_EVENT_LIST_END, _EVENT_WORD = 0, 1


class _Event(ctypes.Structure):
    """espeak_EVENT (speak_lib.h); ``id`` is a union of a number and a pointer."""

    _fields_ = [("type", ctypes.c_int), ("unique_identifier", ctypes.c_uint),
                ("text_position", ctypes.c_int), ("length", ctypes.c_int),
                ("audio_position", ctypes.c_int), ("sample", ctypes.c_int),
                ("user_data", ctypes.c_void_p), ("id", ctypes.c_void_p)]


class _Voice(ctypes.Structure):
    """espeak_VOICE (speak_lib.h): ``languages`` is a list of (priority byte, name, NUL)
    ended by a zero byte."""

    _fields_ = [("name", ctypes.c_char_p), ("languages", ctypes.c_void_p),
                ("identifier", ctypes.c_char_p), ("gender", ctypes.c_ubyte),
                ("age", ctypes.c_ubyte), ("variant", ctypes.c_ubyte), ("xx1", ctypes.c_ubyte),
                ("score", ctypes.c_int), ("spare", ctypes.c_void_p)]


_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int,
                             ctypes.POINTER(_Event))
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
        self.lib.espeak_ListVoices.restype = ctypes.POINTER(ctypes.POINTER(_Voice))
        self.sample_rate = int(self.lib.espeak_Initialize(
            _AUDIO_OUTPUT_SYNCHRONOUS, 0, str(self.data_path).encode(), _INIT_DONT_EXIT))
        if self.sample_rate <= 0:
            raise TTSLoadError(f"espeak: espeak_Initialize failed with data at {self.data_path}")
        self._chunks: list[np.ndarray] = []
        self._words: list[tuple[int, int]] = []
        self._callback = _CALLBACK(self._collect)  # kept alive as long as the engine
        self.lib.espeak_SetSynthCallback(self._callback)
        self._voice: str | None = None

    def _collect(self, wav: Any, count: int, events: Any) -> int:
        if count > 0 and wav:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(count,)).copy())
        i = 0
        while events and events[i].type != _EVENT_LIST_END:
            if events[i].type == _EVENT_WORD:  # 1-based character position, sample
                self._words.append((events[i].text_position - 1, events[i].sample))
            i += 1
        return 0

    def voices(self) -> dict[str, tuple[str, ...]]:
        """Every voice's file name (``pt-br``) and its languages, best first."""
        found: dict[str, tuple[str, ...]] = {}
        listed = self.lib.espeak_ListVoices(None)
        i = 0
        while listed[i]:
            voice = listed[i].contents
            spoken: list[tuple[int, str]] = []
            address = voice.languages
            while (priority := ctypes.c_ubyte.from_address(address).value) != 0:
                name = ctypes.string_at(address + 1).decode("ascii", "replace")
                spoken.append((priority, name))
                address += 2 + len(name)
            file = voice.identifier.decode("utf-8").rsplit("/", 1)[-1].lower()
            found[file] = tuple(name for _, name in sorted(spoken, key=lambda p: p[0]))
            i += 1
        return found

    def set_voice(self, voice: str) -> None:
        if voice != self._voice:
            if self.lib.espeak_SetVoiceByName(voice.encode()) != 0:
                raise StoryreelError(f"espeak: cannot select voice '{voice}'")
            self._voice = voice

    def synthesize(self, text: str, voice: str, rate: int
                   ) -> tuple[np.ndarray, list[tuple[int, int]]]:
        """Speak ``text`` into int16 samples; with each word espeak-ng spoke as (its first
        character's index in ``text``, the sample where its speech begins), in speaking order.
        """
        with _LOCK:
            self.set_voice(voice)
            self.lib.espeak_SetParameter(_PARAM_RATE, int(rate), 0)
            self._chunks, self._words = [], []
            data = text.encode("utf-8")
            status = self.lib.espeak_Synth(ctypes.c_char_p(data), len(data) + 1, 0,
                                           _POS_CHARACTER, 0, _CHARS_UTF8, None, None)
            self.lib.espeak_Synchronize()
            if status != 0:
                raise StoryreelError(f"espeak: synthesis failed (status {status}) for '{text}'")
            chunks, self._chunks = self._chunks, []
            words, self._words = self._words, []
        return (np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int16)), words

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
    return sorted(voice_languages())


def ipa_phonemes(text: str, voice: str = DEFAULT_VOICE) -> list[list[str]]:
    """IPA phonemes per word of ``text`` (stress marks kept), from espeak-ng."""
    return engine().phonemes(text, voice)


@cache
def voice_languages() -> dict[str, tuple[str, ...]]:
    """Each voice espeak-ng's data provides and the languages it speaks, best first, as
    espeak-ng lists them (``pt-br``: pt-br, pt; ``cmn``: cmn, zh-cmn, zh)."""
    try:
        return engine().voices()
    except TTSLoadError:
        return {DEFAULT_VOICE: ("en-us", "en")}
