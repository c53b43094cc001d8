"""Subtitle cues from word timings, SRT/WebVTT writing and parsing (storyreel.media.subtitles)."""

from __future__ import annotations

import pytest

from storyreel.media.subtitles import (
    Cue,
    build_cues,
    parse_subtitles,
    parse_text,
    partition,
    to_srt,
    to_vtt,
    wrap,
    write_srt,
    write_vtt,
)


def timed(sentence: str, text: str, start: float, per_word: float = 0.3,
          gap: float = 0.05) -> list[dict]:
    """Synthetic word timings: each word ``per_word`` long with ``gap`` between words."""
    words, t = [], start
    for word in text.split():
        words.append({"text": word, "start": round(t, 3), "end": round(t + per_word, 3),
                      "sentence": sentence})
        t += per_word + gap
    return words


LONG = ("The keeper climbed the long iron stairs to the lamp room while the storm rolled in "
        "from the sea and the rain hammered the glass of every window")
WORDS = timed("sc01_01", LONG, 0.2) + timed("sc01_02", "She waited.", 11.0) \
    + timed("sc02_01", "At dawn the boat came home.", 13.0)


def test_wrap_balances_lines_and_respects_limits():
    words = "one two three four five six seven".split()
    lines = wrap(words, 20, 2)
    assert lines is not None and len(lines) == 2
    assert all(len(line) <= 20 for line in lines)
    assert " ".join(lines) == " ".join(words)
    assert abs(len(lines[0]) - len(lines[1])) <= 6
    assert wrap(words, 10, 2) is None
    assert wrap(["short"], 42, 2) == ["short"]


def test_partition_returns_fitting_balanced_cuts():
    words = LONG.split()
    cuts = partition(words, 2, 42, 2)
    assert cuts is not None and cuts[-1] == len(words)
    assert partition(words, 1, 42, 2) is None  # too long for one two-line cue


@pytest.mark.parametrize(("max_chars", "max_lines"), [(42, 2), (20, 1), (32, 3)])
def test_cues_respect_line_limits_and_cover_every_word_once(max_chars, max_lines):
    cues = build_cues(WORDS, max_chars, max_lines, 20.0, duration_s=16.0)
    for cue in cues:
        assert 1 <= len(cue.lines) <= max_lines
        assert all(len(line) <= max_chars for line in cue.lines)
    assert " ".join(" ".join(c.lines) for c in cues).split() == [w["text"] for w in WORDS]


def test_cues_never_span_sentences_and_start_on_a_word():
    cues = build_cues(WORDS, 42, 2, 20.0, duration_s=16.0)
    sentence_of = {}
    for w in WORDS:
        sentence_of.setdefault(w["start"], w["sentence"])
    for cue in cues:
        assert cue.start in sentence_of  # starts exactly at a word's start
        inside = [w for w in WORDS if cue.start <= w["start"] < cue.end]
        assert len({w["sentence"] for w in inside}) == 1


def test_cues_do_not_overlap_and_respect_reading_speed_when_time_allows():
    cues = build_cues(WORDS, 42, 2, 15.0, duration_s=16.0)
    for a, b in zip(cues, cues[1:], strict=False):
        assert a.end <= b.start
    for cue in cues:
        assert cue.chars / (cue.end - cue.start) <= 15.0 + 1e-6


def test_short_cue_extends_into_silence_to_the_minimum_length():
    words = timed("sc01_01", "Go.", 1.0, per_word=0.2) + timed("sc01_02", "Now.", 5.0)
    cues = build_cues(words, 42, 2, 20.0, duration_s=6.0, min_cue_s=0.8)
    assert cues[0].end - cues[0].start == pytest.approx(0.8, abs=0.002)


def test_cue_is_not_extended_over_the_next_sentence():
    words = timed("sc01_01", "Go.", 1.0, per_word=0.2) + timed("sc01_02", "Now.", 1.3)
    cues = build_cues(words, 42, 2, 20.0, duration_s=3.0)
    assert cues[0].end <= cues[1].start == pytest.approx(1.3)


def test_too_fast_speech_is_split_into_more_cues():
    text = "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima"
    fast = timed("sc01_01", text, 0.0, per_word=0.1, gap=0.0) + timed("sc01_02", "mike", 1.2)
    relaxed = build_cues(fast, 42, 2, 100.0, duration_s=2.0)
    strict = build_cues(fast, 42, 2, 20.0, duration_s=2.0)
    assert len(relaxed) == 2 and len(relaxed[0].lines) == 2
    assert len(strict) > len(relaxed)
    assert all(len(cue.lines) == 1 for cue in strict)


def test_srt_and_vtt_formats():
    cues = [Cue(0.2, 1.5, ("Hello there,", "keeper.")), Cue(3661.007, 3662.0, ("Late.",))]
    srt = to_srt(cues)
    assert srt.startswith("1\n00:00:00,200 --> 00:00:01,500\nHello there,\nkeeper.\n\n2\n")
    assert "01:01:01,007 --> 01:01:02,000" in srt
    vtt = to_vtt(cues)
    assert vtt.startswith("WEBVTT\n\n00:00:00.200 --> 00:00:01.500\n")
    assert "01:01:01.007 --> 01:01:02.000\nLate.\n" in vtt


def test_write_and_parse_round_trip(tmp_path):
    cues = build_cues(WORDS, 42, 2, 20.0, duration_s=16.0)
    write_srt(tmp_path / "s.srt", cues)
    write_vtt(tmp_path / "s.vtt", cues)
    for name in ("s.srt", "s.vtt"):
        parsed = parse_subtitles(tmp_path / name)
        assert [(c.start, c.end, c.lines) for c in parsed] == [
            (round(c.start, 3), round(c.end, 3), c.lines) for c in cues]


def test_parser_ignores_vtt_notes_identifiers_and_settings():
    text = ("\ufeffWEBVTT - title\n\nNOTE a comment\n\nintro\n00:01.000 --> 00:02.500 "
            "align:start\nFirst line\n\n2\r\n00:00:03,000 --> 00:00:04,000\r\nSecond\r\n")
    cues = parse_text(text)
    assert cues == [Cue(1.0, 2.5, ("First line",)), Cue(3.0, 4.0, ("Second",))]


def test_cue_start_errors_follow_the_words_and_refuse_other_text():
    from storyreel.media.quality import cue_start_errors
    from storyreel.media.subtitles import Cue

    words = [{"text": t, "start": s} for t, s in
             [("The", 0.2), ("fox", 0.5), ("ran.", 0.8), ("It", 1.6), ("rained.", 1.9)]]
    cues = [Cue(0.25, 1.2, ("The fox ran.",)), Cue(1.5, 2.5, ("It rained.",))]
    assert cue_start_errors(cues, words) == pytest.approx([0.05, 0.1])
    with pytest.raises(ValueError, match="says"):
        cue_start_errors([Cue(0.2, 1.2, ("The cat ran.",)), cues[1]], words)
    with pytest.raises(ValueError, match="carry 3 of 5"):
        cue_start_errors(cues[:1], words)


def test_every_cue_within_reading_speed_even_for_fast_speech():
    """Fast speech with pauses between sentences: whatever the aligner, no cue reads faster
    than max_cps when the narration as a whole allows it."""
    import random

    rng = random.Random(3)
    vocabulary = ("keeper lantern whale calf storm harbour mother winter robot garden "
                  "station seedling quiet the a and of to").split()
    words, t = [], 0.2
    for n in range(1, 30):
        sentence = f"sc01_{n:02d}"
        for _ in range(rng.randint(3, 14)):
            length = rng.uniform(0.12, 0.3)  # ~25 characters per second: too fast to read
            words.append({"text": rng.choice(vocabulary), "start": round(t, 3),
                          "end": round(t + length, 3), "sentence": sentence})
            t += length
        t += rng.uniform(0.4, 1.2)  # the pause between sentences
    cues = build_cues(words, 42, 2, 20.0, duration_s=t + 0.5)
    assert max(c.chars / (c.end - c.start) for c in cues) <= 20.0 + 1e-6
    for a, b in zip(cues, cues[1:], strict=False):
        assert a.end <= b.start
    assert " ".join(" ".join(c.lines) for c in cues).split() == [w["text"] for w in words]
