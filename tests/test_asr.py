"""ASR stage: WER, word handling, forced alignment of real Piper speech, and a voice+asr run."""

from __future__ import annotations

import numpy as np
import pytest
from test_voice import OPTIONS, tiny_revised

from storyreel.backends.asr.sphinx import SphinxAligner, ipa_to_arpabet, letters_to_arpabet
from storyreel.backends.voice.piper import PiperTTS
from storyreel.core.artifacts import read_json
from storyreel.core.config import options_for
from storyreel.core.errors import StoryreelError
from storyreel.media.audio import Audio
from storyreel.media.subtitles import parse_subtitles
from storyreel.stages.asr import (
    align_sentence,
    distribute,
    run_asr,
    wer_status,
    word_error_rate,
)
from storyreel.stages.voice import run_voice
from storyreel.text.words import normalised_words, written_words

ASR_OPTIONS = options_for("asr", backend="pocketsphinx", wer_threshold=0.45, on_wer_fail="warn",
                          max_line_chars=42, max_lines=2, max_cps=20)


@pytest.mark.parametrize(("ref", "hyp", "expected"), [
    ("the old lamp", "the old lamp", 0.0),
    ("the old lamp", "the lamp", 1 / 3),            # deletion
    ("the old lamp", "the old red lamp", 1 / 3),    # insertion
    ("the old lamp", "a old lamp", 1 / 3),          # substitution
    ("the old lamp", "", 1.0),
    ("a b c d", "d c b a", 1.0),
    ("", "", 0.0),
    ("", "noise", 1.0),
])
def test_word_error_rate(ref, hyp, expected):
    assert word_error_rate(ref.split(), hyp.split()) == pytest.approx(expected)


def test_normalised_words_for_alignment_and_wer():
    assert normalised_words("Mara's storm-beaten \u201cLamp\u201d, 'twas!") == [
        "mara's", "storm", "beaten", "lamp", "twas"]


def test_written_words_keep_punctuation_and_attach_bare_symbols():
    assert written_words("\u2014 Mara waits \u2014 then sleeps.") == [
        "\u2014 Mara", "waits \u2014", "then", "sleeps."]


def test_wer_status_flags_or_fails():
    assert wer_status(0.2, 0.45, "warn") == "ok"
    assert wer_status(0.5, 0.45, "warn") == "flagged"
    with pytest.raises(StoryreelError, match=r"WER 0\.500 is above the threshold 0\.450"):
        wer_status(0.5, 0.45, "fail")


def test_distribute_is_proportional_and_tiles_the_span():
    spans = distribute(["a", "abcd", "abc"], 1.0, 2.6)
    assert spans[0] == pytest.approx((1.0, 1.2))
    assert spans[1] == pytest.approx((1.2, 2.0))
    assert spans[2] == pytest.approx((2.0, 2.6))


def test_pronunciations_for_unknown_words():
    assert ipa_to_arpabet(["m", "\u02c8\u0251\u02d0\u0279", "\u0279", "\u0259"]) == [
        "M", "AA", "R", "AH"]
    assert letters_to_arpabet("Tilly") == ["T", "IH", "L", "IY"]


@pytest.fixture(scope="module")
def aligner() -> SphinxAligner:
    return SphinxAligner(options_for("asr"))


def test_alignment_of_real_speech_with_an_unknown_name(aligner):
    piper = PiperTTS({**options_for("voice"), "voice": None, "seed": 0})
    text = "Quorelda lit the old lamp at the top of the tower."
    speech = piper.synthesize(text, 1.0)
    rate = piper.sample_rate
    lead = np.zeros(int(0.5 * rate), dtype=np.float32)
    audio = Audio(np.concatenate([lead, speech, lead]), rate)
    start, end = 0.5, 0.5 + len(speech) / rate
    words, times, aligned = align_sentence(aligner, audio, {"text": text, "start": start,
                                                            "end": end}, 0.1)
    assert aligned and words[0] == "Quorelda" and len(times) == len(words) == 11
    starts = [s for s, _ in times]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)
    assert all(start <= s <= e <= end for s, e in times)
    assert times[0][0] < start + 0.3  # the name is found at the start, not skipped
    assert times[-1][1] > end - 0.4


def test_alignment_failure_falls_back_to_interpolated_times(aligner):
    noise = np.random.default_rng(0).normal(0, 0.1, 16000).astype(np.float32)
    words, times, aligned = align_sentence(aligner, Audio(noise, 16000), {
        "text": "The old lamp was lit at the very top.", "start": 0.1, "end": 0.9}, 0.05)
    assert not aligned and len(times) == len(words) == 9
    assert times[0][0] == pytest.approx(0.1) and times[-1][1] == pytest.approx(0.9)


def test_voice_and_asr_make_valid_artifacts_and_subtitles(tmp_path):
    revised = tiny_revised()
    meta = run_voice(revised, OPTIONS, None, tmp_path / "narration.wav", tmp_path / "voice.json")
    assert meta["backend"] == "piper" and meta["fallback_reason"] is None
    paths = [tmp_path / n for n in ("words.json", "subtitles.srt", "subtitles.vtt")]
    run_asr(revised, meta, tmp_path / "narration.wav", ASR_OPTIONS, *paths)
    doc = read_json(paths[0], "words")
    assert [w["text"] for w in doc["words"]][:2] == ["Quorelda", "lit"]
    assert all(w["aligned"] for w in doc["words"])
    assert doc["wer"]["reference_words"] == 15 and doc["wer"]["heard"]
    spans = {s["id"]: (s["start"], s["end"]) for s in meta["sentences"]}
    for w in doc["words"]:
        assert spans[w["sentence"]][0] <= w["start"] <= w["end"] <= spans[w["sentence"]][1]
    starts = [w["start"] for w in doc["words"]]
    assert paths[2].read_text().startswith("WEBVTT\n\n")
    for path in paths[1:]:
        cues = parse_subtitles(path)
        assert len(cues) >= 3
        assert all(min(abs(c.start - s) for s in starts) <= 0.150 for c in cues)


def test_wer_fail_mode_stops_the_stage(tmp_path):
    revised = tiny_revised()
    meta = run_voice(revised, {**OPTIONS, "backend": "espeak"}, None, tmp_path / "n.wav",
                     tmp_path / "v.json")
    strict = {**ASR_OPTIONS, "wer_threshold": 0.0, "on_wer_fail": "fail"}
    paths = [tmp_path / n for n in ("w.json", "s.srt", "s.vtt")]
    with pytest.raises(StoryreelError, match="above the threshold 0.000"):
        run_asr(revised, meta, tmp_path / "n.wav", strict, *paths)
    assert not any(p.exists() for p in paths)
