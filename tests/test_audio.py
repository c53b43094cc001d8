"""WAV I/O, resampling, silence and trimming (storyreel.media.audio)."""

from __future__ import annotations

import numpy as np
import pytest

from storyreel.media.audio import (
    AudioError,
    read_wav,
    resample,
    segment,
    silence,
    speech_bounds,
    to_int16,
    trim_silence,
    write_wav,
)


def tone(freq: float, seconds: float, rate: int, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def dominant_hz(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples))
    return float(np.argmax(spectrum)) * rate / len(samples)


def test_wav_round_trip_is_16_bit_mono_and_exact_to_a_quantum(tmp_path):
    samples = tone(440, 0.5, 22050)
    path = tmp_path / "a.wav"
    write_wav(path, samples, 22050)
    audio = read_wav(path)
    assert audio.sample_rate == 22050
    assert len(audio.samples) == len(samples)
    assert np.max(np.abs(audio.samples - samples)) <= 1.0 / 32767
    assert np.array_equal(to_int16(audio.samples), to_int16(samples))
    assert [p.name for p in tmp_path.iterdir()] == ["a.wav"]  # no temporary file left behind


def test_write_clips_out_of_range_samples(tmp_path):
    write_wav(tmp_path / "loud.wav", np.array([2.0, -3.0, 0.25], dtype=np.float32), 8000)
    assert read_wav(tmp_path / "loud.wav").samples.tolist() == pytest.approx(
        [1.0, -1.0, 0.25], abs=1e-4)


def test_reading_a_non_wav_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.wav"
    bad.write_text("not audio")
    with pytest.raises(AudioError, match="cannot read WAV"):
        read_wav(bad)


@pytest.mark.parametrize(("rate_in", "rate_out"), [(22050, 16000), (16000, 22050), (8000, 8000)])
def test_resample_keeps_length_ratio_and_pitch(rate_in, rate_out):
    samples = tone(440, 1.0, rate_in)
    out = resample(samples, rate_in, rate_out)
    assert len(out) == round(len(samples) * rate_out / rate_in)
    assert dominant_hz(out, rate_out) == pytest.approx(440, abs=2)
    middle = out[len(out) // 4: 3 * len(out) // 4]
    assert np.max(np.abs(middle)) == pytest.approx(0.5, abs=0.02)


def test_silence_and_trimming():
    rate = 16000
    speech = tone(300, 0.5, rate)
    padded = np.concatenate([silence(0.3, rate), speech, silence(0.4, rate)])
    assert len(silence(0.3, rate)) == 4800
    start, end = speech_bounds(padded, rate)
    assert abs(start - 4800) <= 160 and abs(end - (4800 + 8000)) <= 160
    trimmed = trim_silence(padded, rate, keep_s=0.02)
    assert abs(len(trimmed) - (8000 + 2 * 320)) <= 320
    assert len(trim_silence(silence(1.0, rate), rate)) == 0


def test_segment_clamps_to_the_audio(tmp_path):
    write_wav(tmp_path / "s.wav", tone(200, 1.0, 8000), 8000)
    audio = read_wav(tmp_path / "s.wav")
    assert len(segment(audio, 0.25, 0.75)) == 4000
    assert len(segment(audio, -1.0, 5.0)) == 8000
    assert len(segment(audio, 0.9, 0.1)) == 0
