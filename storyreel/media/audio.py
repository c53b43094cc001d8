"""WAV audio in one place: read and write (atomically), resampling, silence and trimming.

Audio is handled as mono ``float32`` numpy arrays in ``[-1, 1]`` plus a sample rate; WAV files
are mono 16-bit PCM. Everything here is pure and deterministic.
"""

from __future__ import annotations

import os
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from storyreel.core.artifacts import atomic_path
from storyreel.core.errors import StoryreelError

_INT16_MAX = 32767.0


class AudioError(StoryreelError):
    """A WAV file cannot be read or is not in a supported format."""


@dataclass(frozen=True)
class Audio:
    """Mono samples (float32 in [-1, 1]) and their sample rate."""

    samples: np.ndarray
    sample_rate: int

    @property
    def duration_s(self) -> float:
        """Length in seconds."""
        return len(self.samples) / float(self.sample_rate)



def to_int16(samples: np.ndarray) -> np.ndarray:
    """Float samples in [-1, 1] to int16 (clipped, rounded)."""
    clipped = np.clip(np.asarray(samples, dtype=np.float64), -1.0, 1.0)
    return np.round(clipped * _INT16_MAX).astype("<i2")


def write_wav(path: str | os.PathLike[str], samples: np.ndarray, sample_rate: int) -> None:
    """Write mono 16-bit PCM atomically (float input in [-1, 1] or int16)."""
    arr = np.asarray(samples)
    pcm = arr.astype("<i2") if arr.dtype == np.int16 else to_int16(arr)
    with atomic_path(path) as tmp, wave.open(str(tmp), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(int(sample_rate))
        wav.writeframes(pcm.tobytes())


def read_wav(path: str | os.PathLike[str]) -> Audio:
    """Read a 16-bit PCM WAV (stereo is averaged to mono) as float32 samples."""
    try:
        with wave.open(str(Path(path)), "rb") as wav:
            channels, width, rate = wav.getnchannels(), wav.getsampwidth(), wav.getframerate()
            frames = wav.readframes(wav.getnframes())
    except (OSError, EOFError, wave.Error) as exc:
        raise AudioError(f"{path}: cannot read WAV: {exc}") from exc
    if width != 2:
        raise AudioError(f"{path}: only 16-bit PCM WAV is supported (got {8 * width}-bit)")
    pcm = np.frombuffer(frames, dtype="<i2").reshape(-1, channels).astype(np.float32)
    return Audio(pcm.mean(axis=1) / _INT16_MAX, rate)


def silence(seconds: float, sample_rate: int) -> np.ndarray:
    """``seconds`` of digital silence."""
    return np.zeros(max(0, int(round(seconds * sample_rate))), dtype=np.float32)


def resample(samples: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    """Band-limited resampling with libsoxr (high quality), exactly ``round(n * out / in)``
    samples long."""
    import soxr

    x = np.asarray(samples, dtype=np.float32)
    if rate_in == rate_out or len(x) == 0:
        return x
    n_out = int(round(len(x) * rate_out / rate_in))
    out = soxr.resample(x, rate_in, rate_out, quality="HQ")
    return np.pad(out, (0, max(0, n_out - len(out))))[:n_out].astype(np.float32)


def speech_bounds(samples: np.ndarray, sample_rate: int, threshold_db: float = -40.0,
                  frame_s: float = 0.01) -> tuple[int, int]:
    """Sample range ``[start, end)`` holding the speech: frames above ``threshold_db`` of peak.

    Returns ``(0, 0)`` for silent input.
    """
    x = np.abs(np.asarray(samples, dtype=np.float32))
    peak = float(x.max()) if len(x) else 0.0
    if peak <= 0.0:
        return 0, 0
    frame = max(1, int(frame_s * sample_rate))
    n = len(x) // frame * frame
    level = 10.0 ** (threshold_db / 20.0) * peak
    frames = x[:n].reshape(-1, frame).max(axis=1) if n else x[None, :].max(axis=1)
    loud = np.flatnonzero(frames >= level)
    if len(loud) == 0:
        return 0, 0
    start = int(loud[0]) * frame
    end = min(len(x), (int(loud[-1]) + 1) * frame)
    return start, end


def speech_span(samples: np.ndarray, sample_rate: int, keep_s: float = 0.02,
                threshold_db: float = -40.0) -> tuple[int, int]:
    """The samples ``[first, last)`` that trimming keeps: the speech and ``keep_s`` around it
    (``(0, 0)`` for silence)."""
    start, end = speech_bounds(samples, sample_rate, threshold_db)
    if end <= start:
        return 0, 0
    keep = int(keep_s * sample_rate)
    return max(0, start - keep), min(len(samples), end + keep)


def trim_silence(samples: np.ndarray, sample_rate: int, keep_s: float = 0.02,
                 threshold_db: float = -40.0) -> np.ndarray:
    """Cut leading and trailing silence, keeping ``keep_s`` around the speech."""
    first, last = speech_span(samples, sample_rate, keep_s, threshold_db)
    return np.asarray(samples[first:last], dtype=np.float32)


def segment(audio: Audio, start_s: float, end_s: float) -> np.ndarray:
    """Samples between two times (clamped to the audio)."""
    a = max(0, int(round(start_s * audio.sample_rate)))
    b = min(len(audio.samples), int(round(end_s * audio.sample_rate)))
    return audio.samples[a:max(a, b)]


# --------------------------------------------------------------------------------------------
# Shared by the speech backends


class TTSLoadError(StoryreelError):
    """A speech backend cannot load its library or model (the voice stage may fall back)."""


def check_voice(voice: str, voices: list[str]) -> None:
    """Raise a :class:`StoryreelError` listing the voices when ``voice`` is not one of them.

    A ``+variant`` suffix (espeak-ng style, e.g. ``en-us+m3``) is ignored for the check.
    """
    if voice.split("+", 1)[0].lower() not in {v.lower() for v in voices}:
        shown = ", ".join(voices[:60]) + (" ..." if len(voices) > 60 else "")
        raise StoryreelError(f"unknown voice '{voice}'; available voices: {shown}")
