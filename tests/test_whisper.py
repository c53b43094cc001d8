"""asr/faster-whisper: the mapping of heard words onto the script's words, and a tiny random
Whisper converted with CTranslate2's converter and loaded by faster-whisper (no download)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from storyreel.core.artifacts import validate
from storyreel.media.audio import write_wav
from storyreel.text.alignment import map_words


def test_heard_words_keep_the_script_spelling_and_take_the_heard_times():
    script = ["Mara,", "twenty-one", "lanterns", "glowed."]
    heard = [("mara", 0.1, 0.4), ("twenty", 0.5, 0.7), ("one", 0.7, 0.9),
             ("lantern", 1.0, 1.4), ("glowed", 1.5, 1.9)]
    times, matched = map_words(script, heard, 0.0, 2.0)
    assert matched == 2  # "mara" and "glowed"; the rest falls between them
    assert times[0] == (0.1, 0.4) and times[3] == (1.5, 1.9)
    assert 0.4 <= times[1][0] <= times[1][1] <= times[2][0] <= times[2][1] <= 1.5


def test_nothing_heard_spreads_words_over_the_span():
    times, matched = map_words(["a", "whale", "calf"], [], 1.0, 2.0)
    assert matched == 0
    assert times[0][0] == 1.0 and times[-1][1] == pytest.approx(2.0)


def test_a_misheard_word_keeps_its_place():
    times, matched = map_words(["The", "keeper", "rows."],
                               [("the", 0.0, 0.2), ("kipper", 0.3, 0.6), ("rows", 0.7, 1.0)],
                               0.0, 1.2)
    assert times[1] == (0.3, 0.6)


@pytest.fixture(scope="module")
def whisper_dir(tmp_path_factory):
    pytest.importorskip("faster_whisper", reason="needs the whisper extra")
    pytest.importorskip("transformers", reason="the converter needs transformers (llm extra)")
    from storyreel.models.tiny import build_tiny_whisper

    return str(build_tiny_whisper(tmp_path_factory.mktemp("tiny-whisper") / "ct2"))


@pytest.mark.whisper
def test_tiny_whisper_through_the_asr_stage(whisper_dir, tmp_path):
    """A random Whisper hears garbage: words.json keeps the script's words (interpolated where
    nothing matched), the WER gate flags it, the model is loaded once for every sentence."""
    from storyreel.core.config import load_config
    from storyreel.stages.asr import run_asr

    sr = 16000
    sentences, cursor, audio = [], 0.3, [np.zeros(int(0.3 * sr), np.float32)]
    texts = ["Mara lit the lamp.", "The whale calf swam home."]
    rng = np.random.default_rng(0)
    for n, text in enumerate(texts, 1):
        length = 0.35 * len(text.split())
        audio += [0.05 * rng.standard_normal(int(length * sr)).astype(np.float32),
                  np.zeros(int(0.4 * sr), np.float32)]
        sentences.append({"id": f"sc01_{n:02d}", "scene": "sc01", "text": text,
                          "start": round(cursor, 3), "end": round(cursor + length, 3)})
        cursor += length + 0.4
    wav = tmp_path / "narration.wav"
    write_wav(wav, np.concatenate(audio), sr)
    meta = {"duration_s": round(cursor, 3), "sentences": sentences, "backend": "piper"}
    revised = {"story": "tiny", "language": "en", "scenes": [
        {"id": "sc01", "sentences": [{"id": s["id"], "text": s["text"]} for s in sentences]}]}
    options = load_config({"stages": {"asr": {
        "backend": "faster-whisper", "model": whisper_dir, "device": "cpu", "beam_size": 1,
        "wer_threshold": 0.5}}})["stages"]["asr"]
    doc = run_asr(revised, meta, wav, options, tmp_path / "words.json", tmp_path / "s.srt",
                  tmp_path / "s.vtt")
    validate(json.loads((tmp_path / "words.json").read_text()), "words")
    assert [w["text"] for w in doc["words"]] == " ".join(texts).split()
    assert doc["backend"] == "faster-whisper"
    assert doc["wer"]["status"] == "flagged"
    assert doc["model"]["loads"] == 1 and doc["model"]["name"] == whisper_dir
    with pytest.raises(Exception, match="WER"):
        run_asr(revised, meta, wav, {**options, "on_wer_fail": "fail"}, tmp_path / "w2.json",
                tmp_path / "s2.srt", tmp_path / "s2.vtt")



def test_missing_whisper_extra_names_it(monkeypatch):
    import sys

    from storyreel.core import registry
    from storyreel.core.errors import MissingExtraError

    monkeypatch.setitem(sys.modules, "faster_whisper", None)
    monkeypatch.delitem(sys.modules, "storyreel.backends.asr.faster_whisper", raising=False)
    with pytest.raises(MissingExtraError, match=r"storyreel\[whisper\]"):
        registry.get("asr", "faster-whisper")
