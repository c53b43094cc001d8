"""ASR stage: word timings by forced alignment, an intelligibility check, and subtitles.

The story's language picks the aligner (:func:`storyreel.core.languages.pick_aligner`): the
configured backend when it knows the language, else the first of ``fallback`` that does
(``voice``: the word timings the voice reported, for any language its voices speak).

1. Each sentence's text is force-aligned against its own stretch of the narration (from the
   sentence boundaries in ``voice.json``, with a small margin), which keeps utterances short
   and robust however long the narration. When a sentence cannot be aligned its words are
   spread over its span in proportion to their length and marked ``aligned: false``. In
   scripts written without spaces (Chinese, Japanese) every character is a unit of its own.
2. Free recognition of each sentence gives what a listener would hear; the word error rate
   (WER) against the script flags the narration (or fails the job with ``on_wer_fail: fail``)
   when it is above ``wer_threshold``. An aligner that hears nothing leaves it not measured.
3. Subtitles (SRT and WebVTT) are built from the word timings, with the line length and
   reading speed of the story's language (``cue_limits``; see
   :mod:`storyreel.media.subtitles`).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import jiwer
import numpy as np

from storyreel.backends.asr import AsrBackend
from storyreel.core import languages, registry
from storyreel.core.artifacts import read_json, write_json
from storyreel.core.errors import ConfigError, StoryreelError
from storyreel.job.context import JobContext
from storyreel.media.audio import Audio, read_wav, segment
from storyreel.media.subtitles import build_cues, write_srt, write_vtt
from storyreel.text.words import normalised_words, written_units

log = logging.getLogger(__name__)

MARGIN_S = 0.1  # audio kept around each sentence for alignment and recognition


# --------------------------------------------------------------------------------------------
# Words and WER


def word_error_rate(reference: list[str], hypothesis: list[str]) -> float:
    """Word error rate (jiwer): substitutions, deletions and insertions over the reference
    length. An empty reference gives 0 for an empty hypothesis, else 1."""
    if not reference:
        return 0.0 if not hypothesis else 1.0
    if not hypothesis:
        return 1.0
    return float(jiwer.wer(" ".join(reference), " ".join(hypothesis)))


def wer_status(value: float, threshold: float, on_fail: str) -> str:
    """``ok`` or ``flagged``; with ``on_fail == "fail"`` a WER above threshold raises."""
    if value <= threshold:
        return "ok"
    message = f"narration WER {value:.3f} is above the threshold {threshold:.3f}"
    if on_fail == "fail":
        raise StoryreelError(message + " (stages.asr.on_wer_fail: fail)")
    log.warning("%s: flagged", message)
    return "flagged"


# --------------------------------------------------------------------------------------------
# Alignment


def distribute(words: list[str], start: float, end: float) -> list[tuple[float, float]]:
    """Spread words over ``[start, end]`` in proportion to their letter counts."""
    weights = np.array([max(1, sum(c.isalpha() for c in w)) for w in words], dtype=float)
    edges = start + (end - start) * np.concatenate([[0.0], np.cumsum(weights)]) / weights.sum()
    return [(float(edges[i]), float(edges[i + 1])) for i in range(len(words))]


def align_sentence(aligner: AsrBackend, audio: Audio, sentence: dict[str, Any], margin: float,
                   timed: bool = False
                   ) -> tuple[list[str], list[tuple[float, float]], bool]:
    """Written units of one sentence (voice.json's record), their times in the narration, and
    whether aligned. ``timed``: the aligner reads the voice's word timings and takes the
    written units; an audio aligner takes their dictionary words."""
    text, start, end = sentence["text"], float(sentence["start"]), float(sentence["end"])
    words = written_units(text)
    parts = [[w] for w in words] if timed else [normalised_words(w) for w in words]
    flat = [p for part in parts for p in part]
    offset = max(0.0, start - margin)
    record = {**sentence, "words": [{**w, "start": float(w["start"]) - offset,
                                     "end": float(w["end"]) - offset}
                                    for w in sentence.get("words") or []]}
    spans = aligner.align(segment(audio, offset, end + margin), audio.sample_rate, flat, record)
    if spans is None or len(spans) != len(flat) or any(not p for p in parts):
        log.warning("sentence '%s' could not be aligned; word times interpolated", text)
        return words, distribute(words, start, end), False
    times: list[tuple[float, float]] = []
    k = 0
    for part in parts:  # a hyphenated written word spans its dictionary words
        first, last = spans[k], spans[k + len(part) - 1]
        k += len(part)
        s = min(max(first[0] + offset, start), end)
        times.append((s, min(max(last[1] + offset, s), end)))
    return words, _monotonic(times), True


def _monotonic(times: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Make starts non-decreasing and ends no earlier than starts."""
    out: list[tuple[float, float]] = []
    floor = 0.0
    for s, e in times:
        s = max(s, floor)
        out.append((s, max(e, s)))
        floor = s
    return out


def _margins(spans: list[dict[str, Any]], duration: float) -> list[float]:
    """Per-sentence margin: MARGIN_S, but never reaching into a neighbour's speech."""
    out = []
    for i, s in enumerate(spans):
        before = s["start"] - (spans[i - 1]["end"] if i else 0.0)
        after = (spans[i + 1]["start"] if i + 1 < len(spans) else duration) - s["end"]
        out.append(max(0.0, min(MARGIN_S, before / 2 if i else before, after / 2)))
    return out


def align_narration(aligner: AsrBackend, audio: Audio, meta: dict[str, Any],
                    timed: bool = False) -> tuple[list[dict[str, Any]], list[str | None]]:
    """Word timings of the whole narration, and what free recognition heard per sentence
    (None where the aligner hears nothing)."""
    words: list[dict[str, Any]] = []
    heard: list[str | None] = []
    sentences = meta["sentences"]
    for sentence, margin in zip(sentences, _margins(sentences, audio.duration_s), strict=True):
        start, end = float(sentence["start"]), float(sentence["end"])
        texts, times, aligned = align_sentence(aligner, audio, sentence, margin, timed)
        words.extend({"text": t, "start": round(s, 3), "end": round(e, 3),
                      "sentence": sentence["id"], "aligned": aligned}
                     for t, (s, e) in zip(texts, times, strict=True))
        heard.append(aligner.recognize(segment(audio, start - margin, end + margin),
                                       audio.sample_rate))
    return words, heard


# --------------------------------------------------------------------------------------------
# The stage


def check_inputs(revised: dict[str, Any], meta: dict[str, Any]) -> None:
    """voice.json must speak exactly the revised sentences."""
    expected = [(s["id"], s["text"]) for scene in revised["scenes"] for s in scene["sentences"]]
    spoken = [(s["id"], s["text"]) for s in meta["sentences"]]
    if expected != spoken:
        raise StoryreelError("voice.json does not match revised.json (rerun the voice stage)")


def words_document(revised: dict[str, Any], meta: dict[str, Any], backend: str,
                   words: list[dict[str, Any]], heard: list[str | None],
                   options: dict[str, Any]) -> dict[str, Any]:
    """The ``words.json`` document, with the WER check applied (not measured when the aligner
    heard nothing)."""
    language = str(revised["language"])
    reference = normalised_words(" ".join(s["text"] for s in meta["sentences"]), language)
    threshold = float(options["wer_threshold"])
    value: float | None = None
    status = "not_measured"
    if any(h is not None for h in heard):
        value = word_error_rate(reference, normalised_words(" ".join(h or "" for h in heard),
                                                            language))
        status = wer_status(value, threshold, str(options["on_wer_fail"]))
    doc = {
        "story": revised["story"],
        "backend": backend,
        "language": language,
        "duration_s": float(meta["duration_s"]),
        "words": words,
        "sentences": [{"id": s["id"], "scene": s["scene"], "start": s["start"],
                       "end": s["end"]} for s in meta["sentences"]],
        "wer": {"value": None if value is None else round(value, 3), "threshold": threshold,
                "status": status,
                "reference_words": len(reference), "heard": " ".join(h for h in heard if h)},
    }
    return doc


def model_usage(aligner: Any) -> dict[str, Any] | None:
    """Model name, loads, load time and peak memory of a model backend, else None."""
    module = __import__(type(aligner).__module__, fromlist=["usage"])
    usage = getattr(module, "usage", None)
    if usage is None:
        return None
    return {"name": str(getattr(aligner, "model_name", "")), **usage()}


def cue_limits(options: dict[str, Any], language: str) -> tuple[int, float]:
    """(characters per line, characters per second) of subtitles in ``language``: its entry in
    ``cue_limits`` (or its language's), else ``max_line_chars`` and ``max_cps``."""
    limits = {k.lower(): v for k, v in options["cue_limits"].items()}
    own = next((limits[p] for p in languages.prefixes(language) if p in limits), {})
    return (int(own.get("max_line_chars", options["max_line_chars"])),
            float(own.get("max_cps", options["max_cps"])))


def run_asr(revised: dict[str, Any], meta: dict[str, Any], wav_path: str | Path,
            options: dict[str, Any], words_path: str | Path, srt_path: str | Path,
            vtt_path: str | Path) -> dict[str, Any]:
    """Align, check and write ``words.json`` and the subtitles; return the words document."""
    check_inputs(revised, meta)
    language = str(revised["language"])
    try:
        backend = languages.pick_aligner(language, options, str(meta["backend"]))
    except ValueError as exc:
        raise ConfigError(f"asr: {exc}") from None
    aligner = registry.create("asr", {**options, "backend": backend, "language": language})
    timed = registry.spec("asr", backend).word_timings
    words, heard = align_narration(aligner, read_wav(wav_path), meta, timed)
    doc = words_document(revised, meta, backend, words, heard, options)
    usage = model_usage(aligner)
    if usage:
        doc["model"] = usage
    line_chars, cps = cue_limits(options, language)
    cues = build_cues(words, line_chars, int(options["max_lines"]), cps,
                      duration_s=doc["duration_s"])
    write_json(words_path, doc, "words")
    write_srt(srt_path, cues)
    write_vtt(vtt_path, cues)
    unaligned = sum(not w["aligned"] for w in words)
    log.info("%s: %d words (%d interpolated) aligned by asr/%s, WER %s (%s), %d cues",
             revised["story"], len(words), unaligned, backend, doc["wer"]["value"],
             doc["wer"]["status"], len(cues))
    return doc


def main(smk: Any, job: JobContext) -> None:
    """Snakemake entry point (rule ``asr``)."""
    revised = read_json(smk.input.revised, "revised")
    meta = read_json(smk.input.meta, "voice")
    run_asr(revised, meta, smk.input.wav, dict(smk.params.options), smk.output.words,
            smk.output.srt, smk.output.vtt)
